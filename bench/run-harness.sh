#!/usr/bin/env bash
# Builds a module with its benchmark harness (the bench profile) and runs one harness main:
#   [KILN_BENCH_MODULE=gateway] bench/run-harness.sh MAIN_CLASS [ARGS...]
# The module is microvm unless KILN_BENCH_MODULE names another. The per-benchmark scripts
# (microvm.sh, guest-path.sh, gateway.sh) call this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
main=${1:?usage: run-harness.sh MAIN_CLASS [ARGS...]}
shift
module=${KILN_BENCH_MODULE:-microvm}

echo "[bench] building $module and the benchmark harness ..." >&2
mvn -B -ntp -q -Pbench -pl "$module" -am -DskipTests process-test-classes

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
java -Dkiln.test.fixtures="$root/function-runtime/agent/src/test/fixtures" -Dkiln.test.work="$private/work" \
    -cp "$cp" "$main" "$@"
