#!/usr/bin/env bash
# Installs (when missing) and starts what the test suite needs on a Debian machine:
#   - a Docker engine on unix:///var/run/docker.sock that leaves the host firewall alone,
#   - the local image motey/busybox:local (no registry is reachable: built from busybox-static),
#   - the mosquitto broker binary (tests start their own instances on loopback addresses; none is left running),
#   - Debian's python3-zmq (pyzmq on libzmq 4.3.4): the original Motey's publishers, talking to our ipc:// listener,
#   - Debian's chromium (/usr/bin/chromium): the dashboard tests drive it through Playwright, which never downloads a browser.
# Safe to run again: what already runs is left alone. Needs root for apt-get and dockerd.
set -euo pipefail

log() { echo "test-services: $*" >&2; }

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v iptables >/dev/null 2>&1 || need_packages+=(iptables)
[ -x /bin/busybox ] || command -v busybox >/dev/null 2>&1 || need_packages+=(busybox-static)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_packages+=(mosquitto)
# Debian's interpreter by path: a python3 earlier on PATH (pyenv, venv) does not see Debian's packages.
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import zmq' >/dev/null 2>&1 || need_packages+=(python3-zmq)
# By path, as tests/Motey.Dashboard.Tests looks for it (MOTEY_CHROMIUM points them at another one).
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
if [ ${#need_packages[@]} -gt 0 ]; then
  log "installing ${need_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi

socket=/var/run/docker.sock
engine_up() { curl -sf --max-time 2 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; }

if ! engine_up; then
  log "starting dockerd"
  mkdir -p /var/log
  # --iptables=false --ip-masq=false --bridge=none: leave the host firewall and its FORWARD policy alone.
  # setsid: its own session, so whoever kills the process group that ran this script does not take the engine along.
  setsid nohup dockerd --host "unix://$socket" --iptables=false --ip-masq=false --bridge=none \
    >/var/log/motey-test-dockerd.log 2>&1 &
  for _ in $(seq 1 100); do engine_up && break; sleep 0.2; done
  engine_up || { log "dockerd did not answer on $socket; its log:"; tail -30 /var/log/motey-test-dockerd.log >&2; exit 1; }
fi

image=motey/busybox:local
if ! docker image inspect "$image" >/dev/null 2>&1; then
  log "building $image from busybox-static"
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  busybox_bin=$(command -v busybox || echo /bin/busybox)
  cp "$busybox_bin" "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$image" >/dev/null
fi
log "docker engine, $image, mosquitto, python3-zmq and chromium ready"
