#!/usr/bin/env bash
# Every command in README.md and docs/, and how CI runs it. tests/Aicp.Tests/Docs/DocCommandsTests.cs checks that the
# documents and this list name the same commands (a command added to a document without a line here fails the tests),
# that a test named here exists, and that a command run in another form keeps the documented program, subcommand and
# options. Each line is one of:
#   run '<command>'                     runs it as documented
#   run_as '<command>' '<what runs>'    runs it with its placeholders filled or its sizes reduced (measurements)
#   run_no_gpu '<command>' '<text>'     runs it; on a machine without an NVIDIA driver it must fail saying <text>
#   by_test '<command>' '<test>'        a test runs it (see the test)
#   by_ci_run '<command>'               .ci/run runs it itself
# Usage: bash .ci/checks/docs-commands.sh [substring]   (only the commands containing substring)
set -uo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
only=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0

selected() { [ -z "$only" ] || [[ "$1" == *"$only"* ]]; }
result() { if [ "$1" -eq 0 ]; then echo "ok: $2"; passed=$((passed + 1)); else echo "FAILED ($1): $2" >&2; failed=$((failed + 1)); fi; }
execute() { # a variable assignment stays in this shell; anything else runs in bash with a time limit
  if [[ "$1" =~ ^[A-Z_]+=[^\ ]*$ ]]; then eval "export $1"; return 0; fi
  WORK="$work" timeout "${LIMIT:-900}" bash -c "$1" </dev/null
}
run() { selected "$1" || return 0; echo "== $1"; execute "$1"; result $? "$1"; }
run_as() { selected "$1" || return 0; echo "== $1"; echo "   as: $2"; execute "$2"; result $? "$1"; }
run_no_gpu() {
  selected "$1" || return 0; echo "== $1"
  local out status
  out=$(execute "$1" 2>&1); status=$?; echo "$out" | tail -n 5
  if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then result "$status" "$1"
  elif [ "$status" -ne 0 ] && [[ "$out" == *"$2"* ]]; then result 0 "$1 (no GPU here: fails as documented)"
  else result 1 "$1 (no GPU here: expected a failure saying '$2')"; fi
}
by_test() { :; }
by_ci_run() { :; }

# README.md
by_ci_run 'bash scripts/test.sh'
run 'dotnet run --project src/SampleAgents -- demo'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- <command>' 'dotnet run -c Release --project bench/Aicp.Bench -- --help'
by_test 'dotnet run --project src/Hub' 'Aicp.Tests.Docs.ReadmePiecesTests.RunningThePiecesSeparately_AsDocumented_TasksComplete'
by_test 'dotnet run --project src/Hub -- --urls http://127.0.0.1:6000' 'Aicp.Tests.Docs.ReadmePiecesTests.RunningThePiecesSeparately_AsDocumented_TasksComplete'
by_test 'dotnet run --project src/SampleAgents -- labelee --hub http://127.0.0.1:5000 --id fast-1 --delay-ms 5' 'Aicp.Tests.Docs.ReadmePiecesTests.RunningThePiecesSeparately_AsDocumented_TasksComplete'
by_test 'dotnet run --project src/SampleAgents -- labelee --hub http://127.0.0.1:5000 --id flaky-1 --delay-ms 40 --jitter-ms 20 --fail-rate 0.2' 'Aicp.Tests.Docs.ReadmePiecesTests.RunningThePiecesSeparately_AsDocumented_TasksComplete'
by_test 'dotnet run --project src/SampleAgents -- swarm --hub http://127.0.0.1:5000 --count 8' 'Aicp.Tests.Docs.ReadmePiecesTests.RunningThePiecesSeparately_AsDocumented_TasksComplete'
by_test 'dotnet run --project src/SampleAgents -- submit --hub http://127.0.0.1:5000 --method image.label --count 500 --concurrency 16 --strategy least-loaded' 'Aicp.Tests.Docs.ReadmePiecesTests.RunningThePiecesSeparately_AsDocumented_TasksComplete'
by_test 'dotnet run --project src/SampleAgents -- submit --hub http://127.0.0.1:5000 --count 500 --json' 'Aicp.Tests.Docs.ReadmePiecesTests.RunningThePiecesSeparately_AsDocumented_TasksComplete'
by_test 'docker-compose stop' 'Aicp.Tests.SampleAgents.Cli.SampleAgentsProcessTests.Labelee_Sigterm_DrainsTheTaskInProgressAndExitsZero' # it sends SIGTERM
# No Docker engine on CI machines: the compose file is validated instead of started.
run_as 'docker-compose up --build' 'docker-compose -f docker-compose.yaml config -q'
run_as 'docker-compose up' 'docker-compose -f docker-compose.yaml config -q'
run 'bash scripts/fetch-mnist.sh'
by_test 'dotnet run --project src/SampleAgents -- onnx --model models/digits.onnx --capability digits.cnn --hub http://127.0.0.1:5000 --id cnn-1 --batch 32' 'Aicp.Tests.Docs.ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits'
by_test 'dotnet run --project src/SampleAgents -- submit --hub http://127.0.0.1:5000 --method digits.cnn --tensor input --count 1000' 'Aicp.Tests.Docs.ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits'

