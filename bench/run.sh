#!/usr/bin/env bash
# Runs the Motey.NET benchmarks (see docs/benchmarks.md): builds the agent, the bare and floor baseline apps and the driver,
# installs wrk when missing, makes sure the Docker engine and motey/busybox:local are there, runs every benchmark
# on loopback addresses of its own, and writes bench/results/<UTC time>/results.md and raw.json (also copied to
# bench/results/latest/). Takes about 7 minutes on 2 cores. Not part of the test suite.
#
#   bench/run.sh                         the default set (all but the security variants), 5 runs each
#   bench/run.sh --runs 3 --only rest,events
#   bench/run.sh --runs 3 --only rest,rest-secured,fanout,fanout-curve   what security costs (about 6 minutes)
#   bench/run.sh --runs 3 --only scale,join,footprint-scale --wait-quiet 10 [--legacy]   issue 16's thousand nodes
#   options: --runs N  --only rest,footprint,deploy,fanout,events (the default set), rest-secured, fanout-curve,
#            scale, join, footprint-scale (with --legacy: the simulated peers behave as the original protocol of main;
#            --placements 20 --warm-up 1 (untimed placements per scale agent first) --scale-sizes 300,1000,2000 --join-sizes 300,1000,2000
#            --join-brokers embedded,mosquitto,bridged --join-timeout 90 --footprint-peers 1000)
#            --wrk-seconds S  --peer-timeout S
#            --events N  --requests N  --wait-quiet S (default 60: wait up to S s for a load average below 1.5)
#            --agent-log-level LEVEL (default: the agent's own, Information)  --keep
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { echo "bench: $*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "wrk is missing: install it as root (apt-get install wrk)"; exit 1; }
  log "installing wrk"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends wrk >/dev/null 2>&1 || {
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends wrk >/dev/null
  }
fi

# The Docker engine (started without touching the firewall) and the local busybox image: the deploy benchmark needs both.
scripts/test-services.sh

log "building (Release)"
dotnet build host -c Release -nologo -clp:ErrorsOnly
dotnet build bench/Motey.Bench.Bare -c Release -nologo -clp:ErrorsOnly
dotnet build bench/Motey.Bench.Floor -c Release -nologo -clp:ErrorsOnly
dotnet build bench/Motey.Bench -c Release -nologo -clp:ErrorsOnly

out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
quiet=(--wait-quiet 60)
case " $* " in *" --wait-quiet "*) quiet=() ;; esac
status=0
bench/Motey.Bench/bin/Release/net10.0/motey-bench run --repo "$root" --out "$out" "${quiet[@]}" "$@" || status=$?
if [ -f "$out/results.md" ]; then
  rm -rf bench/results/latest
  cp -r "$out" bench/results/latest
  log "results: $out/results.md"
fi
exit "$status"
