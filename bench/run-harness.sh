#!/usr/bin/env bash
# Builds a module with its benchmark harness (its bench profile: src/bench/java compiled with
# the tests) and runs one harness main from the module's directory:
#   bench/run-harness.sh MODULE MAIN_CLASS [ARGS...]
#   bench/run-harness.sh --build-only MODULE     # only the build (lab-engines.sh, before its lab)
# The per-benchmark scripts (microvm.sh, gateway.sh, queue.sh, guest-path.sh, invoker.sh,
# lab-engines.sh) call this; bench/run-all.sh builds once and runs them all with
# KILN_BENCH_PREBUILT=1.
# KILN_BENCH_PREBUILT=1 skips the build and runs what an earlier build left (the nested lab
# runs the host's build, with no Maven of its own); KILN_BENCH_JVM_OPTS are the harness JVM's
# options.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build_only=0
if [[ "${1:-}" == --build-only ]]; then
    build_only=1
    shift
fi
module=${1:?usage: run-harness.sh MODULE MAIN_CLASS [ARGS...]}
if [[ "${KILN_BENCH_PREBUILT:-0}" == 1 ]]; then
    [[ -f "$module/target/bench-classpath.txt" ]] || { echo "[bench] $module's harness is not built" >&2; exit 2; }
else
    echo "[bench] building $module and its benchmark harness ..." >&2
    mvn -B -ntp -q -Pbench -pl "$module" -am -DskipTests process-test-classes
fi
[[ $build_only == 1 ]] && exit 0
main=${2:?usage: run-harness.sh MODULE MAIN_CLASS [ARGS...]}
shift 2

# Run from a private copy of every class directory: other builds in this tree (mvn test,
# mvn clean) recompile or delete target/ while the benchmark runs.
private=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-cp.XXXXXX")
trap 'rm -rf "$private"' EXIT
cp=""
i=0
IFS=: read -r -a entries <<< "$root/$module/target/test-classes:$root/$module/target/classes:$(cat "$module/target/bench-classpath.txt")"
for e in "${entries[@]}"; do
    if [[ -d "$e" ]]; then
        cp -r "$e" "$private/$i"
        e="$private/$i"
        i=$((i + 1))
    fi
    cp="${cp:+$cp:}$e"
done

cd "$module"
# shellcheck disable=SC2086 # KILN_BENCH_JVM_OPTS is a list of words
java ${KILN_BENCH_JVM_OPTS:-} -Dkiln.test.fixtures="$root/function-runtime/agent/src/test/fixtures" \
    -Dkiln.test.work="$private/work" \
    -Dkiln.agent.jar="$root/function-runtime/agent/target/kiln-agent.jar" \
    -cp "$cp" "$main" "$@"
