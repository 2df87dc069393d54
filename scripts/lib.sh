# What ./run.sh and ./test.sh share. Sourced, never executed.
#
# Values pass between scripts in files, never on stdout: apt-get, Maven and the kernel build
# all write to stdout, and a value read from a pipe they share is whatever they said (the
# first run on a new machine once handed the gateway apt's transcript as a path).

# kiln_prepare: installs what is missing, builds the agent jar, the guest image and the jailer
# if stale, and exports KILN_GUEST_DIR, the image this run uses, and KILN_JAILER, the jailer's
# path. Everything it prints goes to stderr.
kiln_prepare() {
  local dir_file jailer_file rc=0
  dir_file=$(mktemp "${TMPDIR:-/tmp}/kiln-guest-dir.XXXXXX")
  jailer_file=$(mktemp "${TMPDIR:-/tmp}/kiln-jailer-path.XXXXXX")
  scripts/prepare.sh "$dir_file" "$jailer_file" || rc=$?
  if [ "$rc" = 0 ]; then
    KILN_GUEST_DIR=$(<"$dir_file")
    KILN_JAILER=$(<"$jailer_file")
  fi
  rm -f "$dir_file" "$jailer_file"
  [ "$rc" = 0 ] || return "$rc"
  if [ ! -f "$KILN_GUEST_DIR/manifest.json" ]; then
    echo "[prepare] the guest image build named '$KILN_GUEST_DIR', which holds no image: run microvm/guest/build.sh and read its errors" >&2
    return 1
  fi
  if [ ! -x "$KILN_JAILER" ]; then
    echo "[prepare] the jailer build named '$KILN_JAILER', which is no executable: run microvm/src/main/c/build.sh and read its errors" >&2
    return 1
  fi
  export KILN_GUEST_DIR KILN_JAILER
}

# count_reports REPORT...: adds up Surefire/Failsafe XML reports (the attributes of each
# <testsuite>) into REPORTS_TESTS, REPORTS_FAILED (failures + errors) and REPORTS_SKIPPED.
# The one way the scripts count tests: scripts/test-summary.sh and lab/run-kvm-tests.sh.
count_reports() {
  REPORTS_TESTS=0 REPORTS_FAILED=0 REPORTS_SKIPPED=0
  local report head
  for report in "$@"; do
    head=$(grep -m1 -o '<testsuite [^>]*>' "$report" || true)
    REPORTS_TESTS=$((REPORTS_TESTS + $(report_attr tests "$head")))
    REPORTS_FAILED=$((REPORTS_FAILED + $(report_attr failures "$head") + $(report_attr errors "$head")))
    REPORTS_SKIPPED=$((REPORTS_SKIPPED + $(report_attr skipped "$head")))
  done
}

# report_attr NAME TESTSUITE_TAG: the number in attribute NAME of the tag.
report_attr() { sed -n "s/.* $1=\"\\([0-9]*\\)\".*/\\1/p" <<<"$2"; }
