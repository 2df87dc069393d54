#!/usr/bin/env bash
# Sets up everything that is missing, builds, builds the guest image if stale, and runs
# every test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"

guest=$(scripts/prepare.sh)
export KILN_GUEST_DIR="$guest"
echo "[test] guest image: $guest"

status=0
mvn -B -ntp verify -Dkiln.guest.dir="$guest" || status=$?
scripts/test-summary.sh
exit "$status"
