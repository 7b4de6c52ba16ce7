#!/usr/bin/env bash
# Runs the whole test suite the way CI does, on a fresh Debian machine of this project's kind:
# installs and starts what the tests need, builds everything, runs every test project.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is needed (dotnet is not on PATH)" >&2
  exit 1
fi
# The process VAL launches instances detached through setsid and sh (util-linux, dash: part of every Debian).
for tool in setsid sh; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: '$tool' is missing" >&2; exit 1; }
done

# The Docker engine (with the local busybox image) and the mosquitto binary the tests use.
./scripts/test-services.sh

configuration="${CONFIGURATION:-Release}"
dotnet build Motey.Host.sln -c "$configuration"
# --blame: a test host that crashes is reported with the test it was running; a test that hangs is ended after 15 minutes
# and named, instead of holding the run until CI's limit.
# The console is also kept in a file, so a failure is repeated at the very end: CI shows only the tail of a long run.
log="$(mktemp -t motey-test.XXXXXX.log)"
status=0
dotnet test Motey.Host.sln -c "$configuration" --no-build --logger "console;verbosity=normal" \
  --blame --blame-hang-timeout 15m --blame-hang-dump-type none "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  {
    echo
    echo "==== test.sh: the run failed (exit $status); what failed, repeated from above ===="
    # Each failed test with its message and the first lines of its stack, then each project's outcome.
    grep -a -E -A 20 "^ *Failed [A-Za-z_]" "$log" | head -n 240 || true
    grep -a -n -E "Test Run (Failed|Aborted)|test run was aborted|Test host process crashed|error MSB|error CS|^ *Failed:|^ *Total tests:" "$log" | tail -n 40 || true
    echo "==== (full log: $log) ===="
  }
  # What the console cannot show: a process the kernel killed for memory ends its test host without a word.
  dmesg 2>/dev/null | grep -i -E "out of memory|killed process|oom-kill" | tail -n 20 >&2 || true
fi
exit "$status"
