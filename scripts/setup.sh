#!/usr/bin/env bash
# Installs what Kiln needs on a Debian 12 / Ubuntu x86-64 machine, and nothing that is
# already there. Safe to run every time: with everything present it costs under a second.
set -euo pipefail

log() { printf '[setup] %s\n' "$*" >&2; }

[ "$(uname -m)" = x86_64 ] || { log "Kiln needs an x86-64 host (this is $(uname -m))"; exit 1; }
command -v dpkg-query >/dev/null || { log "this script installs with apt: use Debian 12 or Ubuntu 22.04+"; exit 1; }

packages=(
  # build: JDK 17 with jmods (jlink makes the guest's JRE from them) and Maven
  openjdk-17-jdk-headless maven
  # the QEMU engine; the machine 'microvm' is in qemu-system-x86
  qemu-system-x86
  # the guest kernel: Debian's source and what its build needs; libc6-dev for the static
  # kiln-restore helper in the initramfs; gcc also builds kiln-jailer (microvm/src/main/c)
  linux-source gcc libc6-dev make flex bison bc libelf-dev libssl-dev xz-utils
  # the guest initramfs: a static busybox, cpio, strip; the JRE's shared libraries
  busybox-static cpio binutils zlib1g libfreetype6 libjpeg62-turbo liblcms2-2 libharfbuzz0b
  # scripts (setpriv, from util-linux, guards QEMU children); python3 makes a pty in one agent test
  util-linux procps curl python3
  # the benchmark report's figures (bench/report): the headless JDK draws text with fonts it
  # finds through fontconfig, and fails without any
  fontconfig fonts-dejavu-core
)
# For the tests only (./test.sh sets KILN_SETUP_TESTS=1; ./run.sh does not, since a platform on
# one machine needs no database server): the queue's PostgreSQL tests run a throwaway server
# from Debian's PostgreSQL (scripts/test-postgres.sh). The package pulls the server, psql and
# pg_isready, and creates the 'postgres' user the server runs as, since it refuses root.
if [ "${KILN_SETUP_TESTS:-0}" = 1 ]; then
  packages+=(postgresql)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { log "missing ${missing[*]}, and not root and no sudo to install them"; exit 1; }
    sudo=sudo
  fi
  log "installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "system packages present"
fi

# Maven resolves the Java dependencies itself; only check the toolchain it will use.
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ "${java_major:-0}" -lt 17 ]; then
  log "java on PATH is version ${java_major:-unknown}; Kiln needs 17+ (set JAVA_HOME or update-alternatives --config java)"
  exit 1
fi
