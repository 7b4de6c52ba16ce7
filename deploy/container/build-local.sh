#!/usr/bin/env bash
# Builds the agent's container image on a machine that reaches no registry (Debian/Ubuntu, x86-64):
#   1. publishes the agent self-contained into artifacts/container/motey (its own build tree: the repository's
#      bin/ and obj/ are left alone),
#   2. makes a base image from this host's own files, the native libraries the published agent loads (found with ldd,
#      plus libssl/libcrypto, which .NET opens at run time for TLS), the CA certificates and a static busybox for
#      /bin/sh, and imports it as motey/runtime-deps:local,
#   3. builds deploy/container/Dockerfile on it: motey/agent:local.
# Idempotent: the image carries a hash of everything it is made of (sources, this folder, the libraries' package
# versions, the SDK); when motey/agent:local already has that hash nothing is done. --force builds anyway.
# Needs: the .NET SDK, a Docker engine this user may use, ldd, busybox-static (apt-get install busybox-static).
set -euo pipefail

image=${MOTEY_IMAGE:-motey/agent:local}
base=${MOTEY_BASE_IMAGE:-motey/runtime-deps:local}
app_uid=1654  # the user of Microsoft's .NET images ("app"); the Dockerfile runs the agent as this uid
force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-local.sh: unknown argument '$arg' (only --force)" >&2; exit 2 ;;
  esac
done

