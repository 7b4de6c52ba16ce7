#!/usr/bin/env bash
# Where the start goes (docs/benchmarks.md, "Start: what the JIT compiles"): starts the agent, the floor app and the bare
# app once each (fresh folders, loopback addresses of their own) with the runtime's JIT summary on
# (DOTNET_JitDisasmSummary, written to a file), polls each one's healthy answer every 10 ms, and prints per program:
# the time to that answer, the CPU time spent by then, and the methods the JIT compiled by then, split into the async
# machinery (AsyncTaskMethodBuilder, state machine boxes: instantiations of CoreLib's generics over the program's own
# state machines, which ReadyToRun cannot precompile outside CoreLib's version bubble), the other generic
# instantiations of the framework's collections, and the rest. The count is read when the answer comes; the runtime
# buffers the file, so it may lag by a few dozen methods. Not part of the test suite; needs the Release builds
# (bench/run.sh builds them) and curl.
#
#   bench/start-jit.sh [--agent DIR] [--runs 3]   DIR: another build of the agent to census (default host/bin/Release/net10.0)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
agent_dir=$root/host/bin/Release/net10.0 runs=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --agent) agent_dir=$2; shift 2 ;; --runs) runs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bare=$root/bench/Motey.Bench.Bare/bin/Release/net10.0/motey-bench-bare
floor=$root/bench/Motey.Bench.Floor/bin/Release/net10.0/motey-bench-floor
for program in "$agent_dir/motey" "$bare" "$floor"; do
  [[ -x $program ]] || { echo "start-jit: $program is missing: build it first (bench/run.sh builds all three)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/motey-start-jit.XXXXXX)
pid=
cleanup() {
  set +e
  [[ -n $pid ]] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  rm -rf "$work"
}
trap cleanup EXIT
ticks=$(getconf CLK_TCK)

# measure NAME URL EXPECTED PROGRAM ARGS...: one start; prints "NAME wall_ms cpu_ms jit_total async generic other tier0"
measure() {
  local name=$1 url=$2 expected=$3; shift 3
  local folder=$work/$name.$RANDOM jit
  mkdir -p "$folder"
  jit=$folder/jit.txt
  local start end code stat cpu lines
  start=$(date +%s%N)
  (cd "$folder" && DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile=$jit exec "$@" > "$folder/out.log" 2>&1 < /dev/null) &
  pid=$!
  while true; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    [[ $code == "$expected" ]] && break
    kill -0 "$pid" 2>/dev/null || { echo "start-jit: $name exited: $(tail -5 "$folder/out.log")" >&2; exit 1; }
    sleep 0.01
  done
  end=$(date +%s%N)
  read -r -a stat < "/proc/$pid/stat"
  cpu=$(( (stat[13] + stat[14]) * 1000 / ticks ))
  lines=$(wc -l < "$jit")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  head -n "$lines" "$jit" | awk -v name="$name" -v wall=$(( (end - start) / 1000000 )) -v cpu="$cpu" '
    / JIT compiled / {
      total++
      if ($0 ~ /\[(Instrumented )?Tier0,/) tier0++
      if ($0 ~ /JIT compiled System\.Runtime\.CompilerServices\.(Async|Configured|TaskAwaiter|ValueTaskAwaiter)/) async++
      else if ($0 ~ /JIT compiled System\.(Collections|Linq|Threading\.Channels|Buffers|Span|ReadOnlySpan)/) generic++
      else other++
    }
    END { printf "%s %d %d %d %d %d %d %d\n", name, wall, cpu, total, async, generic, other, tier0 }'
}

agent_config() {
  local folder=$1 address=$2
  mkdir -p "$folder"
  printf '[WEBSERVER]\nip = %s\n[MQTT]\nip = %s\n[ZEROMQ]\ncapability_engine_ipc_path = tcp://%s:5090\n' "$address" "$address" "$address" > "$folder/config.ini"
  echo "$folder/config.ini"
}

results=$work/results.txt
for run in $(seq 1 "$runs"); do
  config=$(agent_config "$work/agent-config-$run" 127.0.0.91)
  measure agent http://127.0.0.91:5023/v1/heartbeat 204 "$agent_dir/motey" run --config "$config" >> "$results"
  measure floor http://127.0.0.92:5023/ping 200 "$floor" --urls http://127.0.0.92:5023 --address 127.0.0.92 \
    --data "$work/floor-data-$run" --plugin "$agent_dir/plugins/Motey.Val.Simulated/Motey.Val.Simulated.dll" >> "$results"
  measure bare http://127.0.0.93:5023/ping 200 "$bare" --urls http://127.0.0.93:5023 >> "$results"
done
echo "program | to the healthy answer (ms) | CPU by then (ms) | methods JIT-compiled by then | of them: async machinery | framework generics (collections, LINQ, channels, spans) | the rest | at tier 0"
echo "--- | --- | --- | --- | --- | --- | --- | ---"
for name in agent floor bare; do
  # medians over the runs, each column on its own
  awk -v name="$name" '$1 == name' "$results" | python3 -c '
import sys, statistics
rows = [line.split() for line in sys.stdin if line.strip()]
columns = list(zip(*rows))
print(" | ".join([rows[0][0]] + [f"{statistics.median(map(int, c)):,.0f}" for c in columns[1:]]))'
done
echo "(medians of $runs runs; load average $(cut -d' ' -f1-3 /proc/loadavg))"
