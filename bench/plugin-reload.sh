#!/usr/bin/env bash
# Plugin reload memory (docs/benchmarks.md, "Plugin reload"): starts the built agent with the shipped plugins
# (process, simulated, docker), then reloads all three N times while it runs: each cycle changes a file in every
# plugin folder and asks for a rescan, so each plugin is loaded into a new context, activated, switched to, and its old
# context deactivated and unloaded. Prints the agent's private memory (smaps_rollup Private_*), its RSS and how many
# shadow-copied assemblies it still maps (an old version's stay mapped until its context is collected), after the
# warm-up and every 50 cycles, and at the end which plugins those assemblies belong to. Needs jq and a Release build.
# With --docker-service, a busybox container (motey/busybox:local, see INFRA.md) runs on the node and its logs are read
# before each reload: the engine ping and the container list no longer use Docker.DotNet, the logs do, so only then does
# a reload unload a Docker VAL version that used Docker.DotNet and Newtonsoft.Json.
#
#   bench/plugin-reload.sh [--warm-up 40] [--cycles 200] [--docker-service]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
agent=$root/host/bin/Release/net10.0
warm=40 cycles=200 docker_service=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --warm-up) warm=$2; shift 2 ;; --cycles) cycles=$2; shift 2 ;; --docker-service) docker_service=true; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
ip=127.0.0.78 url=http://127.0.0.78:5023
work=$(mktemp -d /tmp/motey-plugin-reload.XXXXXX)
cleanup() {
  set +e
  [[ -n "${node:-}" ]] && { kill "$node" 2>/dev/null; wait "$node" 2>/dev/null; }
  # The agent leaves its containers running when it stops: remove this bench's.
  [[ -n "${service:-}" ]] && docker ps -aq --filter "label=motey.service.id=$service" | xargs -r docker rm -f > /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cp -r "$agent/plugins" "$work/plugins"
printf '[WEBSERVER]\nip = %s\n[MQTT]\nip = %s\n[ZEROMQ]\ncapability_engine_ipc_path = tcp://%s:5090\n[PLUGINS]\npath = %s\nwatch = false\n[LOGGER]\nlog_path = %s\n' \
  "$ip" "$ip" "$ip" "$work/plugins" "$work/logs" > "$work/config.ini"
dotnet "$agent/motey.dll" run --config "$work/config.ini" > "$work/agent.out" 2>&1 &
node=$!
until curl -sf -o /dev/null "$url/v1/heartbeat"; do sleep 0.5; done
if $docker_service; then
  service=$(printf 'service_name: plugin-reload-bench\nimages:\n- name: motey/busybox:local\n  engine: docker\n  parameters: {command: [sh, -c, "echo ready; sleep 86400"], network_mode: none}\n' \
    | curl -sf -X POST -H 'Content-Type: application/x-yaml' --data-binary @- "$url/v1/service" | jq -r .id)
  until curl -sf "$url/v1/service/$service" | jq -e '.state == 2' > /dev/null; do sleep 0.5; done  # 2: Running
fi

measure() {
  sleep 3
  local private rss mapped
  private=$(awk '/^Private_(Clean|Dirty)/ {s += $2} END {printf "%.1f", s / 1024}' "/proc/$node/smaps_rollup")
  rss=$(awk '/^Rss/ {printf "%.1f", $2 / 1024}' "/proc/$node/smaps_rollup")
  mapped=$(grep -c 'plugin-cache/.*\.dll' "/proc/$node/maps" || true)
  echo "cycle $1: private $private MiB, RSS $rss MiB, plugin assemblies mapped $mapped"
}
reload() {
  if $docker_service; then
    curl -sf -o /dev/null "$url/v1/service/$service/logs?tail=1" || { echo "cycle $1: the container's logs could not be read" >&2; exit 1; }
  fi
  for folder in "$work"/plugins/*/; do echo "$1" > "$folder/reload-stamp.txt"; done
  curl -sf -X POST "$url/v1/plugins/rescan" | jq -e 'all(.[]; .last_reload.outcome == "updated")' > /dev/null \
    || { echo "cycle $1: not every plugin was updated" >&2; curl -s "$url/v1/plugins" >&2; exit 1; }
}
measure 0
for ((i = 1; i <= warm + cycles; i++)); do
  reload "$i"
  if ((i == warm || (i > warm && (i - warm) % 50 == 0))); then measure "$i"; fi
done
echo "assemblies still mapped (count, plugin, file):"
grep -o 'plugin-cache/[^ ]*\.dll' "/proc/$node/maps" | sort -u | awk -F/ '{print $2, $4}' | sort | uniq -c | sort -rn
echo "plugins: $(curl -sf "$url/v1/plugins" | jq -c '[.[] | {name, version, state}]')"
