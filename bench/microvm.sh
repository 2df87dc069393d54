#!/usr/bin/env bash
# Java KVM engine vs qemu-system-x86_64 -M microvm, same tiny guest, side by side in one run:
# create → first serial byte, and snapshot restore → guest running at 128 MiB and 1 GiB.
# Builds what it needs (unless KILN_BENCH_PREBUILT=1) and prints the table; --json FILE also
# writes the results for bench/run-all.sh (scenario vmm), which puts them in docs/BENCHMARKS.md.
#
#   bench/microvm.sh [--iterations N] [--warmup N] [--sizes 128,1024] [--qemu-accel auto|kvm|tcg] [--out FILE]
#                    [--json FILE] [--quick]
#
# --quick: 5 runs per row after 1 warm-up (unless --iterations/--warmup say otherwise).
# Needs /dev/kvm (read-write), gcc and qemu-system-x86_64 (or $KILN_QEMU). Takes about 4 minutes
# with the defaults on a 2-core machine and writes up to ~4 GiB of snapshots under $TMPDIR.
set -euo pipefail
exec "$(dirname "$0")/run-harness.sh" microvm io.kiln.microvm.bench.MicroVmBench "$@"
