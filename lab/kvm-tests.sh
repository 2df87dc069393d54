#!/bin/sh
# Runs the tests named in $1 through Maven, offline, against the classes and jars built on the
# host, in the microvm, invoker and cli modules, with the invoker's VM tests and the examples'
# end-to-end test on the Java engine (kiln.test.engine=kvm; the examples test deploys only
# hello), and copies the Surefire reports to $LAB_RESULTS. Called by
# lab/run-kvm-tests.sh: inside the lab (cwd = the repository; whatever it writes outside
# $LAB_RESULTS lands in the lab's tmpfs overlay), or directly on a host with hardware KVM.
#
#   lab/kvm-tests.sh TESTS [GUEST_TIMEOUT_SEC] [SLOWDOWN] [BUDGET_SEC]
#
# BUDGET_SEC (default: none) bounds the Maven run: past it, every JVM's threads are printed and
# Maven is stopped, so that a hung test leaves a trace and the reports of the classes that
# finished still come back (a lab killed by its own timeout returns neither).
set -u
tests=$1
timeout=${2:-300}
slowdown=${3:-10}
budget=${4:-0}
echo "[kvm-tests] $(uname -r), kvm_amd $(cat /sys/module/kvm_amd/initstate 2>/dev/null || echo absent)," \
  "kvm_intel $(cat /sys/module/kvm_intel/initstate 2>/dev/null || echo absent), $(nproc) CPU," \
  "$(free -m | awk '/^Mem:/{print $2}') MiB" >&2
# Jails need a cgroup with the memory controller: the lab's /init mounts none, so mount cgroup v2
# here (kiln-jailer's Cgroups enables memory and cpu below the root). On a host, leave its own.
if [ -n "${LAB_IN_LAB:-}" ] && ! grep -q ' /sys/fs/cgroup ' /proc/mounts; then
  mount -t cgroup2 none /sys/fs/cgroup && echo "[kvm-tests] mounted cgroup2 at /sys/fs/cgroup" >&2
fi
# The jailer (scripts/prepare.sh builds it): without it, jails are off and
# VmInvokerTest skips its jail case.
jailer=${KILN_JAILER:-$(readlink -f "${KILN_CACHE:-$HOME/.cache/kiln}/jailer/current/kiln-jailer" 2>/dev/null || true)}
# Old reports (in the lab: the host's, in the overlay's lower layer) would be copied as this run's.
modules="microvm invoker cli"
for m in $modules; do rm -rf "$m/target/surefire-reports"; done
# C1 only: Maven's own JIT work is a large part of its start-up under TCG.
export MAVEN_OPTS="${MAVEN_OPTS:--XX:TieredStopAtLevel=1}"
# The examples' test is a failsafe IT run here by Surefire: it gets the properties failsafe
# would give it (cli/pom.xml), and the guest image, since the gateway it starts sees no KILN_*.
mvn -o -B -ntp -pl microvm,invoker,cli -am test -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmaven.main.skip=true -Denforcer.skip=true -Dkiln.test.guestTimeoutSeconds="$timeout" \
  -Dkiln.test.printConsole=true -Dkiln.test.engine=kvm -Dkiln.test.slowdown="$slowdown" \
  -Dkiln.test.examples=hello -Dkiln.repo="$PWD" -Dkiln.test.classpath="$PWD/cli/target/test-classpath.txt" \
  -Dkiln.agent.jar="$PWD/function-runtime/agent/target/kiln-agent.jar" \
  -Dkiln.test.fixtures="$PWD/function-runtime/agent/src/test/fixtures" -Dkiln.guest.dir="${KILN_GUEST_DIR:-}" \
  -Dkiln.jailer="$jailer" &
mvn_pid=$!

# Every minute a line that says the lab is alive (a hung test and a hung lab look alike from
# outside: this tells them apart); past the budget, the threads of every JVM, then Maven stopped.
# Our JVMs answer jcmd; a jailed VMM host process (another uid and namespaces) gets SIGQUIT,
# and the invoker logs the dump it prints.
watch() {
  started=$(date +%s)
  while kill -0 "$mvn_pid" 2>/dev/null; do
    sleep 60
    secs=$(( $(date +%s) - started ))
    echo "[kvm-tests] ${secs}s: load $(cut -d' ' -f1-3 /proc/loadavg)," \
      "$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo) MiB available, $(pgrep -c -x java) JVMs" >&2
    if [ "$budget" -gt 0 ] && [ "$secs" -ge "$budget" ]; then
      echo "[kvm-tests] HUNG: the tests still run after ${budget}s; the threads of every JVM follow, then Maven is stopped" >&2
      for pid in $(pgrep -x java); do
        echo "[kvm-tests] ---- pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-300)" >&2
        timeout 120 jcmd "$pid" Thread.print >&2 2>&1 || kill -QUIT "$pid" 2>/dev/null
      done
      sleep 20 # the SIGQUIT dumps reach the log through the invoker
      pkill -KILL -f surefire 2>/dev/null
      kill "$mvn_pid" 2>/dev/null
      return
    fi
  done
}
watch &
watcher=$!
wait "$mvn_pid"
rc=$?
kill "$watcher" 2>/dev/null
for m in $modules; do
  ls "$m"/target/surefire-reports/TEST-*.xml >/dev/null 2>&1 && cp "$m"/target/surefire-reports/TEST-*.xml "$LAB_RESULTS"/
done
exit $rc
