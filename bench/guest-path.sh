#!/usr/bin/env bash
# The full guest path on the QEMU engine, with the real guest image: boot to READY, base and
# function snapshot creation, restore to first RESULT, warm call latency.
#
#   bench/guest-path.sh [--accel tcg|kvm] [--boots N] [--restores N] [--calls N]
#
# Needs the guest image (./run.sh or microvm/guest/build.sh builds it; KILN_GUEST_DIR or
# ~/.cache/kiln/guest/current). Takes about 3 minutes under TCG on 2 cores.
set -euo pipefail
exec "$(dirname "$0")/run-harness.sh" microvm io.kiln.microvm.bench.GuestPathBench "$@"