# README.md and docs/FRONT-DOORS.md: HTTP tasks (against a hub with keys and an agent; the test checks the answers)
by_test 'curl -s http://127.0.0.1:5000/v1/tasks -H "Authorization: Bearer $KEY" --json '"'"'{"method":"image.label","payload":{"image":"<base64 PNG>"},"strategy":"least-loaded","timeoutMs":5000}'"'"'' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_CurlExamples_AnswerAsDocumented'
by_test 'curl -s -i http://127.0.0.1:5000/v1/tasks -H "Authorization: Bearer $KEY" --json '"'"'{"method":"text.nobody"}'"'"'' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_CurlExamples_AnswerAsDocumented'

# README.md and docs/FRONT-DOORS.md: the OpenAI-compatible door (against a hub with keys, deploy/routing.yaml and the chat agent; the test checks the answers)
by_test 'dotnet run --project src/SampleAgents -- chat --hub http://127.0.0.1:5000' 'Aicp.Tests.SampleAgents.Cli.SampleAgentsProcessTests.Chat_AsDocumented_ServesTheOpenAiDoorAndDrainsOnSigterm'
by_test 'curl -s http://127.0.0.1:5000/v1/chat/completions -H "Authorization: Bearer $KEY" --json '"'"'{"model":"aicp-demo-chat","messages":[{"role":"user","content":"Hello"}]}'"'"'' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_OpenAiCurlExamples_AnswerAsDocumented'
by_test 'curl -sN http://127.0.0.1:5000/v1/chat/completions -H "Authorization: Bearer $KEY" --json '"'"'{"model":"aicp-demo-chat","messages":[{"role":"user","content":"Hello"}],"stream":true}'"'"'' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_OpenAiCurlExamples_AnswerAsDocumented'
by_test 'curl -s http://127.0.0.1:5000/v1/models -H "Authorization: Bearer $KEY"' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_OpenAiCurlExamples_AnswerAsDocumented'
# README.md and docs/FRONT-DOORS.md: MCP tools as raw JSON-RPC (against a hub with keys and an agent; the test checks the answers)
by_test 'curl -s http://127.0.0.1:5000/mcp -H "Authorization: Bearer $KEY" -H "Accept: application/json, text/event-stream" --json '"'"'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"route_request","arguments":{"target":"image.label","payload":{"image":"<base64 PNG>"},"timeoutMs":5000}}}'"'"'' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_McpCurlExamples_AnswerAsDocumented'
by_test 'curl -s http://127.0.0.1:5000/mcp -H "Authorization: Bearer $KEY" -H "Accept: application/json, text/event-stream" --json '"'"'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"route_request","arguments":{"target":"text.nobody"}}}'"'"'' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_McpCurlExamples_AnswerAsDocumented'
by_test 'curl -s http://127.0.0.1:5000/mcp -H "Authorization: Bearer $ADMIN_KEY" -H "Accept: application/json, text/event-stream" --json '"'"'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_models","arguments":{}}}'"'"'' 'Aicp.Tests.Docs.DocSnippetTests.FrontDoors_McpCurlExamples_AnswerAsDocumented'

# docs/SDK.md
by_test 'dotnet pack Aicp.Packages.slnf -o <folder>' 'Aicp.Tests.Sdk.Packaging.NewUserPathTests.PackedSdk_TemplateAgentAndTinySubmitter_TaskCompletes'
by_test 'dotnet new' 'Aicp.Tests.Sdk.Packaging.NewUserPathTests.PackedSdk_TemplateAgentAndTinySubmitter_TaskCompletes' # install, then the aicp-agent template

