#!/usr/bin/env bash
# One command for every benchmark: builds once, runs the chosen scenarios one after the other
# (never two at once: the machine has 2 cores), keeps their raw results in
# bench/results/<run>/, and regenerates docs/BENCHMARKS.md and its figures from them.
#
#   bench/run-all.sh [--quick] [--scenarios a,b,...] [--no-lab] [--results DIR] [--report FILE]
#   bench/run-all.sh --list
#
#   --quick        small iteration counts: under 10 minutes on 2 cores with the guest image built;
#                  skips path-lab (the nested lab) unless --scenarios names it
#   --scenarios    only these (names: --list); default every scenario that can run here
#   --no-lab       never start the nested lab (path-lab then runs only on hardware KVM)
#   --results DIR  the run's directory (default bench/results/<UTC date>[-quick][-N])
#   --report FILE  the report to write (default docs/BENCHMARKS.md)
#   --list         the scenarios, one line each, with their estimated time; builds nothing
#
# Each scenario is a script taking `--json FILE [--quick]`, run with KILN_BENCH_PREBUILT=1 (this
# script built everything); it writes <run>/<scenario>.json (io.kiln.bench.report.ScenarioResult)
# and its output goes to <run>/<scenario>.log. <run>/host.json says where and when the run was
# made and each scenario's exit status and seconds, or why it did not run. A failed scenario is
# recorded and the run goes on. bench/README.md says more, and how to add a scenario.
#
# Exit status: 0 every chosen scenario ran and the report was written; 1 a scenario failed or
# the report could not be written (the report says which); 2 bad usage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '[bench] %s\n' "$*" >&2; }
# set -e ends the script at a failed command; say which, so that it never ends silently.
trap 'say "ERROR: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)"' ERR
usage_error() {
    printf 'run-all.sh: %s\n' "$*" >&2
    sed -n '6,7p' "$0" | sed 's/^# */usage: /' >&2
    exit 2
}

# The scenarios, in the order they run: name|script|where|quick seconds|full seconds|what it measures.
# The seconds, measured on the 2-core development machine (kvm_pvm, QEMU TCG): quick ones in a
# quick run with a lab beside it, full ones in the full run of 2026-11-30 on an idle machine.
scenario_table=(
    "vmm|bench/microvm.sh|host|80|205|Java KVM engine vs QEMU -M microvm, tiny guest: create to first serial byte, snapshot restore at 128 MiB and 1 GiB (needs /dev/kvm)"
    "path|bench/path.sh|host|100|167|the full path on this host's engine (QEMU TCG here): boot to READY, snapshots, cold and warm calls, throughput at 1-32 callers"
    "gateway|bench/gateway.sh|host|70|90|a warm call through the gateway phase by phase (Server-Timing) against a bare Vert.x handler, 1, 2 and 8 clients"
    "density|bench/density.sh|host|50|49|how many idle warm instances fit in a memory budget, private memory per instance from smaps"
    "queue|bench/queue.sh|host|60|80|the durable queue through a no-op function: enqueue to start and throughput, embedded SQLite vs PostgreSQL"
    "path-lab|bench/lab-engines.sh|lab|480|834|the full path on real KVM: the Java engine and QEMU-KVM side by side, in the nested lab unless this host has hardware KVM"
)
field() { # field LINE N: the Nth (1-based) |-separated field
    local IFS='|'
    # shellcheck disable=SC2206 # splitting on | is the point
    local parts=($1)
    printf '%s' "${parts[$(($2 - 1))]}"
}
names=()
for line in "${scenario_table[@]}"; do names+=("$(field "$line" 1)"); done
scenario_line() {
    local line
    for line in "${scenario_table[@]}"; do
        [[ "$(field "$line" 1)" == "$1" ]] && { printf '%s' "$line"; return 0; }
    done
    return 1
}
minutes() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

