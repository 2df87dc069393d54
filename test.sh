#!/usr/bin/env bash
# Sets up everything that is missing, builds, builds the guest image if stale, and runs
# every test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"

. scripts/lib.sh
# The tests' own packages too (PostgreSQL for the queue's tests): see scripts/setup.sh.
export KILN_SETUP_TESTS=1
kiln_prepare
echo "[test] guest image: $KILN_GUEST_DIR; jailer: $KILN_JAILER" >&2

start=$SECONDS
echo "[test] building and running every test (about 46 minutes on 2 cores under TCG: 21 of Maven, the queue's crash tests included, and 25 in the lab)" >&2
status=0
# install -Pfunction-kit: verify, and kiln-function-api and kiln-function-testkit (only they)
# go into ~/.m2 as ./run.sh puts them there, right after their own tests and before the CLI's
# InitEndToEndIT builds projects made by `kiln init` against them.
mvn -B -ntp -Pfunction-kit install -Dkiln.guest.dir="$KILN_GUEST_DIR" -Dkiln.jailer="$KILN_JAILER" || status=$?
echo "[test] Maven's build and tests took $((SECONDS - start)) s" >&2
# The tests that need hardware KVM and the Java engine's end to end, on real kvm_amd in the
# nested lab here (lab/README.md); on a host with hardware KVM, the Java engine's end to end
# right there (the run above covered the rest).
lab/run-kvm-tests.sh || status=$?
scripts/test-summary.sh
exit "$status"
