#!/usr/bin/env bash
# Java KVM engine vs qemu-system-x86_64 -M microvm, same tiny guest, side by side in one run:
# create → first serial byte, and snapshot restore → guest running at 128 MiB and 1 GiB.
# Builds what it needs, prints the table; results go to docs/BENCHMARKS.md by hand.
#
#   bench/microvm.sh [--iterations N] [--warmup N] [--sizes 128,1024] [--qemu-accel auto|kvm|tcg] [--out FILE]
#
# Needs /dev/kvm (read-write), gcc and qemu-system-x86_64 (or $KILN_QEMU). Takes about 4 minutes
# with the defaults on a 2-core machine and writes up to ~4 GiB of snapshots under $TMPDIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

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
java -cp "$cp" io.kiln.microvm.bench.MicroVmBench "$@"
