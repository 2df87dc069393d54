#!/usr/bin/env bash
# Runs the benchmark report's command line (io.kiln.bench.report.ReportMain) with its classpath:
#   bench/report/report.sh --results DIR --report docs/BENCHMARKS.md [--notes docs/BENCHMARKS-NOTES.md]
#   bench/report/report.sh host --out DIR/host.json --scenarios a,b --quick true ...
#   bench/report/report.sh status --host DIR/host.json --scenario a --exit 0 --seconds 12.5
#   bench/report/report.sh --help
# Builds the module first (offline if ~/.m2 has what it needs) unless KILN_BENCH_PREBUILT=1, as
# bench/run-harness.sh does for the harnesses.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
module="$root/bench/report"
if [[ "${KILN_BENCH_PREBUILT:-0}" != 1 || ! -f "$module/target/report-classpath.txt" ]]; then
    (cd "$root" && mvn -B -ntp -q -pl bench/report -DskipTests process-classes) >&2
fi
exec java -Djava.awt.headless=true -cp "$module/target/classes:$(cat "$module/target/report-classpath.txt")" \
    io.kiln.bench.report.ReportMain "$@"
