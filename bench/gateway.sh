#!/usr/bin/env bash
# Where a warm call's time goes through the gateway: client latency, the gateway's own time
# (Server-Timing), the invoker and the VM, against a bare Vert.x handler in the same JVM and
# with the same client, at 1, 2 and 8 concurrent clients (or --clients 1,8,32). The function is the hello example.
#
#   bench/gateway.sh [--engine auto|process|qemu-tcg|...] [--calls N] [--clients 1,8,32] [--out /tmp/gateway.md]
#                    [--json FILE] [--quick]
#
# --json FILE also writes the results for bench/run-all.sh (scenario gateway); --quick takes 200
# calls per row. Needs the guest image for a VM engine (./run.sh or ./test.sh builds it;
# KILN_GUEST_DIR or ~/.cache/kiln/guest/current). About 2 minutes under TCG on 2 cores.
# KILN_BENCH_PREBUILT=1: the hello example and the harness are already built (run-all.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ "${KILN_BENCH_PREBUILT:-0}" != 1 ]]; then
    echo "[bench] building the hello example ..." >&2
    mvn -B -ntp -q -pl examples/hello -am -DskipTests package
fi
hello=$(mktemp "${TMPDIR:-/tmp}/kiln-bench-hello.XXXXXX.jar")
trap 'rm -f "$hello"' EXIT
cp examples/hello/target/hello.jar "$hello"
# The process engine (--engine process) runs the agent jar the guest image holds.
export KILN_AGENT_JAR=${KILN_AGENT_JAR:-$root/function-runtime/agent/target/kiln-agent.jar}
"$root/bench/run-harness.sh" gateway io.kiln.gateway.bench.GatewayBench \
    --jar "$hello" --handler com.example.hello.Hello "$@"