# docs/SECURITY.md
by_test 'printf %s "$KEY" | sha256sum' 'Aicp.Tests.Docs.DocSnippetTests.Security_KeyHashCommand_PrintsTheHashTheHubStores'
by_test 'dotnet Aicp.Hub.dll --urls https://0.0.0.0:5001 --Aicp:Security:KeysFile=/etc/aicp/keys.json --Kestrel:Certificates:Default:Path=/etc/aicp/tls/hub.crt --Kestrel:Certificates:Default:KeyPath=/etc/aicp/tls/hub.key' 'Aicp.Tests.Hub.Hosting.HubStartupTests.Program_DocumentedHttpsCommand_ServesTlsToAKeyHolder'
by_test 'dotnet run --project src/SampleAgents -- submit --hub https://hub.example.com:5001 --token "$KEY" --ca-cert ca.crt' 'Aicp.Tests.Integration.Security.TlsTests.SubmitCommand_HttpsHubWithCaCert_CompletesTasks'

# docs/LABELLER.md
run_as 'dotnet run -c Release --project src/SampleAgents -- train --out models/digits.onnx' \
  'dotnet run -c Release --project src/SampleAgents -- train --out "$WORK/digits.onnx" --limit 2000 --epochs 1' # the full run takes minutes; not over the shipped file
by_test 'dotnet run -c Release --project src/SampleAgents -- train --arch mlp --out models/digits-mlp.onnx' 'Aicp.Tests.Docs.ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits'
by_test 'dotnet run --project src/SampleAgents -- onnx --model models/digits.onnx --capability digits.cnn --hub http://127.0.0.1:5000 --id cnn-1 [--batch 32] [--concurrency 64] [--protocol messagepack] [--device auto|cpu|cuda]' 'Aicp.Tests.SampleAgents.Cli.SampleAgentsCliTests.Parse_OnnxEveryOption_BindsModelCapabilityAndAgent'
by_test 'dotnet run --project src/SampleAgents -- onnx --model models/digits.onnx --capability digits.cnn --hub http://127.0.0.1:5000 --id cnn-1 --batch 32 --concurrency 64' 'Aicp.Tests.Docs.ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits'
by_test 'dotnet run --project src/SampleAgents -- submit --hub http://127.0.0.1:5000 --method digits.cnn --tensor input --count 2000 --concurrency 64 --protocol messagepack --json' 'Aicp.Tests.Docs.ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits'
by_test 'dotnet run --project src/SampleAgents -- onnx --model models/digits-mlp.onnx --capability digits.mlp --hub http://127.0.0.1:5000 --id mlp-1 --batch 16' 'Aicp.Tests.Docs.ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits'
by_test 'dotnet run --project src/SampleAgents -- submit --hub http://127.0.0.1:5000 --method digits.mlp --tensor pixels --shape 1,784 --count 1000 --json' 'Aicp.Tests.Docs.ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits'
run 'dotnet build -c Release src/SampleAgents'
run_as 'dotnet src/SampleAgents/bin/Release/net10.0/Aicp.SampleAgents.dll evaluate --device cpu --bench --batch 64 --seconds 3 --runs 5' \
  'dotnet src/SampleAgents/bin/Release/net10.0/Aicp.SampleAgents.dll evaluate --device cpu --bench --batch 64 --seconds 1 --runs 1'
# The GPU build is a 284 MB restore and has nothing to load without an NVIDIA driver: CI runs the CPU build's
# `--device cuda` instead, which must fail with the reason (the GPU build's fallback is described in the text).
run_as 'dotnet run -c Release -p:OnnxRuntimeGpu=true --project src/SampleAgents -- evaluate --device cuda --bench' \
  'if dotnet run -c Release --project src/SampleAgents -- evaluate --device cuda --bench > "$WORK/cuda.txt" 2>&1; then false; else grep -q "CUDA" "$WORK/cuda.txt"; fi'

