#!/usr/bin/env bash
# Scenario `density` (issue 20): how many idle warm instances of one function fit in the
# invoker's memory budget on this machine's engine (QEMU TCG here), and each one's private
# memory measured from the host (smaps_rollup of its QEMU: Private_Clean + Private_Dirty, Rss,
# Pss), against the guest memory the invoker reserves for it. Harness: DensityBench
# (invoker/src/bench).
#
#   bench/density.sh [--json FILE] [--quick] [--engines qemu-tcg,process] [--budget MIB] [--memory MIB]
#
# Full: QEMU TCG, then plain agent processes for comparison, a 2,048 MiB budget, 256 MiB
# instances (8 fit), about 3 minutes on 2 cores; quick: QEMU TCG only, 1,024 MiB (4 fit),
# about 1.5 minutes. --json FILE: the ScenarioResult for
# bench/run-all.sh (its output beside it, in DIR/density/); without it the result goes to
# bench/results/<date>-density[-N]/density.json. Builds what it needs unless
# KILN_BENCH_PREBUILT=1. Exit 2: it cannot run; 1: the harness failed.
set -euo pipefail
json="" quick=0 engines="" budget="" memory=256
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json=$(realpath -m "$2"); shift 2 ;;
    --quick) quick=1; shift ;;
    --engines) engines=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    *) echo "[density] ERROR: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
. bench/invoker-prepare.sh
bench_prepare density || exit 2
out=$(bench_raw_dir "$json" density)
[ -n "$json" ] || json=$out/density.json
[ -n "$budget" ] || budget=$([ "$quick" = 1 ] && echo 1024 || echo 2048)
[ -n "$engines" ] || engines=$([ "$quick" = 1 ] && echo qemu-tcg || echo qemu-tcg,process)
args=(--engines "$engines" --budget "$budget" --memory "$memory" --json "$json")
[ "$quick" = 1 ] && args+=(--quick)
echo "[density] engines $engines, budget $budget MiB, $memory MiB per instance; guest image $KILN_GUEST_DIR" >&2
start=$(date +%s)
rc=0
KILN_BENCH_PREBUILT=1 bench/run-harness.sh invoker io.kiln.invoker.bench.DensityBench "${args[@]}" 2>&1 |
  tee "$out/output.txt" || rc=$?
echo "[density] done in $(( $(date +%s) - start ))s (exit $rc); result $json" >&2
exit "$rc"
