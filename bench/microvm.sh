#!/usr/bin/env bash
# Java KVM engine vs qemu-system-x86_64 -M microvm, same tiny guest, side by side in one run:
# create → first serial byte, and snapshot restore → guest running at 128 MiB and 1 GiB.
# Builds what it needs, prints the table; results go to docs/BENCHMARKS.md by hand.
#
#   bench/microvm.sh [--iterations N] [--warmup N] [--sizes 128,1024] [--qemu-accel auto|kvm|tcg] [--out FILE]
#
# Needs /dev/kvm (read-write), gcc and qemu-system-x86_64 (or $KILN_QEMU). Takes about 4 minutes
# with the defaults on a 2-core machine and writes up to ~4 GiB of snapshots under $TMPDIR.
set -euo pipefail
exec "$(dirname "$0")/run-harness.sh" microvm io.kiln.microvm.bench.MicroVmBench "$@"
