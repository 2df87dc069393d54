#!/usr/bin/env bash
# Scenario `path` (issue 20): the whole call path through the real invoker on this machine's
# engine (QEMU TCG here: no hardware KVM), with the fixtures' echo function at 256 MiB: boot to
# READY, base and function snapshots, cold calls (restore from the function snapshot → first
# RESULT, as the caller sees it), warm calls (p50/p99/p99.9), throughput at 1, 2, 8 and 32
# concurrent callers on kept instances, private memory per idle instance (smaps). The harness
# is EnginesBench (invoker/src/bench), the one bench/lab-engines.sh runs in the nested lab.
#
#   bench/path.sh [--json FILE] [--quick] [--engine qemu-tcg]
#
# --json FILE: the ScenarioResult (bench/report) for bench/run-all.sh; the raw results
# (engine-*.json, the Markdown table) go beside it, in DIR/path/; without it, to
# bench/results/<date>-path[-N]/. Full: 40 cold calls, 2,000 warm calls, 8 kept instances,
# 15 s per caller count, about 5 minutes under TCG on 2 cores. Quick: 5 cold, 200 warm,
# 2 instances, 3 s per caller count, about 2 minutes. Builds what it needs unless
# KILN_BENCH_PREBUILT=1 (bench/invoker-prepare.sh). Exit 2: it cannot run; 1: the harness failed.
set -euo pipefail
json="" quick=0 engine=qemu-tcg
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json=$(realpath -m "$2"); shift 2 ;;
    --quick) quick=1; shift ;;
    --engine) engine=$2; shift 2 ;;
    *) echo "[path] ERROR: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
. bench/invoker-prepare.sh
bench_prepare path || exit 2
out=$(bench_raw_dir "$json" path)

if [ "$quick" = 1 ]; then
  counts=(--cold 5 --warm 200 --idle 2 --callers 1,2,8,32 --seconds 3 --quick)
else
  counts=(--cold 40 --warm 2000 --idle 8 --callers 1,2,8,32 --seconds 15)
fi
args=(--engines "$engine" "${counts[@]}" --out "$out" --scenario path --where host)
[ -n "$json" ] && args+=(--json "$json")
echo "[path] engine $engine, ${counts[*]}; guest image $KILN_GUEST_DIR; raw results $out" >&2
start=$(date +%s)
rc=0
# A fixed, pre-touched heap: the harness measures the JVM's private memory with and without
# idle instances, and a heap that grew in between would count as theirs.
KILN_BENCH_PREBUILT=1 KILN_BENCH_JVM_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" \
  bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench "${args[@]}" 2>&1 | tee "$out/output.txt" || rc=$?
# A harness that died before writing its JSON still left its raw results, a file per engine.
if [ -n "$json" ] && [ ! -f "$json" ]; then
  KILN_BENCH_PREBUILT=1 bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench --scenario path --where host \
    $([ "$quick" = 1 ] && echo --quick) --json "$json" --scenario-json "$out" || { [ "$rc" != 0 ] || rc=1; }
fi
KILN_BENCH_PREBUILT=1 bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench --table "$out" >"$out/table.md" || true
cat "$out/table.md"
echo "[path] done in $(( $(date +%s) - start ))s (exit $rc); raw results in $out" >&2
exit "$rc"
