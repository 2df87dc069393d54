#!/usr/bin/env bash
# Runs the microvm tests that need KVM on real (nested) KVM, inside the lab (lab/lab.sh), from
# what the host already built, and puts their Surefire reports where scripts/test-summary.sh
# counts them: microvm/target/failsafe-reports/TEST-lab-<class>.xml (suite name "lab.<class>").
#
#   lab/run-kvm-tests.sh [--tests A,B,...] [--timeout SEC]
#
# Needs the build (mvn -B -ntp -q -DskipTests package) and the guest image (KILN_GUEST_DIR, or
# ~/.cache/kiln/guest/current). Does nothing on a host with hardware KVM (the ordinary test run
# covers it there) or with KILN_LAB=0. Exit code: 0 when every test passed, else non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[lab-tests] %s\n' "$*" >&2; }
. scripts/lib.sh

tests=LinuxBootTest,LinuxSnapshotRestoreTest,TripleFaultGuestTest,BootProtocolGuestTest,ConsoleEchoGuestTest,HostileGuestTest,SnapshotRestoreGuestTest,FailedCreateTest,IoctlsTest,KvmProbeTest
lab_timeout=900 guest_timeout=300
while [ $# -gt 0 ]; do
  case "$1" in
    --tests) tests=$2; shift 2 ;;
    --timeout) lab_timeout=$2; shift 2 ;;
    *) say "unknown option $1 (lab/run-kvm-tests.sh [--tests A,B] [--timeout SEC])"; exit 2 ;;
  esac
done

# Reports of an earlier lab run would be counted again, whether or not this one runs.
out=microvm/target/failsafe-reports
rm -f "$out"/TEST-lab-*.xml

if [ "${KILN_LAB:-1}" = 0 ]; then say "KILN_LAB=0: not running the lab tests"; exit 0; fi
if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then
  say "this host has hardware KVM: the ordinary test run already runs these tests; no lab"
  exit 0
fi
[ -d microvm/target/test-classes ] || { say "ERROR: not built: run mvn -B -ntp -q -DskipTests package first"; exit 2; }
guest=${KILN_GUEST_DIR:-$(readlink -f "${KILN_CACHE:-$HOME/.cache/kiln}/guest/current" 2>/dev/null || true)}
[ -n "$guest" ] && [ -f "$guest/vmlinux" ] || { say "ERROR: no guest image: run microvm/guest/build.sh (or set KILN_GUEST_DIR)"; exit 2; }

start=$(date +%s)
results=microvm/target/lab-results
rm -rf "$results"; mkdir -p "$results"
say "running $tests on nested KVM (guest image $guest)"
rc=0
lab/lab.sh --timeout "$lab_timeout" --results "$results" --env KILN_GUEST_DIR="$guest" \
  -- sh lab/kvm-tests-in-lab.sh "$tests" "$guest_timeout" || rc=$?

mkdir -p "$out"
reports=()
for r in "$results"/TEST-*.xml; do
  [ -f "$r" ] || continue
  name=$(basename "$r" .xml); name=${name#TEST-}
  sed '0,/<testsuite /s/\(<testsuite [^>]* name="\)\([^"]*\)"/\1lab.\2"/' "$r" >"$out/TEST-lab-$name.xml"
  reports+=("$r")
  grep -o '<testcase name="[^"]*" classname="[^"]*" time="[^"]*"' "$r" |
    sed 's/<testcase name="\([^"]*\)" classname="io.kiln.microvm.\([^"]*\)" time="\([^"]*\)"/  \2.\1: \3 s/' >&2
done
count_reports "${reports[@]}"
total=$REPORTS_TESTS failed=$REPORTS_FAILED skipped=$REPORTS_SKIPPED
secs=$(( $(date +%s) - start ))
if [ "${#reports[@]}" = 0 ]; then
  say "FAILED: no test reports came back from the lab (lab exit $rc) in ${secs}s"
  exit $(( rc == 0 ? 1 : rc ))
fi
say "lab tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped in ${secs}s (reports: $out/TEST-lab-*.xml)"
[ "$failed" = 0 ] && [ "$rc" = 0 ] || exit $(( rc == 0 ? 1 : rc ))
