#!/usr/bin/env bash
# Runs the e2e hub-only matrix for several builds of the bench, interleaved: in each round every configuration runs
# once per build, the builds' order rotating from round to round, so the load drift of a shared machine spreads over
# all of them. Prints one TSV line per run.
#   bench/scripts/e2e-compare.sh NAME=PATH/Aicp.Bench.dll [NAME=PATH/Aicp.Bench.dll ...]
# Environment: ROUNDS (3), SECONDS_PER_RUN (8), INFLIGHT ("1 8"), CONFIGS (the four protocol/payload pairs below, ';'-separated;
# a configuration may end with more e2e options, e.g. "messagepack 65536 --binary --typed").
set -euo pipefail
rounds=${ROUNDS:-3}; seconds=${SECONDS_PER_RUN:-8}; inflights=${INFLIGHT:-"1 8"}
IFS=';' read -r -a configs <<<"${CONFIGS:-json 256;messagepack 256;json 65536 --binary;messagepack 65536 --binary}"
builds=("$@")
printf 'round\tbuild\tprotocol\tpayload\tinflight\ttasksPerSec\tp50Ms\tp99Ms\thubCpuUs\tagentsCpuUs\tsubmittersCpuUs\tload1\n'
for round in $(seq 1 "$rounds"); do
  shift_by=$(( (round - 1) % ${#builds[@]} ))
  order=("${builds[@]:shift_by}" "${builds[@]:0:shift_by}")
  for inflight in $inflights; do
    for config in "${configs[@]}"; do
      read -r protocol bytes extra <<<"$config"
      for entry in "${order[@]}"; do
        name=${entry%%=*}; dll=${entry#*=}
        json=$(dotnet "$dll" e2e --agents 2 --submitters 2 --seconds "$seconds" --hub-only --inflight "$inflight" \
          --protocol "$protocol" --payload-bytes "$bytes" ${extra:-} --json 2>/dev/null | tail -n 1)
        node -e 'const [r, a] = [JSON.parse(process.argv[1]), process.argv.slice(1)]; console.log([a[1], a[2], a[3], a[4] + (a[5] ? " " + a[5] : ""), a[6],
          Math.round(r.tasksPerSec), r.p50Ms, r.p99Ms, Math.round(r.hubCpuUsPerTask), Math.round(r.agentsCpuUsPerTask), Math.round(r.submittersCpuUsPerTask), a[7]].join("\t"))' \
          "$json" "$round" "$name" "$protocol" "$bytes" "${extra:-}" "$inflight" "$(cut -d' ' -f1 /proc/loadavg)"
      done
    done
  done
done