quick=0 list=0 no_lab=0 asked="" results="" report=docs/BENCHMARKS.md
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; shift ;;
        --list) list=1; shift ;;
        --no-lab) no_lab=1; shift ;;
        --scenarios|--results|--report)
            [[ $# -ge 2 && -n "$2" ]] || usage_error "$1 needs a value"
            case "$1" in
                --scenarios) asked=$2 ;;
                --results) results=$2 ;;
                --report) report=$2 ;;
            esac
            shift 2 ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) usage_error "unknown option '$1'" ;;
    esac
done

chosen=()
if [[ -n "$asked" ]]; then
    IFS=, read -r -a wanted <<< "$asked"
    for s in "${wanted[@]}"; do
        scenario_line "$s" > /dev/null || usage_error "unknown scenario '$s' (known: $(IFS=,; echo "${names[*]}"))"
        [[ " ${chosen[*]} " == *" $s "* ]] || chosen+=("$s")
    done
    [[ ${#chosen[@]} -gt 0 ]] || usage_error "--scenarios names none"
else
    chosen=("${names[@]}")
fi

if [[ $list == 1 ]]; then
    printf '%-9s %-5s %-7s %-7s %s\n' scenario where quick full "what it measures (script)"
    for line in "${scenario_table[@]}"; do
        printf '%-9s %-5s %-7s %-7s %s (%s)\n' "$(field "$line" 1)" "$(field "$line" 3)" \
            "$(minutes "$(field "$line" 4)")" "$(minutes "$(field "$line" 5)")" "$(field "$line" 6)" "$(field "$line" 2)"
    done
    printf 'estimated times on 2 cores, QEMU TCG; the build adds about 3 minutes (a quick run took 8m40s in all, a full one 24m32s)\n'
    exit 0
fi

# What this host offers: the KVM kind (from the loaded modules), and whether /dev/kvm opens.
kvm_kind=none
for m in kvm_pvm kvm_amd kvm_intel; do
    [[ -d /sys/module/$m ]] && { kvm_kind=$m; break; }
done
hardware_kvm=0
[[ $kvm_kind == kvm_amd || $kvm_kind == kvm_intel ]] && hardware_kvm=1

# why_not NAME: prints why a scenario cannot or should not run here, or nothing if it runs.
why_not() {
    local script
    script=$(field "$(scenario_line "$1")" 2)
    if [[ ! -x "$script" ]]; then
        echo "script missing ($script is not there or not executable)"
        return
    fi
    case "$1" in
        vmm)
            [[ -r /dev/kvm && -w /dev/kvm ]] || echo "no usable /dev/kvm on this host (the Java engine needs it)" ;;
        path-lab)
            [[ $hardware_kvm == 1 ]] && return
            if [[ $no_lab == 1 ]]; then
                echo "no hardware KVM here ($kvm_kind) and --no-lab"
            elif [[ $quick == 1 && -z "$asked" ]]; then
                echo "quick mode skips the nested lab (about 8 minutes more): name it with --scenarios path-lab"
            elif ! command -v "${KILN_QEMU:-qemu-system-x86_64}" > /dev/null; then
                echo "no hardware KVM here ($kvm_kind) and no qemu-system-x86_64 for the nested lab"
            fi ;;
    esac
}

# The run's directory: <UTC date>[-quick], then -2, -3... if taken.
if [[ -z "$results" ]]; then
    # (|| true: an assignment's status is its substitution's, and set -e would end a full run here)
    base="bench/results/$(date -u +%Y-%m-%d)$([[ $quick == 1 ]] && echo -quick || true)"
    results=$base
    n=2
    while [[ -e "$results" ]]; do results="$base-$n"; n=$((n + 1)); done
fi
mkdir -p "$results"
results=$(cd "$results" && pwd)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=false
[[ -n "$(git status --porcelain 2>/dev/null)" ]] && dirty=true
say "run directory: $results ($([[ $quick == 1 ]] && echo quick || echo full); scenarios ${chosen[*]})"

started=$SECONDS
# The guest image and the jailer, built if missing or stale, as ./run.sh and ./test.sh do.
. scripts/lib.sh
kiln_prepare
say "guest image: $KILN_GUEST_DIR; jailer: $KILN_JAILER"
# One build for every scenario: the project, then each harness module's bench profile (which
# compiles src/bench/java with the tests and writes its classpath; a later plain `package` would
# drop those classes again, so this order).
say "building the project and the benchmark harnesses ..."
mvn -B -ntp -q -DskipTests package
mvn -B -ntp -q -Pbench -pl microvm,invoker,gateway -am -DskipTests process-test-classes
export KILN_BENCH_PREBUILT=1
say "built in $(minutes $((SECONDS - started)))"

report_tool=bench/report/report.sh
report_cmd() {
    if [[ ! -x $report_tool ]]; then
        say "ERROR: $report_tool is missing: no host.json and no report"
        return 1
    fi
    "$report_tool" "$@"
}
report_cmd host --out "$results/host.json" --scenarios "$(IFS=,; echo "${chosen[*]}")" \
    --quick "$([[ $quick == 1 ]] && echo true || echo false)" --commit "$commit" --dirty "$dirty" \
    --guest-dir "$KILN_GUEST_DIR" >&2 || true

failed=0
i=0
for s in "${chosen[@]}"; do
    i=$((i + 1))
    tag="[bench $i/${#chosen[@]}] $s"
    reason=$(why_not "$s")
    if [[ -n "$reason" ]]; then
        printf '%s: not run: %s\n' "$tag" "$reason" >&2
        report_cmd status --host "$results/host.json" --scenario "$s" --reason "not run: $reason" >&2 || true
        continue
    fi
    script=$(field "$(scenario_line "$s")" 2)
    args=(--json "$results/$s.json")
    [[ $quick == 1 ]] && args+=(--quick)
    # On hardware KVM the lab's engines run right here.
    [[ $s == path-lab && $hardware_kvm == 1 ]] && args+=(--host)
    printf '%s ... (%s, estimated %s)\n' "$tag" "$script ${args[*]}" \
        "$(minutes "$(field "$(scenario_line "$s")" $([[ $quick == 1 ]] && echo 4 || echo 5))")" >&2
    t0=$SECONDS
    rc=0
    "$script" "${args[@]}" > "$results/$s.log" 2>&1 < /dev/null || rc=$?
    took=$((SECONDS - t0))
    reason=""
    if [[ $rc != 0 ]]; then
        reason="exit $rc: $(grep -v '^[[:space:]]*$' "$results/$s.log" | tail -1 | cut -c1-300)"
    elif [[ ! -s "$results/$s.json" ]]; then
        reason="exit 0 but no $s.json written"
    fi
    if [[ -n "$reason" ]]; then
        failed=1
        printf '%s FAILED after %s: %s; the log'"'"'s last lines:\n' "$tag" "$(minutes $took)" "$reason" >&2
        tail -n 15 "$results/$s.log" | sed 's/^/    /' >&2
        report_cmd status --host "$results/host.json" --scenario "$s" --exit "$rc" --seconds "$took" \
            --reason "$reason" >&2 || true
    else
        printf '%s done in %s\n' "$tag" "$(minutes $took)" >&2
        report_cmd status --host "$results/host.json" --scenario "$s" --exit 0 --seconds "$took" >&2 || true
    fi
done

notes=()
[[ -f docs/BENCHMARKS-NOTES.md ]] && notes=(--notes docs/BENCHMARKS-NOTES.md)
if report_cmd --results "$results" --report "$report" "${notes[@]}" >&2; then
    say "report: $report; figures and raw data: $results (all in $(minutes $((SECONDS - started))))"
else
    say "ERROR: the report could not be written; the raw results are in $results"
    failed=1
fi
exit $failed
