#!/usr/bin/env bash
# The agent's RESTORED work, A/B between guest images (e.g. before and after a change to
# kiln-restore or the agent), on the QEMU engine under TCG, clones interleaved.
#
#   bench/restore-ab.sh [--rounds N] IMAGE_DIR...
#
# IMAGE_DIR is a built guest image (microvm/guest/build.sh --dir-file FILE writes its path).
# About 1 minute per image plus 2-5 s per clone under TCG.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/run-harness.sh" microvm "$here/RestoreAb.java" "$@"
