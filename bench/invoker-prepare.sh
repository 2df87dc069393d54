# Sourced by the invoker's benchmark scripts (path.sh, density.sh, lab-engines.sh), from the
# repository's root: makes sure what their harness needs is there and exports KILN_GUEST_DIR
# and KILN_JAILER.
#
# Unless KILN_BENCH_PREBUILT=1, it builds what is missing or stale the way ./run.sh does
# (scripts/prepare.sh through kiln_prepare: the agent jar, the guest image, the jailer), then
# the invoker with its harness (bench/run-harness.sh --build-only). With KILN_BENCH_PREBUILT=1
# (bench/run-all.sh built everything once) it only checks, and says what is missing.
#
# bench_prepare NAME: NAME prefixes its messages; returns non-zero with a message when
# something cannot be had.
bench_prepare() {
  local name=$1
  if [ "${KILN_BENCH_PREBUILT:-0}" != 1 ]; then
    # shellcheck source=scripts/lib.sh
    . scripts/lib.sh
    kiln_prepare || { echo "[$name] ERROR: could not build the agent jar, the guest image or the jailer (above)" >&2; return 2; }
    bench/run-harness.sh --build-only invoker ||
      { echo "[$name] ERROR: could not build the invoker's harness (above)" >&2; return 2; }
  fi
  [ -f function-runtime/agent/target/kiln-agent.jar ] && [ -f invoker/target/bench-classpath.txt ] ||
    { echo "[$name] ERROR: not built: run without KILN_BENCH_PREBUILT=1 (or mvn -B -ntp -q -DskipTests package, then bench/run-harness.sh --build-only invoker)" >&2; return 2; }
  KILN_GUEST_DIR=${KILN_GUEST_DIR:-$(readlink -f "${KILN_CACHE:-$HOME/.cache/kiln}/guest/current" 2>/dev/null || true)}
  [ -n "$KILN_GUEST_DIR" ] && [ -f "$KILN_GUEST_DIR/vmlinux" ] && [ -f "$KILN_GUEST_DIR/initramfs.cpio" ] ||
    { echo "[$name] ERROR: no guest image: run microvm/guest/build.sh (or set KILN_GUEST_DIR)" >&2; return 2; }
  KILN_JAILER=${KILN_JAILER:-$(readlink -f "${KILN_CACHE:-$HOME/.cache/kiln}/jailer/current/kiln-jailer" 2>/dev/null || true)}
  export KILN_GUEST_DIR KILN_JAILER
}

# bench_raw_dir JSON NAME: where a scenario keeps its raw results: beside its JSON
# (bench/results/<run>/NAME/) when run-all.sh asked for one, else bench/results/<date>-NAME[-N].
bench_raw_dir() {
  local json=$1 name=$2 out base n=1
  if [ -n "$json" ]; then
    out=$(dirname "$json")/$name
  else
    out=$PWD/bench/results/$(date -u +%Y-%m-%d)-$name
  fi
  base=$out
  while [ -e "$out" ]; do n=$((n + 1)); out=$base-$n; done
  mkdir -p "$out"
  echo "$out"
}
