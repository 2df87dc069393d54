#!/usr/bin/env bash
# The set-up ./run.sh and ./test.sh share: install what is missing, build the agent jar,
# build the guest image if its cache is stale. Prints the guest image directory on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "[prepare] building the agent jar (the guest image contains it)" >&2
mvn -B -ntp -q -DskipTests -pl function-runtime/agent -am package >&2
microvm/guest/build.sh
