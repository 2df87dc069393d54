#!/usr/bin/env bash
# The nested KVM lab: runs one command on a "lab host" that has real (nested) KVM.
#
# The lab host is Debian's own kernel under QEMU TCG with -cpu max (AMD SVM with nested
# paging), with kvm_amd loaded. Its root is this machine's / over 9p, read-only, under a
# tmpfs overlay: the JDK, Maven, ~/.m2 and the built repository are all there, and whatever
# the command writes vanishes with the lab, except in the --results directory.
#
#   lab/lab.sh [options] -- COMMAND [ARG...]
#     --results DIR   host directory the command may write into (created; same path in the lab)
#     --cwd DIR       working directory of the command (default: the current directory)
#     --timeout SEC   kill the lab after SEC seconds (default 1800)
#     --mem MIB       lab host memory (default 6144)
#     --env NAME=VAL  set a variable for the command (repeatable); KILN_* variables pass through
#
# The command's stdout and stderr stream to ours, its exit code is ours; 124 means the lab
# timed out, 125 that it failed before or around the command (the console log says why).
# Progress lines and timings go to stderr. One lab at a time per machine (a lock file).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}/lab"
say() { printf '[lab.sh] %s\n' "$*" >&2; }
fail() { say "ERROR: $*"; exit 125; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}'; }

results="" cwd=$PWD timeout=1800 mem=6144 envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --results) results=$2; shift 2 ;;
    --cwd) cwd=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) fail "unknown option $1 (see lab/lab.sh --help; the command comes after --)" ;;
  esac
done
[ $# -gt 0 ] || fail "no command: lab/lab.sh [options] -- COMMAND [ARG...]"
cwd=$(cd "$cwd" && pwd) || fail "--cwd $cwd is not a directory"
if [ -n "$results" ]; then
  mkdir -p "$results" && results=$(cd "$results" && pwd) || fail "cannot create --results $results"
fi
for tool in qemu-system-x86_64 busybox cpio apt-get dpkg-deb flock; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/setup.sh (the lab needs qemu-system-x86, busybox-static, cpio)"
done
file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' || \
  [ -x /bin/busybox ] || fail "busybox must be static: apt-get install busybox-static"
mkdir -p "$cache"

# One lab at a time: it takes a core and several GiB for as long as it runs.
exec 9>"$cache/lab.lock"
if ! flock -n 9; then
  say "another lab is running (lock $cache/lab.lock); waiting for it"
  flock 9
fi

# 1. The kernel package: whatever linux-image-amd64 depends on now, unless KILN_LAB_KERNEL_PKG says.
t=$(now)
# A new machine may have no package lists yet: fetch them once, as scripts/setup.sh would.
apt_update() {
  local sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  say "apt knows no linux-image-amd64 yet: running apt-get update"
  $sudo apt-get update -q >&2 || fail "apt-get update failed; fix apt, or set KILN_LAB_KERNEL_PKG"
}
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1; }
pkg=${KILN_LAB_KERNEL_PKG:-$(kernel_pkg)}
if [ -z "$pkg" ]; then
  apt_update
  pkg=$(kernel_pkg)
