#!/usr/bin/env bash
# Sync calls/s of a no-op function through 1, 2 and 3 Kiln nodes sharing one PostgreSQL (a
# throwaway server from scripts/test-postgres.sh), each node a process of its own on the process
# engine; one client spreads 16 concurrent callers round robin over the nodes, as a plain HTTP
# load balancer would. Warm-up, then 20 s of measurement per cluster size; prints a markdown
# table (calls/s, p50/p99, which nodes ran the calls) and appends nothing anywhere.
#
#   bench/cluster.sh [--nodes 1,2,3] [--callers 16] [--seconds 20] [--warmup 5] [--functions 1] [--out /tmp/cluster.md]
#
# About 2 minutes on 2 cores. On one machine the nodes share its cores: the numbers are ratios
# (the cost of a forwarding hop, what spreading homes buys), not what separate machines would do.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KILN_AGENT_JAR=${KILN_AGENT_JAR:-$root/function-runtime/agent/target/kiln-agent.jar}
"$root/bench/run-harness.sh" gateway io.kiln.gateway.bench.ClusterBench "$@"
