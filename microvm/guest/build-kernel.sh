#!/usr/bin/env bash
# Builds the guest kernel: Debian's linux-source + kernel/kiln.config on top of allnoconfig.
# Usage: build-kernel.sh OUT_DIR    (writes OUT_DIR/vmlinux and OUT_DIR/config)
# Called by build.sh, which decides whether the cached kernel is stale.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

out=${1:?usage: build-kernel.sh OUT_DIR}
fragment="$here/kernel/kiln.config"
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] || die "no /usr/src/linux-source-*.tar.xz: install the linux-source package (scripts/setup.sh does)"
version=$(basename "$tarball" .tar.xz)   # linux-source-6.1

# The unpacked tree depends only on the package version; keep it across config changes.
pkgver=$(dpkg-query -W -f='${Version}' "${version}" 2>/dev/null || echo unknown)
src="$KILN_CACHE/src/$version-$pkgver"
if [ ! -f "$src/.unpacked" ]; then
  log "kernel: unpacking $tarball (once per linux-source version)"
  rm -rf "$src" && mkdir -p "$src"
  tar -xf "$tarball" -C "$src" --strip-components=1
  touch "$src/.unpacked"
fi

# One object directory, reused: a fragment change rebuilds only what it touches.
obj="$KILN_CACHE/work/kernel-obj"
mkdir -p "$obj"
make_k() { make -C "$src" O="$obj" ARCH=x86_64 "$@"; }

log "kernel: configuring ($version $pkgver, fragment $(basename "$fragment"))"
make_k -s allnoconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >"$obj/merge.log" 2>&1
make_k -s olddefconfig >/dev/null

# Every line of the fragment must have survived: a silently dropped option is a guest that
# boots without its console or channel, which is far harder to debug than this message.
missing=0
while IFS= read -r line; do
  case "$line" in CONFIG_*=*) ;; *) continue ;; esac
  key=${line%%=*}; want=${line#*=}
  if [ "$want" = n ]; then
    if grep -q "^$key=" "$obj/.config"; then log "kernel: $key wanted off but is $(grep "^$key=" "$obj/.config")"; missing=1; fi
  elif ! grep -qx "$key=$want" "$obj/.config"; then
    log "kernel: $key=$want did not survive olddefconfig (got: $(grep "^$key=" "$obj/.config" || echo unset))"; missing=1
  fi
done <"$fragment"
[ "$missing" = 0 ] || die "kernel config fragment does not apply cleanly; fix kernel/kiln.config"

jobs=$(nproc)
log "kernel: compiling vmlinux with $jobs jobs (about 5 min on 2 cores; log: $obj/build.log)"
run_with_progress "kernel" "$obj/build.log" '^  CC ' make_k -j"$jobs" vmlinux

mkdir -p "$out"
cp "$obj/vmlinux" "$out/vmlinux.tmp" && mv "$out/vmlinux.tmp" "$out/vmlinux"
cp "$obj/.config" "$out/config"
log "kernel: vmlinux $(size_of "$out/vmlinux")"