# docs/BENCHMARKS.md (measurements: CI runs each with every documented option, at a size that takes seconds)
run 'dotnet build -c Release bench/Aicp.Bench'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- e2e [--agents N] [--submitters M] [--inflight K] [--seconds S] [--payload-bytes B] [--protocol json|messagepack] [--binary] [--typed] [--hub-only] [--workstation-gc] [--server-env NAME=VALUE[,NAME=VALUE]] [--warmup S] [--fixed-warmup] [--json]' \
  'dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 1 --submitters 1 --inflight 2 --seconds 1 --payload-bytes 1024 --protocol messagepack --binary --typed --hub-only --workstation-gc --server-env DOTNET_TieredPGO=0 --warmup 1 --fixed-warmup --json'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- connections --agents K [--batch 100] [--json]' 'dotnet run -c Release --project bench/Aicp.Bench -- connections --agents 40 --batch 20 --json'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- failover [--iterations 20] [--timeout-ms 200] [--json]' 'dotnet run -c Release --project bench/Aicp.Bench -- failover --iterations 2 --timeout-ms 100 --json'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 4 --submitters 4 --inflight 8 --seconds 8 --json' 'dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 4 --submitters 4 --inflight 8 --seconds 1 --json'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 4 --submitters 4 --inflight 8 --seconds 8 --fixed-warmup --json' 'dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 4 --submitters 4 --inflight 8 --seconds 1 --fixed-warmup --json'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 4 --submitters 4 --inflight 1 --seconds 8 --json' 'dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 4 --submitters 4 --inflight 1 --seconds 1 --fixed-warmup --json'
run_as 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench e2e --agents 4 --submitters 4 --seconds 10 --json' 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench e2e --agents 4 --submitters 4 --seconds 1 --fixed-warmup --json'
run_as 'dotnet bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll e2e --agents 4 --submitters 4 --seconds 8' 'dotnet bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll e2e --agents 4 --submitters 4 --seconds 1 --fixed-warmup'
# The "before" build is a past commit: CI checks that the commit is there rather than building it.
run_as 'git worktree add /tmp/before 3b2e27f && dotnet build -c Release /tmp/before/bench/Aicp.Bench' 'git cat-file -e "3b2e27f^{commit}"'
run_as 'SECONDS_PER_RUN=6 ROUNDS=5 bench/scripts/e2e-compare.sh before=/tmp/before/bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll after=bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll' \
  'SECONDS_PER_RUN=1 ROUNDS=1 INFLIGHT=1 CONFIGS="messagepack 256 --fixed-warmup" bench/scripts/e2e-compare.sh before=bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll after=bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll'
# The SDK comparison's "before" is a past commit with a bench patch: CI checks the commit is there and the patch applies.
run_as 'git worktree add /tmp/before-sdk 7451f97 && git -C /tmp/before-sdk apply "$PWD/bench/patches/e2e-typed-before-sdk.patch"' \
  'git cat-file -e "7451f97^{commit}" && git worktree add -q --detach "$WORK/before-sdk" 7451f97 && git -C "$WORK/before-sdk" apply --check "$PWD/bench/patches/e2e-typed-before-sdk.patch"; status=$?; git worktree remove --force "$WORK/before-sdk"; exit $status'
run_as 'dotnet build -c Release /tmp/before-sdk/bench/Aicp.Bench && dotnet build -c Release bench/Aicp.Bench' 'dotnet build -c Release bench/Aicp.Bench'
run_as 'DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 ROUNDS=3 INFLIGHT="1 8" CONFIGS="json 256;messagepack 256;messagepack 256 --typed" bench/scripts/e2e-compare.sh before=/tmp/before-sdk/bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll after=bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll' \
  'DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 SECONDS_PER_RUN=1 ROUNDS=1 INFLIGHT=1 CONFIGS="messagepack 256 --typed --fixed-warmup" bench/scripts/e2e-compare.sh before=bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll after=bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll'
