#!/usr/bin/env bash
# Builds the Kiln guest image (vmlinux + initramfs.cpio) if its cache is stale.
#
#   microvm/guest/build.sh [--dir-file FILE] [AGENT_JAR]
#
# The image lives in $KILN_CACHE/guest/<hash>/ (default ~/.cache/kiln), where <hash> covers
# every input: the kernel config fragment, the linux-source package version, the compiler,
# these scripts, the agent jar, the JDK, busybox and the host libraries copied into the
# image. The kernel and the initramfs are cached separately, so a new agent jar rebuilds
# the initramfs (seconds) but not the kernel (minutes). $KILN_CACHE/guest/current points
# at the newest image. Everything it prints (its progress, the compiler's) goes to stderr;
# with --dir-file FILE it writes the image directory into FILE, for the script that asked.
set -euo pipefail
exec 1>&2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir_file=
if [ "${1:-}" = --dir-file ]; then
  dir_file=${2:?usage: build.sh [--dir-file FILE] [AGENT_JAR]}
  shift 2
fi
repo=$(cd "$here/../.." && pwd)
agent=${1:-$repo/function-runtime/agent/target/kiln-agent.jar}
[ -f "$agent" ] || die "agent jar $agent not found: run 'mvn -B package -DskipTests' first"

mkdir -p "$KILN_CACHE"/{kernel,initramfs,guest}
# Hash and pack one copy: a concurrent Maven build may replace the jar while we work.
agent_copy=$(mktemp "${TMPDIR:-/tmp}/kiln-agent.XXXXXX.jar")
trap 'rm -f "$agent_copy"' EXIT
cp "$agent" "$agent_copy"
agent=$agent_copy
# One builder at a time per cache: CI and ./run.sh may start together.
exec 9>"$KILN_CACHE/guest.lock"
flock 9

java_home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }
linux_pkg=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 | xargs -r basename | sed 's/\.tar\.xz$//')

kernel_key=$( {
  cat "$here/kernel/kiln.config" "$here/build-kernel.sh" "$here/lib.sh"
  echo "$linux_pkg $(pkg_version "${linux_pkg:-none}")"
  gcc --version | head -n 1
} | sha)
initramfs_key=$( {
  cat "$here/build-initramfs.sh" "$here/lib.sh" "$here"/rootfs/*
  sha256sum <"$agent"
  cat "$java_home/release"; echo "$java_home"
  busybox 2>/dev/null | head -n 1
  ldd --version | head -n 1
  gcc --version | head -n 1
  # The host libraries the JRE links against are copied into the image: hash those very files.
  find "$java_home/lib" "$java_home/bin" -type f \( -name '*.so' -o -perm -u+x \) -print0 \
    | xargs -0 ldd 2>/dev/null | grep -oE '=> /[^ ]+' | cut -c4- | sort -u | xargs -r sha256sum
  echo "libc6-dev $(pkg_version libc6-dev)"
} | sha)
guest_key=$(printf '%s\n%s\n' "$kernel_key" "$initramfs_key" | sha | cut -c1-16)
kernel_dir="$KILN_CACHE/kernel/${kernel_key:0:16}"
initramfs_dir="$KILN_CACHE/initramfs/${initramfs_key:0:16}"
guest_dir="$KILN_CACHE/guest/$guest_key"

if [ -f "$guest_dir/manifest.json" ]; then
  log "image $guest_key is up to date ($guest_dir)"
else
  start=$SECONDS
  if [ -f "$kernel_dir/vmlinux" ]; then
    log "kernel ${kernel_key:0:16} cached"
  else
    log "kernel ${kernel_key:0:16} not cached: building"
    rm -rf "$kernel_dir.tmp"
    "$here/build-kernel.sh" "$kernel_dir.tmp" >&2
    rm -rf "$kernel_dir" && mv "$kernel_dir.tmp" "$kernel_dir"
  fi
  if [ -f "$initramfs_dir/initramfs.cpio" ]; then
    log "initramfs ${initramfs_key:0:16} cached"
  else
    log "initramfs ${initramfs_key:0:16} not cached: building"
    rm -rf "$initramfs_dir.tmp"
    "$here/build-initramfs.sh" "$agent" "$initramfs_dir.tmp" >&2
    rm -rf "$initramfs_dir" && mv "$initramfs_dir.tmp" "$initramfs_dir"
  fi
  rm -rf "$guest_dir.tmp" && mkdir -p "$guest_dir.tmp"
  ln "$kernel_dir/vmlinux" "$guest_dir.tmp/vmlinux"
  ln "$initramfs_dir/initramfs.cpio" "$guest_dir.tmp/initramfs.cpio"
  cat >"$guest_dir.tmp/manifest.json" <<JSON
{
  "image": "$guest_key",
  "kernelKey": "$kernel_key",
  "initramfsKey": "$initramfs_key",
  "linuxSource": "$linux_pkg $(pkg_version "${linux_pkg:-none}")",
  "java": "$(. "$java_home/release"; echo "$JAVA_VERSION")",
  "agentSha256": "$(sha256sum <"$agent" | cut -d' ' -f1)",
  "vmlinuxBytes": $(stat -c %s "$kernel_dir/vmlinux"),
  "initramfsBytes": $(stat -c %s "$initramfs_dir/initramfs.cpio"),
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON
  rm -rf "$guest_dir" && mv "$guest_dir.tmp" "$guest_dir"
  log "image $guest_key built in $((SECONDS - start)) s: vmlinux $(size_of "$guest_dir/vmlinux"), initramfs $(size_of "$guest_dir/initramfs.cpio")"
fi
# Replace the link in one rename, so a reader never finds it missing. Touch what this image
# uses, so pruning by age keeps it.
ln -sfn "$guest_key" "$KILN_CACHE/guest/current.tmp"
mv -T "$KILN_CACHE/guest/current.tmp" "$KILN_CACHE/guest/current"
touch "$guest_dir" "$kernel_dir" "$initramfs_dir"

# Keep the three newest images of each kind; older ones are only disk. Images hold hard
# links to their kernel and initramfs, so pruning a component never breaks an image.
for kind in guest kernel initramfs; do
  find "$KILN_CACHE/$kind" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp' -printf '%T@ %p\n' \
    | sort -rn | tail -n +4 | cut -d' ' -f2- | while read -r old; do
      [ "$old" = "$guest_dir" ] || rm -rf "$old"
    done
done
if [ -n "$dir_file" ]; then
  printf '%s\n' "$guest_dir" >"$dir_file"
fi
