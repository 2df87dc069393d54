#!/usr/bin/env bash
# The durable queue through a no-op function: enqueue → start latency (p50/p99) at a light load,
# and throughput with 8 clients, on embedded SQLite and on PostgreSQL side by side (a throwaway
# server from scripts/test-postgres.sh). The process engine runs the function: the queue is what
# is measured, not the VMs.
#
#   bench/queue.sh [--calls 5000] [--stores sqlite,postgres] [--out /tmp/queue.md] [--json FILE] [--quick]
#
# --json FILE also writes the results for bench/run-all.sh (scenario queue); a store that cannot
# start is then left out with a note and the exit status is 3. --quick: 500 calls, 100 paced.
# About 2 minutes on 2 cores (quick: under 1 minute).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KILN_AGENT_JAR=${KILN_AGENT_JAR:-$root/function-runtime/agent/target/kiln-agent.jar}
"$root/bench/run-harness.sh" gateway io.kiln.gateway.bench.QueueBench "$@"