run_as 'dotnet bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll dispatch-cost --json' 'dotnet bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll dispatch-cost --tasks 20000 --json'
run_as 'dotnet bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll dispatch-cost --tasks 200000' 'dotnet bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll dispatch-cost --tasks 20000'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- dispatch-cost' 'dotnet run -c Release --project bench/Aicp.Bench -- dispatch-cost --tasks 20000'
run 'B=bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench'
run_as '$B e2e --agents 2 --submitters 2 --seconds 8 --hub-only --protocol json --payload-bytes 256 --json' '$B e2e --agents 2 --submitters 2 --seconds 1 --hub-only --protocol json --payload-bytes 256 --json'
run_as '$B e2e --agents 2 --submitters 2 --seconds 8 --hub-only --protocol messagepack --payload-bytes 256 --json' '$B e2e --agents 2 --submitters 2 --seconds 1 --hub-only --protocol messagepack --payload-bytes 256 --json'
run_as '$B e2e --agents 2 --submitters 2 --seconds 8 --hub-only --protocol json --payload-bytes 65536 --binary --json' '$B e2e --agents 2 --submitters 2 --seconds 1 --hub-only --protocol json --payload-bytes 65536 --binary --json'
run_as '$B e2e --agents 2 --submitters 2 --seconds 8 --hub-only --protocol messagepack --payload-bytes 65536 --binary --json' '$B e2e --agents 2 --submitters 2 --seconds 1 --hub-only --protocol messagepack --payload-bytes 65536 --binary --json'
run_as 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench connections --agents 1000 --json' 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench connections --agents 100 --json'
run_as 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench connections --agents 10000 --batch 200 --json' 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench connections --agents 100 --batch 50 --json'
run 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench failover --json'
run_as 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench dashboard-cost --agents 1000 --rate 1000 --seconds 20 --runs 7' 'bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench dashboard-cost --agents 100 --rate 200 --seconds 2 --runs 1'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- dashboard-cost [--agents 1000] [--rate 1000] [--seconds 20] [--runs 3] [--json]' 'dotnet run -c Release --project bench/Aicp.Bench -- dashboard-cost --agents 100 --rate 200 --seconds 2 --runs 1 --json'

# docs/RELIABILITY.md: the chaos run, and its --json object against the document's example
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- chaos [--tasks N] [--agents N] [--kill-fraction F] [--seed N] [--concurrency N] [--max-seconds N] [--protocol json|messagepack] [--json] [--hedging] [--door signalr|stream|http] [--cluster N] [--logs DIR]' \
  'dotnet run -c Release --project bench/Aicp.Bench -- chaos --tasks 3000 --agents 6 --kill-fraction 0.3 --seed 42 --concurrency 64 --max-seconds 120 --protocol messagepack --hedging --door http --cluster 0 --logs "$WORK/chaos-logs" --json > "$WORK/chaos.json" && tail -n 1 "$WORK/chaos.json" > "$WORK/chaos-object.json" && node -e '"'"'
const fs = require("fs");
const doc = fs.readFileSync("docs/RELIABILITY.md", "utf8").split("```json\n")[1].split("```")[0];
const [documented, printed] = [JSON.parse(doc), JSON.parse(fs.readFileSync(process.argv[1], "utf8"))];
const keys = o => Object.keys(o).sort().join(",");
if (keys(documented) !== keys(printed)) { console.error("documented: " + keys(documented) + "\nprinted:    " + keys(printed)); process.exit(1); }
if (!printed.pass) { console.error("the chaos run failed"); process.exit(1); }'"'"' "$WORK/chaos-object.json"'

