#!/usr/bin/env bash
# Updates the process VAL under a running service, without restarting the agent: a new build of Motey.Val.Process
# (another version number) is copied over the running node's plugin folder. `ps` before and after shows the instance
# untouched (same pid, same start time); GET /v1/plugins shows the new version. (The plugin's obj/ is compiled as 0.2.1
# meanwhile; the next build of the repository compiles it back.) Needs a Release build of the
# repository (dotnet build Motey.Host.sln -c Release) and jq. Runs on 127.0.0.77; leaves nothing behind.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
agent=$repo/host/bin/Release/net10.0
ip=${MOTEY_DEMO_IP:-127.0.0.77}
url=http://$ip:5023
work=$(mktemp -d /tmp/motey-plugin-demo.XXXXXX)
motey() { dotnet "$agent/motey.dll" "$@"; }
cleanup() {
  set +e
  if [[ -n "${service:-}" ]]; then
    curl -s -o /dev/null -X DELETE "$url/v1/service/$service"
    sleep 2
  fi
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null
  if [[ -n "${node:-}" ]]; then
    kill "$node" 2>/dev/null
    wait "$node" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/plugins"
cp -r "$agent/plugins/Motey.Val.Process" "$work/plugins/"
cat > "$work/config.ini" <<INI
[WEBSERVER]
ip = $ip
[MQTT]
ip = $ip
[ZEROMQ]
capability_engine_ipc_path = tcp://$ip:5090
[PLUGINS]
path = $work/plugins
[PROCESS]
allowed_executables = /bin/sleep, /usr/bin/sleep
[LOGGER]
log_path = $work/logs
INI
dotnet "$agent/motey.dll" run --config "$work/config.ini" > "$work/agent.out" 2>&1 &
node=$!
until curl -sf -o /dev/null "$url/v1/heartbeat"; do sleep 0.5; done

service=$(printf 'service_name: sleeper\nimages:\n- name: sleep\n  engine: process\n  parameters: {args: [600]}\n' |
  curl -sf -X POST -H 'Content-Type: application/x-yaml' --data-binary @- "$url/v1/service" | jq -r .id)
until [[ $(curl -sf "$url/v1/service/$service" | jq .state) == 2 ]]; do sleep 0.5; done
instance=$(curl -sf "$url/v1/service/$service" | jq -r '.images[0].id')
pid=${instance%%-*}

echo "== before: instance $instance"
ps -o pid,ppid,lstart,etime,args -p "$pid"
motey plugins --url "$url"

echo "== a new build of the process VAL (0.2.1) copied over the running node's plugin folder"
dotnet build "$repo/plugins/Motey.Val.Process/Motey.Val.Process.csproj" -c Release --nologo -v quiet \
  -p:BuildProjectReferences=false -p:Version=0.2.1 -o "$work/build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
cp -r "$work/build/." "$work/plugins/Motey.Val.Process/"
until [[ $(curl -sf "$url/v1/plugins" | jq -r '.[] | select(.name == "Motey.Val.Process") | .version') == 0.2.1.0 ]]; do sleep 0.5; done

echo "== after"
ps -o pid,ppid,lstart,etime,args -p "$pid"
motey plugins --url "$url"
curl -sf "$url/v1/service/$service" | jq -c '{service: .id, state, image: (.images[0] | {id, state, state_message})}'
echo "== the agent's log"
grep -E "Plugin Motey.Val.Process|Engine process" "$work/agent.out" | sed -E 's/^\[[^]]*\] //'
