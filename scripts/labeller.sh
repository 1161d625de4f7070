#!/usr/bin/env bash
# Runs the labeller's console commands without the SampleAgents program:
#   bash scripts/labeller.sh train    [--out FILE] [--epochs N] [--seed S] ...
#   bash scripts/labeller.sh evaluate [--model FILE] [--bench] ...
# It generates a tiny host project in .cache/labeller-cli (git-ignored) that references
# src/SampleAgents and calls LabellingCommands.TrainAsync / EvaluateAsync, built in Release.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
host="$root/.cache/labeller-cli"
mkdir -p "$host"
cat > "$host/labeller-cli.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
  </PropertyGroup>
  <ItemGroup>
    <FrameworkReference Include="Microsoft.AspNetCore.App" />
    <ProjectReference Include="../../src/SampleAgents/Aicp.SampleAgents.csproj" />
  </ItemGroup>
</Project>
XML
cat > "$host/Program.cs" <<'CS'
using Aicp.SampleAgents.Labelling;
return args.Length == 0 ? Usage() : args[0] switch
{
    "train" => await LabellingCommands.TrainAsync(args[1..]),
    "evaluate" => await LabellingCommands.EvaluateAsync(args[1..]),
    _ => Usage(),
};
static int Usage() { Console.Error.WriteLine("usage: labeller.sh train|evaluate [options]"); return 2; }
CS
cd "$root"
dotnet build "$host/labeller-cli.csproj" -c Release -nologo -v q >&2
exec dotnet "$host/bin/Release/net10.0/labeller-cli.dll" "$@"