# docs/CLUSTER.md: two hub nodes on a loopback redis-server, a labelee given both, the cluster view; run as processes by the test
by_test 'redis-server --port 6379 --bind 127.0.0.1 --save '"'"''"'"' --appendonly no' 'Aicp.Tests.Docs.ClusterDocTests.TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled'
by_test 'dotnet run --project src/Hub -- --urls http://127.0.0.1:5001 --Aicp:Cluster:Redis=127.0.0.1:6379 --Aicp:Cluster:NodeId=node-1' 'Aicp.Tests.Docs.ClusterDocTests.TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled'
by_test 'dotnet run --project src/Hub -- --urls http://127.0.0.1:5002 --Aicp:Cluster:Redis=127.0.0.1:6379 --Aicp:Cluster:NodeId=node-2' 'Aicp.Tests.Docs.ClusterDocTests.TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled'
by_test 'dotnet run --project src/SampleAgents -- labelee --hub http://127.0.0.1:5001,http://127.0.0.1:5002 --id labelee-1' 'Aicp.Tests.Docs.ClusterDocTests.TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled'
by_test 'dotnet run --project src/SampleAgents -- submit --hub http://127.0.0.1:5002 --count 200' 'Aicp.Tests.Docs.ClusterDocTests.TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 1 --json' 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 1 --json --tasks 3000 --max-seconds 120'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 2 --json' 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 2 --json --tasks 3000 --max-seconds 120'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 3 --json' 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 3 --json --tasks 3000 --max-seconds 120'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 42 --json' 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 42 --json --tasks 3000 --max-seconds 120'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 42 --protocol messagepack --json' 'dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3 --seed 42 --protocol messagepack --json --tasks 3000 --max-seconds 120'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-cost' 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-cost --tasks 200 --runs 1'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-herding' 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-herding --seconds 2 --rounds 1'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-throughput' 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-throughput --seconds 1 --runs 1'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-memory' 'dotnet run -c Release --project bench/Aicp.Bench -- cluster-memory --agents 50 --idle-seconds 1'
run_as 'docker-compose --profile cluster up --build redis hub-1 hub-2 labelee-c1 labelee-c2' 'docker-compose -f docker-compose.yaml --profile cluster config -q'
by_test 'curl -s http://127.0.0.1:5002/v1/cluster' 'Aicp.Tests.Docs.ClusterDocTests.TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled'

# docs/ROUTING.md
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- routing-sim [--scenario A|B|C|D|E|H] [--json] [--seed N]' 'dotnet run -c Release --project bench/Aicp.Bench -- routing-sim --scenario H --json --seed 20261121'
run_as 'dotnet run -c Release --project bench/Aicp.Bench -- pick-bench [--filter *adaptive*]' 'dotnet run -c Release --project bench/Aicp.Bench -- pick-bench --filter "*random*"'

# docs/OBSERVABILITY.md: dotnet-counters (a .NET global tool, from NuGet) watching a running hub's Aicp.Hub meter
run_as 'dotnet-counters monitor --counters Aicp.Hub' 'dotnet tool install --tool-path "$WORK/tools" dotnet-counters >/dev/null \
  && { dotnet src/Hub/bin/Debug/net10.0/Aicp.Hub.dll --urls http://127.0.0.1:0 > "$WORK/hub.txt" 2>&1 & hub=$!; \
       for i in $(seq 300); do grep -q "Now listening" "$WORK/hub.txt" && break; sleep 0.1; done; \
       timeout 10 "$WORK/tools/dotnet-counters" monitor --counters Aicp.Hub -p $hub > "$WORK/counters.txt" 2>&1; kill $hub; \
       grep -q "aicp_agents_connected" "$WORK/counters.txt" || { cat "$WORK/hub.txt" "$WORK/counters.txt"; false; }; }'

# docs/TESTING.md: a mutation run takes 30-40 minutes a folder, so CI checks its folders, the tool and its command
run_as 'bash scripts/mutation.sh Dispatch' 'bash scripts/mutation.sh --dry-run Dispatch'
run_as 'bash scripts/mutation.sh Routing' 'bash scripts/mutation.sh --dry-run Routing'
run_as 'bash scripts/mutation.sh Health' 'bash scripts/mutation.sh --dry-run Health'
run_as 'bash scripts/mutation.sh' 'bash scripts/mutation.sh --dry-run'

# docs/SECURITY.md: the nginx example, checked by nginx itself when it can be installed
if selected 'nginx -t'; then
  if ! command -v nginx >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1
  fi
  if command -v nginx >/dev/null 2>&1; then
    mkdir -p "$work/nginx/ssl"
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=hub.example.com -keyout "$work/nginx/ssl/hub.key" -out "$work/nginx/ssl/hub.crt" -days 1 2>/dev/null
    { echo "pid $work/nginx/nginx.pid; error_log stderr; events {} http {"
      awk '/^```nginx$/{f=1;next} /^```$/{f=0} f' docs/SECURITY.md | sed "s#/etc/ssl/#$work/nginx/ssl/#"
      echo "}"; } > "$work/nginx/nginx.conf"
    nginx -t -q -c "$work/nginx/nginx.conf"; result $? 'nginx -t on the nginx example of docs/SECURITY.md'
  else
    result 1 'nginx -t on the nginx example of docs/SECURITY.md (nginx is not installed: apt-get install nginx-light)'
  fi
fi

echo "docs commands: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
