#!/usr/bin/env bash
# Adds up every Surefire and Failsafe report under the tree and prints one closing line:
#   tests: N passed, N failed, N skipped
set -euo pipefail
cd "$(dirname "$0")/.."
total=0 failed=0 skipped=0
while IFS= read -r report; do
  head=$(grep -m1 -o '<testsuite [^>]*>' "$report" || true)
  attr() { sed -n "s/.* $1=\"\\([0-9]*\\)\".*/\\1/p" <<<"$head"; }
  total=$((total + $(attr tests)))
  failed=$((failed + $(attr failures) + $(attr errors)))
  skipped=$((skipped + $(attr skipped)))
done < <(find . \( -path '*/target/surefire-reports/TEST-*.xml' \
              -o -path '*/target/failsafe-reports/TEST-*.xml' \) -not -path './.git/*')
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
