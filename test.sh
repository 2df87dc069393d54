#!/usr/bin/env bash
# Sets up everything that is missing, builds, builds the guest image if stale, and runs
# every test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"

. scripts/lib.sh
kiln_prepare
echo "[test] guest image: $KILN_GUEST_DIR"

status=0
mvn -B -ntp verify -Dkiln.guest.dir="$KILN_GUEST_DIR" || status=$?
scripts/test-summary.sh
exit "$status"