fi
[ -n "$pkg" ] || fail "apt does not know linux-image-amd64 even after apt-get update (set KILN_LAB_KERNEL_PKG)"
version=$(apt-cache show "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
[ -n "$version" ] || fail "apt has no version for $pkg: run apt-get update"
key=$( { echo "$pkg $version"; cat "$here/lab.sh" "$here/init"; } | sha256sum | cut -c1-16)
dir="$cache/$key"
say "lab kernel $pkg $version; cache $dir"

if [ ! -f "$dir/initramfs.cpio.gz" ]; then
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  ( cd "$tmp" && apt-get download "$pkg=$version" >/dev/null 2>"$tmp/apt.err" ) || \
    fail "apt-get download $pkg=$version failed: $(tail -1 "$tmp/apt.err"); run apt-get update"
  say "downloaded $pkg in $(since "$t")"; t=$(now)
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  kver=$(ls "$tmp/x/lib/modules")
  say "unpacked kernel $kver in $(since "$t")"; t=$(now)

  # Modules and their dependencies (read from each .ko's modinfo), in load order.
  root="$tmp/x/lib/modules/$kver/kernel"
  mkdir -p "$tmp/initramfs/modules" "$tmp/initramfs/bin" "$tmp/initramfs"/{proc,sys,dev,mnt}
  declare -A loaded=()
  order=()
  add() {   # add MODULE: its dependencies first, then itself
    local name=$1 f dep
    [ -n "${loaded[$name]:-}" ] && return 0
    f=$(find "$root" -name "$name.ko" -o -name "${name//_/-}.ko" | head -1)
    [ -n "$f" ] || fail "module $name not in $pkg"
    loaded[$name]=1
    for dep in $(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do add "$dep"; done
    cp "$f" "$tmp/initramfs/modules/"
    order+=("$(basename "$f" .ko)")
  }
  for m in virtio_pci 9pnet_virtio 9p overlay kvm ccp; do add "$m"; done
  printf '%s\n' "${order[@]}" >"$tmp/initramfs/modules/order"
  # kvm_amd itself is loaded (and timed) on its own; its dependencies are in the list above.
  cp "$(find "$root" -name kvm-amd.ko)" "$tmp/initramfs/modules/"
  cp "$(command -v busybox)" "$tmp/initramfs/bin/busybox"
  cp "$here/init" "$tmp/initramfs/init"
  ( cd "$tmp/initramfs" && find . | cpio -o -H newc --quiet | gzip -1 ) >"$tmp/initramfs.cpio.gz"
  mkdir -p "$tmp/out"
  cp "$tmp/x/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
  mv "$tmp/initramfs.cpio.gz" "$tmp/out/initramfs.cpio.gz"
  echo "$pkg $version" >"$tmp/out/kernel-package"
  rm -rf "$dir" && mv "$tmp/out" "$dir"
  # Older keys (another kernel version, older lab scripts) are never used again.
  for old in "$cache"/????????????????; do [ "$old" = "$dir" ] || rm -rf "$old"; done
  rm -rf "$tmp"; trap - EXIT
  say "built the lab initramfs (${order[*]} kvm-amd) in $(since "$t")"
else
  say "lab kernel and initramfs cached"
fi

# 2. The run's control directory: the command, its environment, and what comes back.
runs="$cache/runs"; mkdir -p "$runs"
ctl=$(mktemp -d "$runs/run.XXXXXX")
{
  printf 'LAB_CWD=%q\nLAB_RESULTS=%q\n' "$cwd" "$results"
} >"$ctl/lab.conf"
{
  echo '# generated by lab/lab.sh'
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  printf 'export HOME=%q\n' "$HOME"
  for v in $(compgen -e | grep '^KILN_' || true); do printf 'export %s=%q\n' "$v" "${!v}"; done
  for e in "${envs[@]}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
  [ -n "$results" ] && printf 'export LAB_RESULTS=%q\n' "$results"
  printf 'cd %q || exit 125\n' "$cwd"
  printf 'exec'; printf ' %q' "$@"; echo
} >"$ctl/run.sh"
: >"$ctl/lab.log"; : >"$ctl/stdout"; : >"$ctl/stderr"

# 3. Boot the lab host; stream what the command prints while it runs.
t=$(now)
say "booting the lab host (QEMU TCG, -cpu max, 1 vCPU, ${mem} MiB; timeout ${timeout}s; console $ctl/console.log)"
qemu_args=(
  -accel tcg -cpu max -smp 1 -m "$mem" -machine pc
  -display none -monitor none -serial "file:$ctl/console.log" -no-reboot -nic none
  -kernel "$dir/vmlinuz" -initrd "$dir/initramfs.cpio.gz"
  -append "console=ttyS0 loglevel=4 panic=-1 mitigations=off nokaslr"
  -fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
  -device virtio-9p-pci,fsdev=root,mount_tag=hostroot
  -fsdev local,id=ctl,path="$ctl",security_model=none,multidevs=remap
  -device virtio-9p-pci,fsdev=ctl,mount_tag=control
)
if [ -n "$results" ]; then
  qemu_args+=(-fsdev local,id=res,path="$results",security_model=none,multidevs=remap
              -device virtio-9p-pci,fsdev=res,mount_tag=results)
fi
timeout --signal=KILL "$timeout" qemu-system-x86_64 "${qemu_args[@]}" </dev/null >"$ctl/qemu.out" 2>&1 &
qemu=$!
tail -n +1 -F --pid="$qemu" -s 0.5 "$ctl/lab.log" 2>/dev/null | sed -u 's/^/  /' >&2 &
tails=($!)
tail -n +1 -F --pid="$qemu" -s 0.5 "$ctl/stdout" 2>/dev/null &
tails+=($!)
tail -n +1 -F --pid="$qemu" -s 0.5 "$ctl/stderr" >&2 2>/dev/null &
tails+=($!)
cleanup() { kill "$qemu" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
qrc=0; wait "$qemu" || qrc=$?
wait "${tails[@]}" 2>/dev/null || true
trap - EXIT INT TERM

if [ -f "$ctl/rc" ]; then
  rc=$(cat "$ctl/rc")
  say "lab done in $(since "$t") (boot, command, power-off); command exit code $rc"
  rm -rf "$ctl"
  exit "$rc"
fi
if [ "$qrc" = 137 ] || [ "$qrc" = 124 ]; then
  say "ERROR: the lab timed out after ${timeout}s (raise --timeout); console log: $ctl/console.log"
  tail -n 20 "$ctl/console.log" >&2 || true
  exit 124
fi
say "ERROR: the lab stopped without a result (QEMU exit $qrc): $(tail -n 3 "$ctl/qemu.out" 2>/dev/null | tr '\n' ' ')"
say "last lines of the console log $ctl/console.log:"
tail -n 30 "$ctl/console.log" >&2 || true
exit 125
