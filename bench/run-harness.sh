#!/usr/bin/env bash
# Builds microvm with its benchmark harness (the bench profile) and runs one harness main:
#   bench/run-harness.sh MAIN_CLASS [ARGS...]
# The per-benchmark scripts (microvm.sh, guest-path.sh) call this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
main=${1:?usage: run-harness.sh MAIN_CLASS [ARGS...]}
shift

echo "[bench] building microvm and the benchmark harness ..." >&2
mvn -B -ntp -q -Pbench -pl microvm -am -DskipTests process-test-classes

# Run from a private copy of every class directory: other builds in this tree (mvn test,
# mvn clean) recompile or delete target/ while the benchmark runs.
private=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-cp.XXXXXX")
trap 'rm -rf "$private"' EXIT
cp=""
i=0
IFS=: read -r -a entries <<< "$root/microvm/target/test-classes:$root/microvm/target/classes:$(cat microvm/target/bench-classpath.txt)"
for e in "${entries[@]}"; do
    if [[ -d "$e" ]]; then
        cp -r "$e" "$private/$i"
        e="$private/$i"
        i=$((i + 1))
    fi
    cp="${cp:+$cp:}$e"
done

cd microvm
java -Dkiln.test.fixtures="$root/function-runtime/agent/src/test/fixtures" -Dkiln.test.work="$private/work" \
    -cp "$cp" "$main" "$@"
