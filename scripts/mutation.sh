#!/usr/bin/env bash
# Mutation check of the hub core with Stryker.NET (a local tool, .config/dotnet-tools.json): mutates the routing,
# failover and health code, runs the tests that cover each mutant, and prints the mutation score per folder.
# Too slow for .ci/run; run it after any change to the core. docs/TESTING.md has the latest figures.
#
# Usage: bash scripts/mutation.sh [--dry-run] [FOLDER ...]
#          FOLDER: Dispatch, Registry, Routing or Health under src/Hub (default: all four). One folder takes about
#          30-40 minutes on a 2-core machine; run them one at a time while iterating.
#          --dry-run: check the folders and the tool, print the Stryker command, run nothing.
#        MUTATE='Dispatch/TaskDispatcher.Acquire.cs' bash scripts/mutation.sh   (one file, or any Stryker pattern
#          relative to src/Hub, e.g. 'Health/CircuitBreaker.cs{1200..2400}' for a span of characters)
#
# Scope: every .cs file directly in src/Hub/<FOLDER> (the folders have no subfolders), at Stryker's Standard mutation
# level, per-test coverage (each mutant runs only the tests that reach it), a test run per mutant stopping at its
# first failing test.
# Tests run: tests/Aicp.Tests except those that do not exercise the core in this process, or cost seconds per mutant
# for no extra kills: the SDK, sample agent, protocol and docs tests; the security suites; the hub start-up tests
# (separate processes); fuzzing; the JavaScript interop, Prometheus and OTLP export tests (external processes); the
# dashboard's status feed and browser tests (a snapshot a second, chromium); and the MessagePack copies of the
# dispatch and resilience integration suites (the JSON copies run).
# Score per folder: (killed + timeout) / (killed + timeout + survived + no coverage). Mutants judged equivalent are
# marked in the code with "// Stryker disable once <Mutator> : <why>": Stryker reports them as ignored and they count
# neither way (docs/TESTING.md lists them). The report (HTML and JSON) goes to StrykerOutput/<time>/reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dry_run=false
folders=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    -*) echo "unknown option $arg (usage: bash scripts/mutation.sh [--dry-run] [FOLDER ...])" >&2; exit 2 ;;
    *) folders+=("$arg") ;;
  esac
done
[ "${#folders[@]}" -gt 0 ] || folders=(Dispatch Registry Routing Health)

mutate=()
if [ -n "${MUTATE:-}" ]; then
  mutate+=(--mutate "$MUTATE")
else
  for folder in "${folders[@]}"; do
    [ -d "src/Hub/$folder" ] || { echo "no folder src/Hub/$folder" >&2; exit 2; }
    mutate+=(--mutate "$folder/*.cs") # matched against the path relative to src/Hub/Aicp.Hub.csproj
  done
fi

excluded=(
  Aicp.Tests.Sdk. Aicp.Tests.SampleAgents. Aicp.Tests.Protocol. Aicp.Tests.Docs.
  Aicp.Tests.Hub.Security. Aicp.Tests.Hub.Hosting. Aicp.Tests.Integration.Security. Aicp.Tests.Integration.SecurityIntegrationTests
  Aicp.Tests.Integration.FuzzIntegrationTests Aicp.Tests.Integration.MessagePackFuzzIntegrationTests
  Aicp.Tests.Integration.JavaScriptInteropTests Aicp.Tests.Integration.PrometheusScrapeTests
  Aicp.Tests.Integration.PrometheusDeploymentTests Aicp.Tests.Integration.OtlpExportTests
  Aicp.Tests.Integration.StatusFeedIntegrationTests Aicp.Tests.Integration.DashboardBrowserTests
  Aicp.Tests.Integration.MessagePackDispatchIntegrationTests Aicp.Tests.Integration.MessagePackResilienceIntegrationTests
)
filter=""
for name in "${excluded[@]}"; do
  filter+="${filter:+&}FullyQualifiedName!~$name"
done

output="$PWD/StrykerOutput/$(date -u +%Y%m%dT%H%M%SZ)"
command=(dotnet stryker --project Aicp.Hub.csproj --test-project Aicp.Tests.csproj "${mutate[@]}"
  --test-case-filter "$filter" --concurrency "$(nproc)" --reporter Progress --reporter Html --reporter Json
  --output "$output" --skip-version-check)
dotnet tool restore >/dev/null
if $dry_run; then
  dotnet stryker --help >/dev/null # the tool runs
  echo "would run in tests/Aicp.Tests:"
  printf ' %q' "${command[@]}"
  echo
  exit 0
fi

started=$(date +%s)
status=0
(cd tests/Aicp.Tests && "${command[@]}") || status=$?
# Stryker leaves its instrumented build of the hub in the test project's output; rebuild so later test runs
# (dotnet test --no-build included) use the real one.
dotnet build --no-incremental tests/Aicp.Tests >/dev/null || echo "warning: the rebuild after the mutation run failed" >&2
[ "$status" -eq 0 ] || exit "$status"
echo "mutation run took $(( ($(date +%s) - started) / 60 )) min; report: $output/reports/mutation-report.html"

# Score per folder from the JSON report. Ignored mutants that Stryker's own filters removed (outside the scope, or a
# block whose statements are mutated one by one) are not listed; those ignored by a disable comment are.
node - "$output/reports/mutation-report.json" <<'EOF'
const report = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const counts = {};
const equivalent = [], missed = [];
for (const [path, file] of Object.entries(report.files)) {
  const relative = path.replace(/\\/g, "/").replace(/^.*src\/Hub\//, "");
  const folder = relative.includes("/") ? relative.split("/")[0] : ".";
  for (const mutant of file.mutants) {
    const reason = mutant.statusReason || "";
    if (mutant.status === "Ignored" && reason.startsWith("Removed by")) continue;
    const c = (counts[folder] ??= {});
    c[mutant.status] = (c[mutant.status] || 0) + 1;
    const where = `${relative}:${mutant.location.start.line} ${mutant.mutatorName}`;
    if (mutant.status === "Ignored") equivalent.push(`${where}: ${reason}`);
    if (mutant.status === "Survived" || mutant.status === "NoCoverage") missed.push(`${where} (${mutant.status}): ${(mutant.replacement || "").replace(/\s+/g, " ").slice(0, 100)}`);
  }
}
const pad = (s, n) => String(s).padStart(n);
console.log(`${"folder".padEnd(10)} ${pad("score", 7)} ${pad("killed", 7)} ${pad("timeout", 7)} ${pad("survived", 8)} ${pad("no cov", 7)} ${pad("ignored", 7)} ${pad("no build", 8)}`);
for (const folder of Object.keys(counts).sort()) {
  const c = counts[folder], n = k => c[k] || 0;
  const detected = n("Killed") + n("Timeout"), valid = detected + n("Survived") + n("NoCoverage");
  const score = valid ? (100 * detected / valid).toFixed(1) + "%" : "n/a";
  console.log(`${folder.padEnd(10)} ${pad(score, 7)} ${pad(n("Killed"), 7)} ${pad(n("Timeout"), 7)} ${pad(n("Survived"), 8)} ${pad(n("NoCoverage"), 7)} ${pad(n("Ignored"), 7)} ${pad(n("CompileError"), 8)}`);
}
if (missed.length) {
  console.log(`survived or not covered (${missed.length}):`);
  for (const line of missed.sort()) console.log("  " + line);
}
if (equivalent.length) {
  console.log(`ignored as equivalent (${equivalent.length}):`);
  for (const line of equivalent.sort()) console.log("  " + line);
}
EOF
