#!/usr/bin/env bash
# Builds the guest initramfs: busybox, a jlink'd JRE from the host JDK (with the shared
# libraries it links against), the agent jar and /init.
# Usage: build-initramfs.sh AGENT_JAR OUT_DIR   (writes OUT_DIR/initramfs.cpio)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

agent=${1:?usage: build-initramfs.sh AGENT_JAR OUT_DIR}
out=${2:?usage: build-initramfs.sh AGENT_JAR OUT_DIR}
[ -f "$agent" ] || die "agent jar $agent not found: build the project first (mvn package)"
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
[ -d "$java_home/jmods" ] || die "$java_home has no jmods/: jlink needs a full JDK (openjdk-17-jdk-headless)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 \
  || die "need a static busybox: install busybox-static"

# The JDK modules every function can use. java.desktop is here for javax.imageio and
# java.beans (Jackson uses the latter); its X11 and sound libraries are removed below.
modules=$(tr -d ' \n' <"$here/rootfs/jre-modules")

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,kiln,lib64}

log "initramfs: jlink JRE from $java_home ($modules)"
"$java_home/bin/jlink" --module-path "$java_home/jmods" --add-modules "$modules" \
  --strip-debug --no-header-files --no-man-pages --compress=2 --generate-cds-archive \
  --output "$root/jre"
# A microVM has no display and no sound card; these libraries would drag in X11 and ALSA.
rm -f "$root"/jre/lib/{libawt_xawt,libsplashscreen,libjawt,libjsound}.so
# The no-compressed-oops CDS archive only serves heaps over 32 GiB, which no guest has.
rm -f "$root/jre/lib/server/classes_nocoops.jsa"

# Copy the shared libraries the JRE links against (glibc, zlib, image codecs), resolved on
# this host, to the same paths inside the guest.
log "initramfs: resolving shared libraries"
is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; }
find "$root/jre" -type f \( -name '*.so' -o -perm -u+x \) | while read -r f; do
  if is_elf "$f"; then echo "$f"; fi
done >"$work/elves"
: >"$work/libs"
while read -r elf; do
  ldd_out=$(LD_LIBRARY_PATH="$root/jre/lib:$root/jre/lib/server" ldd "$elf" 2>&1) || true
  if grep -q 'not found' <<<"$ldd_out"; then
    die "$(basename "$elf") needs a library this host lacks: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t' ' ')"
  fi
  grep -oE '/[^ ]+\.so[^ ]*' <<<"$ldd_out" | grep -v "^$root" >>"$work/libs" || true
done <"$work/elves"
sort -u "$work/libs" | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Symbols are for debuggers on the host; in the guest they only cost RAM in every clone.
find "$root" -type f -name '*.so*' -exec strip --strip-unneeded {} +
# The dynamic loader lives at a fixed path the ELF headers name.
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"

cp "$busybox" "$root/bin/busybox"
for applet in sh mount hostname tr sed cut cat echo reboot date mkdir ls dmesg sleep seq; do
  ln -s busybox "$root/bin/$applet"
done
# After every restore this reseeds the kernel's crng and sets the clock: served (init starts
# it before the agent) or, as a fallback, run by the agent.
gcc -static -Os -Wall -Wextra -Werror -o "$root/bin/kiln-restore" "$here/rootfs/kiln-restore.c"
strip "$root/bin/kiln-restore"
install -m 0755 "$here/rootfs/init" "$root/init"
cp "$here/rootfs/etc-hosts" "$root/etc/hosts"
echo 'root:x:0:0:root:/tmp:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo kiln >"$root/etc/hostname"
cp "$agent" "$root/kiln/agent.jar"

log "initramfs: packing"
mkdir -p "$out"
# Fixed mtimes and sorted names: the same inputs give the same bytes.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -print0 | LC_ALL=C sort -z \
  | cpio --null --create --format=newc --reproducible --quiet) >"$out/initramfs.cpio.tmp"
mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
log "initramfs: $(size_of "$out/initramfs.cpio") (JRE $(du -sh "$root/jre" | cut -f1), libraries $(du -shc $(sort -u "$work/libs") 2>/dev/null | tail -n1 | cut -f1), agent $(size_of "$agent"))"
