#!/usr/bin/env bash
# The engines side by side on one real KVM (issue 13): the Java engine (kvm), QEMU with KVM
# (qemu-kvm) and plain agent processes (process), one after the other in ONE nested lab
# (lab/lab.sh), through the real invoker with the fixtures' echo function
# (invoker/src/bench/java/io/kiln/invoker/bench/EnginesBench.java). Boot to READY, base and
# function snapshots, restore to first RESULT phase by phase, warm calls, private memory per
# idle instance; ratios against kvm and the issue's goals, met or not.
#
#   bench/lab-engines.sh [--engines qemu-kvm,process,kvm] [--cold N] [--warm N] [--idle N]
#     engines: qemu-kvm, qemu-tcg, process, kvm (the Java engine, VMs in jailed VMM host
#     processes), kvm-group (host processes, no jail), kvm-in-gateway (VMs in the invoker's JVM)
#                        [--timeout SEC] [--host]
#     --host   no lab: run on this machine (e.g. --engines process,qemu-tcg, to try the harness)
#
# Needs the build (mvn -B -ntp -q -DskipTests package; the harness is built here) and the guest
# image (KILN_GUEST_DIR, or ~/.cache/kiln/guest/current). Raw results (engine-*.json, the
# harness's output, the host's load average every 15 s) go to
# bench/results/<date>-lab-engines[-N]/ (or -host-engines with --host); the Markdown table is
# printed and written there as table.md. Everything in the lab runs under TCG: compare the
# engines side by side, not with numbers taken elsewhere. About 12 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[lab-engines] %s\n' "$*" >&2; }
fail() { say "ERROR: $*"; exit 2; }

engines=qemu-kvm,process,kvm cold=5 warm=200 idle=4 timeout=1500 host=0
while [ $# -gt 0 ]; do
  case "$1" in
    --engines) engines=$2; shift 2 ;;
    --cold) cold=$2; shift 2 ;;
    --warm) warm=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --host) host=1; shift ;;
    *) fail "unknown option $1 (see the head of $0)" ;;
  esac
done

[ -f function-runtime/agent/target/kiln-agent.jar ] && [ -d invoker/target/classes ] ||
  fail "not built: run mvn -B -ntp -q -DskipTests package first"
guest=${KILN_GUEST_DIR:-$(readlink -f "${KILN_CACHE:-$HOME/.cache/kiln}/guest/current" 2>/dev/null || true)}
[ -n "$guest" ] && [ -f "$guest/vmlinux" ] && [ -f "$guest/initramfs.cpio" ] ||
  fail "no guest image: run microvm/guest/build.sh (or set KILN_GUEST_DIR)"
bench/run-harness.sh --build-only invoker

# A run never overwrites an earlier one's results: the second of the day gets -2, and so on.
out=$PWD/bench/results/$(date -u +%Y-%m-%d)-$([ "$host" = 1 ] && echo host || echo lab)-engines
n=1 base=$out
while [ -e "$out" ]; do n=$((n + 1)); out=$base-$n; done
mkdir -p "$out"
# A fixed, pre-touched heap: the harness measures the JVM's private memory with and without
# idle instances, and a heap that grows in between would count as theirs.
jvm_opts="-Xms512m -Xmx512m -XX:+AlwaysPreTouch"
# The function jar, compiled here: javac takes over a minute under the lab's TCG.
jar=$PWD/invoker/target/lab-engines-functions.jar
KILN_BENCH_PREBUILT=1 bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench --make-jar "$jar"
args=(--engines "$engines" --cold "$cold" --warm "$warm" --idle "$idle" --out "$out" --jar "$jar")
{ git rev-parse HEAD; git status --short | head -20; echo "guest image $guest"; echo "args ${args[*]}"; } >"$out/build.txt"

# The host's load average during the run: the lab is one QEMU process among whatever else runs here.
( while :; do echo "$(date -u +%H:%M:%S) $(cat /proc/loadavg)"; sleep 15; done ) >"$out/host-loadavg.txt" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

say "engines $engines, $cold cold calls, $idle idle instances, $warm warm calls; guest image $guest; results $out"
start=$(date +%s)
rc=0
if [ "$host" = 1 ]; then
  KILN_GUEST_DIR=$guest KILN_BENCH_PREBUILT=1 KILN_BENCH_JVM_OPTS=$jvm_opts \
    bench/run-harness.sh invoker io.kiln.invoker.bench.EnginesBench "${args[@]}" 2>&1 | tee "$out/output.txt" || rc=$?
else
  # Jails (the kvm engine's default when they work) need the jailer and a cgroup with the
  # memory controller, which the lab's /init does not mount.
  jailer=${KILN_JAILER:-$(readlink -f "${KILN_CACHE:-$HOME/.cache/kiln}/jailer/current/kiln-jailer" 2>/dev/null || true)}
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
say "done in ${secs}s (exit $rc); raw results in $out"
exit "$rc"
