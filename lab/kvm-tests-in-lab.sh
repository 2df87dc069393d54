#!/bin/sh
# Runs inside the lab (lab/lab.sh, cwd = the repository): the microvm tests named in $1 through
# Maven, offline, against the classes built on the host; the Surefire reports go to
# $LAB_RESULTS. Everything written elsewhere (target/, ~/.m2) lands in the lab's tmpfs overlay.
set -u
tests=$1
timeout=${2:-300}
echo "[in-lab] $(uname -r), kvm_amd $(cat /sys/module/kvm_amd/initstate), $(nproc) CPU, $(free -m | awk '/^Mem:/{print $2}') MiB" >&2
# The host's old reports are in the overlay's lower layer: drop them, so only this run's are copied.
rm -rf microvm/target/surefire-reports
# C1 only: Maven's own JIT work is a large part of its start-up under TCG.
export MAVEN_OPTS="-XX:TieredStopAtLevel=1"
mvn -o -B -ntp -pl microvm -am test -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmaven.main.skip=true -Denforcer.skip=true -Dkiln.test.guestTimeoutSeconds="$timeout" \
  -Dkiln.test.printConsole=true
rc=$?
cp microvm/target/surefire-reports/TEST-*.xml "$LAB_RESULTS"/ 2>/dev/null || echo "[in-lab] no Surefire reports" >&2
exit $rc
