#!/usr/bin/env bash
# Scenario `path-lab` (issue 20; issue 13's engines side by side): the Java engine (kvm), QEMU
# with KVM (qemu-kvm) and plain agent processes (process), one after the other in ONE nested
# lab (lab/lab.sh) on one real KVM, through the real invoker with the fixtures' echo function
# (invoker/src/bench/java/io/kiln/invoker/bench/EnginesBench.java, the harness bench/path.sh
# runs on the host). Boot to READY, base and function snapshots, restore to first RESULT phase
# by phase, warm calls, throughput at 1, 2, 8 and 32 callers on kept instances, private memory
# per idle instance; ratios against kvm and issue 13's goals, met or not.
#
#   bench/lab-engines.sh [--json FILE] [--quick] [--engines qemu-kvm,process,kvm] [--cold N]
#                        [--warm N] [--idle N] [--callers 1,2,8,32] [--seconds S]
#                        [--timeout SEC] [--host]
#     engines: qemu-kvm, qemu-tcg, process, kvm (the Java engine, VMs in jailed VMM host
#     processes), kvm-group (host processes, no jail), kvm-in-gateway (VMs in the invoker's JVM)
#     --json FILE  the run as one ScenarioResult (bench/report; scenario path-lab, where lab, or
#                  host with --host), mapped on the host from the lab's raw results, so a lab cut
#                  short by its timeout still reports what it measured; raw results beside it, in
#                  DIR/path-lab/
#     --quick      kvm and qemu-kvm only, 3 cold, 100 warm, 2 kept instances, callers 1, 2, 8 for
#                  3 s each (32 callers left out: too slow under the lab's TCG): about 8 minutes
#     --host       no lab: run on this machine (with hardware KVM: the engines' real numbers; else
#                  e.g. --engines process,qemu-tcg, to try the harness)
#
# Full: the three engines, 10 cold calls, 1,000 warm calls, 4 kept instances, callers 1, 2, 8
# and 32 for 5 s each: about 20 minutes, under the lab's 25-minute timeout. Builds what it needs
# unless KILN_BENCH_PREBUILT=1 (bench/invoker-prepare.sh). Without --json the raw results
# (engine-*.json, the harness's output, the host's load average every 15 s) go to
# bench/results/<date>-lab-engines[-N]/ (or -host-engines with --host); the Markdown table is
# printed and written there as table.md. Everything in the lab runs under TCG: compare the
# engines side by side, not with numbers taken elsewhere. Exit 2: it cannot run; 1: an engine
# failed (the JSON, when asked, is written all the same).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[lab-engines] %s\n' "$*" >&2; }
fail() { say "ERROR: $*"; exit 2; }

engines="" cold="" warm="" idle="" callers="" seconds="" timeout="" host=0 json="" quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --engines) engines=$2; shift 2 ;;
    --cold) cold=$2; shift 2 ;;
    --warm) warm=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --callers) callers=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --host) host=1; shift ;;
    --json) json=$(realpath -m "$2"); shift 2 ;;
    --quick) quick=1; shift ;;
    *) fail "unknown option $1 (see the head of $0)" ;;
  esac
done
# What was not given, from the mode: quick, or full.
if [ "$quick" = 1 ]; then
  : "${engines:=kvm,qemu-kvm}" "${cold:=3}" "${warm:=100}" "${idle:=2}" "${callers:=1,2,8}" "${seconds:=3}" "${timeout:=900}"
else
  : "${engines:=qemu-kvm,process,kvm}" "${cold:=10}" "${warm:=1000}" "${idle:=4}" "${callers:=1,2,8,32}" "${seconds:=5}" "${timeout:=1500}"
fi
# Always scenario path-lab (kvm and qemu-kvm side by side); on a host with hardware KVM,
# bench/run-all.sh runs it there with --host, and the result says where.
scenario=path-lab
where=$([ "$host" = 1 ] && echo host || echo lab)

. bench/invoker-prepare.sh
bench_prepare lab-engines || exit 2
guest=$KILN_GUEST_DIR

# A run never overwrites an earlier one's results: the second of the day gets -2, and so on.
if [ -n "$json" ]; then
  out=$(bench_raw_dir "$json" "$scenario")
else
  out=$(bench_raw_dir "" "$([ "$host" = 1 ] && echo host || echo lab)-engines")
fi
# A fixed, pre-touched heap: the harness measures the JVM's private memory with and without
# idle instances, and a heap that grows in between would count as theirs.
jvm_opts="-Xms512m -Xmx512m -XX:+AlwaysPreTouch"
# The function jar, compiled here: javac takes over a minute under the lab's TCG.
jar=$PWD/invoker/target/lab-engines-functions.jar
KILN_BENCH_PREBUILT=1 bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench --make-jar "$jar"
args=(--engines "$engines" --cold "$cold" --warm "$warm" --idle "$idle" --callers "$callers" --seconds "$seconds"
  --out "$out" --jar "$jar")
{ git rev-parse HEAD; git status --short | head -20; echo "guest image $guest"; echo "args ${args[*]}"; } >"$out/build.txt"

# The host's load average during the run: the lab is one QEMU process among whatever else runs here.
( while :; do echo "$(date -u +%H:%M:%S) $(cat /proc/loadavg)"; sleep 15; done ) >"$out/host-loadavg.txt" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

say "engines $engines, $cold cold calls, $idle idle instances, $warm warm calls, callers $callers for ${seconds}s each; guest image $guest; results $out"
start=$(date +%s)
rc=0
if [ "$host" = 1 ]; then
  KILN_GUEST_DIR=$guest KILN_BENCH_PREBUILT=1 KILN_BENCH_JVM_OPTS=$jvm_opts \
    bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench "${args[@]}" 2>&1 | tee "$out/output.txt" || rc=$?
else
  # Jails (the kvm engine's default when they work) need the jailer and a cgroup with the
  # memory controller, which the lab's /init does not mount.
  jailer=$KILN_JAILER
  lab/lab.sh --timeout "$timeout" --mem 8192 --results "$out" --env KILN_GUEST_DIR="$guest" \
    --env KILN_BENCH_PREBUILT=1 --env KILN_BENCH_JVM_OPTS="$jvm_opts" --env KILN_JAILER="$jailer" \
    -- sh -c 'grep -q " /sys/fs/cgroup " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup; exec "$@"' sh \
    bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench "${args[@]}" 2>&1 | tee "$out/output.txt" || rc=$?
fi
kill "$sampler" 2>/dev/null || true
secs=$(( $(date +%s) - start ))

# The table from the raw results, on the host: a lab cut short still leaves what it measured.
KILN_BENCH_PREBUILT=1 bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench --table "$out" >"$out/table.md"
load=$(awk '{ n++; s += $2; if ($2 > m) m = $2 } END { if (n) printf "mean %.1f, max %.1f (1-min, %d samples)", s / n, m, n }' \
  "$out/host-loadavg.txt")
{ echo; echo "Host load average during the run: $load; wall time ${secs}s; exit code $rc."; } >>"$out/table.md"
cat "$out/table.md"
if [ -n "$json" ]; then
  mode=(); [ "$quick" = 1 ] && mode=(--quick)
  KILN_BENCH_PREBUILT=1 bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench --scenario "$scenario" \
    --where "$where" "${mode[@]}" --json "$json" --scenario-json "$out" || { say "no result to write"; [ "$rc" != 0 ] || rc=1; }
fi
say "done in ${secs}s (exit $rc); raw results in $out"
exit "$rc"
