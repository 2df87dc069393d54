#!/usr/bin/env bash
# Adds up every Surefire and Failsafe report under the tree and prints one closing line:
#   tests: N passed, N failed, N skipped
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
mapfile -t reports < <(find . \( -path '*/target/surefire-reports/TEST-*.xml' \
              -o -path '*/target/failsafe-reports/TEST-*.xml' \) -not -path './.git/*')
count_reports "${reports[@]}"
echo "tests: $((REPORTS_TESTS - REPORTS_FAILED - REPORTS_SKIPPED)) passed, $REPORTS_FAILED failed, $REPORTS_SKIPPED skipped"