log() { echo "build-local: $*" >&2; }
fail() { echo "build-local: $*" >&2; exit 1; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
work=artifacts/container
mkdir -p "$work"
# One build at a time (two test runs, a test and a person): the second waits, then finds the image up to date.
exec 9>"$work/build.lock"
flock 9

for tool in dotnet docker ldd sha256sum tar; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is needed and not on PATH"
done
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || fail "the Docker engine does not answer this user (is dockerd running, may this user use its socket?)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 \
  || fail "a static busybox is needed for the image's /bin/sh: apt-get install busybox-static"
certificates=/etc/ssl/certs/ca-certificates.crt
[ -s "$certificates" ] || fail "$certificates is missing: apt-get install ca-certificates"

# Everything the image is made of, hashed: the sources the publish reads, this folder, the config, the versions of
# the host packages the base copies files from, and the SDK.
inputs_hash() {
  {
    find host abstractions plugins deploy/container -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0 \
      | sort -z | xargs -0 sha256sum
    sha256sum Directory.Build.props Directory.Packages.props global.json deploy/config.ini .dockerignore
    [ -f nuget.config ] && sha256sum nuget.config
    dpkg-query -W libc6 libstdc++6 libgcc-s1 libssl3 ca-certificates busybox-static 2>/dev/null || echo "no dpkg"
    sha256sum "$busybox" "$certificates"
    dotnet --version
    uname -m
  } | sha256sum | cut -c1-16
}
hash=$(inputs_hash)
label=org.motey.build-hash
if ! $force && [ "$(docker image inspect --format "{{index .Config.Labels \"$label\"}}" "$image" 2>/dev/null || true)" = "$hash" ]; then
  log "$image is up to date (build hash $hash)"
  exit 0
fi

# 1. The agent, self-contained for this machine's architecture, with plugins/<Name>/ as the normal build lays them out.
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) fail "no .NET runtime identifier known for $(uname -m)" ;;
esac
publish=$work/motey
log "publishing the agent (self-contained, $rid) into $publish"
rm -rf "$publish"
dotnet publish host -c Release -r "$rid" --self-contained --artifacts-path "$work/build" -o "$publish" \
  --disable-build-servers -nologo -v quiet \
  || fail "dotnet publish failed"
[ -x "$publish/motey" ] || fail "the publish has no motey executable in $publish"
for plugin in Motey.Val.Docker Motey.Val.Process Motey.Val.Simulated; do
  [ -f "$publish/plugins/$plugin/$plugin.dll" ] || fail "the publish lacks plugins/$plugin/$plugin.dll"
  [ ! -e "$publish/plugins/$plugin/System.Private.CoreLib.dll" ] \
    || fail "plugins/$plugin carries a runtime of its own: it was published self-contained (see plugins/CopyPlugins.targets)"
done

# 2. The base: the libraries the published executable and native libraries link against, found with ldd (a library
# no file here provides, such as LTTng for the optional trace provider, is left out: the runtime does without), and
# libssl/libcrypto 3, which System.Security.Cryptography.Native.OpenSsl opens with dlopen. No ICU: the agent runs
# with invariant globalization. No zlib: .NET 10 links its own into System.IO.Compression.Native. Each library goes
# to the path it has here, in a merged-/usr tree.
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/usr/{bin,sbin,lib,lib64,lib/ssl} "$rootfs"/etc/ssl/certs "$rootfs"/tmp "$rootfs"/root "$rootfs"/home/app
for dir in bin sbin lib lib64; do ln -s "usr/$dir" "$rootfs/$dir"; done
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"

linked() {  # the system libraries (and the dynamic loader) the files named link against
  for file in "$@"; do ldd "$file" 2>/dev/null || true; done \
    | awk '$2 == "=>" && $3 ~ /^\/(usr\/)?lib/ { print $3 } $1 ~ /^\/(usr\/)?lib/ && $2 ~ /^\(/ { print $1 }'
}
natives=$(find "$publish" -maxdepth 1 -type f \( -name '*.so' -o -name motey -o -name createdump \))
# shellcheck disable=SC2086 # one path per word
libraries=$(linked $natives)
libdir=$(dirname "$(echo "$libraries" | grep '/libc\.so\.6$' | head -1)")
openssl="$libdir/libssl.so.3 $libdir/libcrypto.so.3"
for library in $openssl; do
  [ -e "$library" ] || fail "$library is missing: apt-get install libssl3"
done
# shellcheck disable=SC2086
libraries=$(printf '%s\n' $libraries $openssl $(linked $openssl) | sort -u)
for library in $libraries; do
  mkdir -p "$rootfs$(dirname "$library")"
  cp -L "$library" "$rootfs$library"
done
echo "$libraries" | grep -q '/ld-linux' || fail "ldd named no dynamic loader for $publish/motey"

cp "$certificates" "$rootfs/etc/ssl/certs/ca-certificates.crt"
[ -f /etc/ssl/openssl.cnf ] && cp /etc/ssl/openssl.cnf "$rootfs/etc/ssl/openssl.cnf"
# Where Debian's OpenSSL looks for the trust store and its configuration.
ln -s /etc/ssl/certs "$rootfs/usr/lib/ssl/certs"
ln -s /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/openssl.cnf "$rootfs/usr/lib/ssl/openssl.cnf"

cp "$busybox" "$rootfs/usr/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$rootfs/usr/bin/$applet" ] || ln -s busybox "$rootfs/usr/bin/$applet"
done

cat > "$rootfs/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
app:x:$app_uid:$app_uid:app:/home/app:/bin/false
EOF
cat > "$rootfs/etc/group" <<EOF
root:x:0:
app:x:$app_uid:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"

# Root owns everything but the home of the user "app", whoever runs this script.
tarball=$work/runtime-deps.tar
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 --exclude=./home/app -cf "$tarball" .
tar -C "$rootfs" --numeric-owner --owner="$app_uid" --group="$app_uid" -rf "$tarball" ./home/app
old_base=$(docker image inspect --format '{{.Id}}' "$base" 2>/dev/null || true)
docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c "ENV APP_UID=$app_uid" \
  -c 'CMD ["/bin/sh"]' \
  -m "motey runtime-deps from this host's Debian files (build hash $hash)" \
  "$tarball" "$base" >/dev/null
rm -f "$tarball"
log "imported $base: $(echo "$libraries" | wc -l) libraries, CA certificates, busybox"

# 3. The agent's image, from the same Dockerfile a registry user builds.
old_image=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
docker build --network none --build-arg BASE="$base" --label "$label=$hash" \
  -f deploy/container/Dockerfile -t "$image" . >"$work/docker-build.log" 2>&1 \
  || { cat "$work/docker-build.log" >&2; fail "docker build failed"; }
# The images these replace, untagged now: removed unless a container still uses them.
for old in "$old_image" "$old_base"; do
  if [ -n "$old" ] && [ -z "$(docker image inspect --format '{{.RepoTags}}' "$old" 2>/dev/null | tr -d '[]')" ]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
done
size=$(docker image inspect --format '{{.Size}}' "$image")
log "built $image ($((size / 1000000)) MB, build hash $hash)"
