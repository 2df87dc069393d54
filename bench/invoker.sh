#!/usr/bin/env bash
# The invoker's call path on the engine the host probe picks (QEMU TCG on a machine without
# hardware KVM): cold calls (restore a clone of the function snapshot, then INVOKE) and warm
# calls (an idle instance), latency and throughput at 1, 2 and 8 concurrent callers.
#
#   bench/invoker.sh [--engine auto|process|...] [--seconds N] [--cold N]
#
# Needs the guest image (./run.sh or ./test.sh builds it). Takes about 3 minutes
# under TCG on 2 cores.
set -euo pipefail
exec "$(dirname "$0")/run-harness.sh" invoker io.kiln.invoker.bench.InvokerBench "$@"
