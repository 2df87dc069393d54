#!/usr/bin/env bash
# The set-up ./run.sh and ./test.sh share (through kiln_prepare in scripts/lib.sh): install
# what is missing, build the agent jar, build the guest image if its cache is stale, build
# kiln-jailer (the VMMs' jail) if its cache is stale.
#
#   scripts/prepare.sh GUEST_DIR_FILE [JAILER_FILE]
#
# Writes the guest image directory into GUEST_DIR_FILE and the jailer's path into JAILER_FILE.
# Prints nothing on stdout: what it and the tools it runs say (apt-get, Maven, the kernel
# build) is for humans, on stderr.
set -euo pipefail
out=${1:?usage: scripts/prepare.sh GUEST_DIR_FILE [JAILER_FILE]}
jailer_out=${2:-/dev/null}
exec 1>&2
cd "$(dirname "$0")/.."

step() { printf '[prepare] %s\n' "$*"; }

start=$SECONDS
scripts/setup.sh
step "system packages checked in $((SECONDS - start)) s"

start=$SECONDS
step "building the agent jar (the guest image contains it)"
mvn -B -ntp -q -DskipTests -pl function-runtime/agent -am package
step "agent jar built in $((SECONDS - start)) s"

start=$SECONDS
microvm/guest/build.sh --dir-file "$out"
step "guest image ready in $((SECONDS - start)) s: $(<"$out")"

microvm/src/main/c/build.sh --path-file "$jailer_out"
step "jailer ready: $(<"$jailer_out")"
