#!/usr/bin/env bash
# Runs the tests that need hardware KVM, from what the host already built, and puts their
# Surefire reports where scripts/test-summary.sh counts them:
# microvm/target/failsafe-reports/TEST-<where>-<class>.xml (suite name "<where>.<class>").
#
#   lab/run-kvm-tests.sh [--tests A,B,...] [--timeout SEC]
#
# On a host without hardware KVM (ours: kvm_pvm or none) they run inside the nested lab
# (lab/lab.sh), <where> = lab. On a host with kvm_amd or kvm_intel they run right here, no
# lab, <where> = hw: the same command is the one to use on real hardware. Either way the
# invoker's end-to-end tests (VmInvokerTest) run on the Java engine (kiln.test.engine=kvm),
# which the ordinary test run does not choose.
#
# Needs the build (mvn -B -ntp -q -DskipTests package) and the guest image (KILN_GUEST_DIR, or
# ~/.cache/kiln/guest/current). KILN_LAB=0 skips it all. Exit code: 0 when every test passed.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[kvm-tests] %s\n' "$*" >&2; }
. scripts/lib.sh

lab_tests=LinuxBootTest,LinuxSnapshotRestoreTest,VmInvokerTest,ExamplesEndToEndIT#hello,TripleFaultGuestTest,BootProtocolGuestTest,ConsoleEchoGuestTest,HostileGuestTest,SnapshotRestoreGuestTest,FailedCreateTest,IoctlsTest,KvmProbeTest
# On hardware the ordinary run already ran the microvm ones (they use /dev/kvm wherever it is
# hardware); only the Java engine's end to end (the invoker's, and hello through the gateway and
# the CLI) is new.
hw_tests=VmInvokerTest,ExamplesEndToEndIT#hello
# The whole default list takes about 18 minutes of lab on our 2-core machine: a lab killed at
# 15 minutes would fail a healthy run.
tests="" lab_timeout=2400
while [ $# -gt 0 ]; do
  case "$1" in
    --tests) tests=$2; shift 2 ;;
    --timeout) lab_timeout=$2; shift 2 ;;
    *) say "unknown option $1 (lab/run-kvm-tests.sh [--tests A,B] [--timeout SEC])"; exit 2 ;;
  esac
done

# Reports of an earlier run would be counted again, whether or not this one runs.
out=microvm/target/failsafe-reports
rm -f "$out"/TEST-lab-*.xml "$out"/TEST-hw-*.xml

if [ "${KILN_LAB:-1}" = 0 ]; then say "KILN_LAB=0: not running the hardware-KVM tests"; exit 0; fi
if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then
  where=hw tests=${tests:-$hw_tests} guest_timeout=60 slowdown=1
else
  where=lab tests=${tests:-$lab_tests} guest_timeout=300 slowdown=10
fi
[ -d microvm/target/test-classes ] && [ -d invoker/target/test-classes ] && [ -f cli/target/kiln-cli.jar ] ||
  { say "ERROR: not built: run mvn -B -ntp -q -DskipTests package first"; exit 2; }
guest=${KILN_GUEST_DIR:-$(readlink -f "${KILN_CACHE:-$HOME/.cache/kiln}/guest/current" 2>/dev/null || true)}
[ -n "$guest" ] && [ -f "$guest/vmlinux" ] || { say "ERROR: no guest image: run microvm/guest/build.sh (or set KILN_GUEST_DIR)"; exit 2; }

start=$(date +%s)
results=microvm/target/$where-results
rm -rf "$results"; mkdir -p "$results"
rc=0
if [ "$where" = lab ]; then
  say "running $tests on nested KVM in the lab (guest image $guest)"
  lab/lab.sh --timeout "$lab_timeout" --results "$results" --env KILN_GUEST_DIR="$guest" --env LAB_IN_LAB=1 \
    -- sh lab/kvm-tests.sh "$tests" "$guest_timeout" "$slowdown" "$(( lab_timeout - 300 ))" || rc=$?
else
  say "running $tests on this host's hardware KVM, no lab (guest image $guest)"
  KILN_GUEST_DIR=$guest LAB_RESULTS=$PWD/$results \
    sh lab/kvm-tests.sh "$tests" "$guest_timeout" "$slowdown" || rc=$?
fi

mkdir -p "$out"
reports=()
for r in "$results"/TEST-*.xml; do
  [ -f "$r" ] || continue
  name=$(basename "$r" .xml); name=${name#TEST-}
  sed "0,/<testsuite /s/\(<testsuite [^>]* name=\"\)\([^\"]*\)\"/\1$where.\2\"/" "$r" >"$out/TEST-$where-$name.xml"
  reports+=("$r")
  grep -o '<testcase name="[^"]*" classname="[^"]*" time="[^"]*"' "$r" |
    sed 's/<testcase name="\([^"]*\)" classname="io.kiln.\([^"]*\)" time="\([^"]*\)"/  \2.\1: \3 s/' >&2
done
count_reports "${reports[@]}"
total=$REPORTS_TESTS failed=$REPORTS_FAILED skipped=$REPORTS_SKIPPED
secs=$(( $(date +%s) - start ))
if [ "${#reports[@]}" = 0 ]; then
  say "FAILED: no test reports came back (exit $rc) in ${secs}s"
  exit $(( rc == 0 ? 1 : rc ))
fi
say "$where tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped in ${secs}s (reports: $out/TEST-$where-*.xml)"
[ "$failed" = 0 ] && [ "$rc" = 0 ] || exit $(( rc == 0 ? 1 : rc ))
