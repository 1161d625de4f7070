using System.Diagnostics;
using System.Text;
using Aicp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aicp.Tests.Sdk.Packaging;

/// <summary>
/// A new user's path, end to end: the SDK packed into a local folder feed, the agent template installed and instantiated
/// into a temporary folder, built against the packed package (no project reference), run against a real hub, and a
/// second tiny program, also built against the package, submits a task to it.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class NewUserPathTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(4);

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("aicp-new-user-");

    public void Dispose()
    {
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a process may still hold a file for a moment; the folder is under the temp directory
        }
    }

    [Fact]
    public async Task PackedSdk_TemplateAgentAndTinySubmitter_TaskCompletes()
    {
        var version = $"0.1.0-t{DateTime.UtcNow:yyyyMMddHHmmss}";
        var feed = Path.Combine(_root.FullName, "feed");
        await DotnetAsync(ExternalTool.RepositoryRoot, "pack", "Aicp.Packages.slnf", "-c", "Release", "-o", feed, $"-p:VersionSuffix={version[6..]}");
        Assert.True(File.Exists(Path.Combine(feed, $"Aicp.Agent.Sdk.{version}.nupkg")), "the SDK package");
        await File.WriteAllTextAsync(Path.Combine(_root.FullName, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="aicp-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);

        await DotnetAsync(_root.FullName, "new", "install", Path.Combine(ExternalTool.RepositoryRoot, "templates", "aicp-agent"));
        await DotnetAsync(_root.FullName, "new", "aicp-agent", "-n", "EchoAgent", "--sdkVersion", version);
        await WriteSubmitterAsync(Path.Combine(_root.FullName, "Submit"), version);
        await DotnetAsync(_root.FullName, "build", "EchoAgent");
        await DotnetAsync(_root.FullName, "build", "Submit");
        Assert.DoesNotContain("ProjectReference", await File.ReadAllTextAsync(Path.Combine(_root.FullName, "EchoAgent", "EchoAgent.csproj")));

        await using var h = await HubHarness.StartAsync();
        using var agent = Start(_root.FullName, "EchoAgent/bin/Debug/net10.0/EchoAgent.dll", $"--Agent:HubUrl={h.Hub.BaseUrl}");
        try
        {
            await TestTimeouts.Eventually(() => h.Registry.GetById("echo-1") is not null, "the template's agent registered", TimeSpan.FromSeconds(60));

            var submitted = await DotnetAsync(_root.FullName, "Submit/bin/Debug/net10.0/Submit.dll", h.Hub.BaseUrl.ToString());

            Assert.Contains("hello from a package|20", submitted);
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
        }

        await TestTimeouts.Eventually(() => h.Registry.Count == 0, "the agent gone with its process");
    }

    private static Task WriteSubmitterAsync(string directory, string version)
    {
        Directory.CreateDirectory(directory);
        return Task.WhenAll(
            File.WriteAllTextAsync(Path.Combine(directory, "Submit.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Aicp.Agent.Sdk" Version="{version}" />
                  </ItemGroup>
                </Project>
                """),
            File.WriteAllTextAsync(Path.Combine(directory, "Program.cs"), """
                using Aicp.Agent.Sdk.Client;
                using Aicp.Agent.Sdk.Connection;

                await using var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = args[0], Protocol = HubProtocol.MessagePack });
                var reply = await client.SubmitAsync<EchoRequest, EchoReply>("text.echo", new EchoRequest("hello from a package"));
                Console.WriteLine($"{reply.Text}|{reply.Length}");

                public sealed record EchoRequest(string Text);

                public sealed record EchoReply(string Text, int Length);
                """));
    }

    /// <summary>The environment of a user's machine for these commands, kept apart from this one's caches.</summary>
    private ProcessStartInfo Command(string directory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Templates installed here, and test-only package versions, stay out of the machine's caches.
        info.Environment["DOTNET_CLI_HOME"] = Path.Combine(_root.FullName, "home");
        info.Environment["NUGET_PACKAGES"] = Path.Combine(_root.FullName, "packages");
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("MSBuildExtensionsPath");
        info.Environment.Remove("MSBuildSDKsPath");
        info.Environment.Remove("MSBUILD_EXE_PATH");
        return info;
    }

    private Process Start(string directory, params string[] args)
    {
        var process = Process.Start(Command(directory, args))!;
        process.BeginOutputReadLine(); // drained, so the agent never blocks on a full pipe
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<string> DotnetAsync(string directory, params string[] args)
    {
        using var process = Process.Start(Command(directory, args))!;
        var text = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Step);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        text.Append(await stdout).Append(await stderr);
        output.WriteLine($"$ dotnet {string.Join(' ', args)} -> {process.ExitCode}");
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited {process.ExitCode}:\n{text}");
        return text.ToString();
    }
}
