#!/usr/bin/env bash
# Installs what is missing, builds Kiln and its guest image (only if stale) and starts it.
# For now the platform's front door (the gateway) does not exist yet, so this boots the
# guest image once under QEMU and shows the agent's READY.
set -euo pipefail
cd "$(dirname "$0")"

guest=$(scripts/prepare.sh)
export KILN_GUEST_DIR="$guest"
mvn -B -ntp -q -DskipTests -pl microvm -am package
classpath=$(cat microvm/target/classpath.txt):microvm/target/classes
echo "[run] the kiln command (docs/CLI.md): export PATH=\"$PWD/bin:\$PATH\"" >&2
exec java -cp "$classpath" io.kiln.microvm.qemu.BootCheck "$@"
