#!/usr/bin/env bash
# Installs what is missing, builds Kiln, its guest image (only if stale) and the examples,
# starts the platform on http://127.0.0.1:8080 with every example deployed, and prints how to
# call one. The gateway runs in the foreground of this script: Ctrl-C stops it (gracefully).
#
#   ./run.sh [gateway options]     e.g. ./run.sh --engine process   (see: ./run.sh --help)
#
# KILN_DATA moves the data directory (default ~/.local/share/kiln): functions, snapshots and
# the management token live there and survive restarts. A second run redeploys only examples
# whose jar or handler changed.
set -euo pipefail
cd "$(dirname "$0")"

for a in "$@"; do
    if [[ "$a" == "-h" || "$a" == "--help" ]]; then
        mvn -B -q -ntp -DskipTests -pl gateway -am package
        exec java -cp "gateway/target/classes:$(cat gateway/target/classpath.txt)" io.kiln.gateway.Main --help
    fi
done

. scripts/lib.sh
kiln_prepare
start=$SECONDS
# -Pfunction-kit: kiln-function-api and kiln-function-testkit also go into ~/.m2 (with sources
# and javadoc), where a project made by `kiln init` outside this tree finds them. Nothing else
# is installed.
echo "[run] building Kiln and the examples; installing the function API and test kit into ~/.m2" >&2
mvn -B -q -ntp -DskipTests -Pfunction-kit install >&2
echo "[run] built in $((SECONDS - start)) s" >&2

data=${KILN_DATA:-$HOME/.local/share/kiln}
url=http://127.0.0.1:8080
if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
    echo "[run] something already answers on $url: stop it first" >&2
    exit 1
fi

# In its own session: Ctrl-C reaches this script, which stops the gateway with SIGTERM, and not
# the QEMU processes of its instances, which would die at once instead of finishing their calls.
setsid java -Dkiln.jailer="$KILN_JAILER" -cp "gateway/target/classes:$(cat gateway/target/classpath.txt)" io.kiln.gateway.Main \
    --host 127.0.0.1 --port 8080 --data-dir "$data" "$@" &
gateway=$!
trap 'kill -TERM "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

echo "[run] starting the gateway on $url (data: $data)" >&2
start=$SECONDS
until curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; do
    if ! kill -0 "$gateway" 2>/dev/null; then
        echo "[run] the gateway exited; see its output above" >&2
        exit 1
    fi
    if (( SECONDS - start >= 120 )); then
        echo "[run] the gateway did not answer on $url/healthz within 120 s; see its output above" >&2
        exit 1
    fi
    sleep 0.2
done
echo "[run] the gateway answers after $((SECONDS - start)) s" >&2
token=$(cat "$data/token")
auth="Authorization: Bearer $token"

# Every `kiln deploy NAME --jar JAR --handler HANDLER` in the examples' READMEs (continued lines joined).
deploys=$(for readme in examples/*/README.md; do
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$readme" | grep -E '^\s*kiln deploy ' || true
done)

echo "[run] deploying the examples (the first deploy on a new guest image also boots the runtime for the base snapshot: about 10 s under TCG)" >&2
while read -r _ _ name _ jar _ handler _; do
    [[ -n "${name:-}" ]] || continue
    sha=$(sha256sum "$jar" | cut -d' ' -f1)
    current=$(curl -fsS -H "$auth" "$url/v1/functions/$name" 2>/dev/null || true)
    if [[ -n "$current" ]] && python3 - "$sha" "$handler" "$current" <<'PY'
import json, sys
fn = json.loads(sys.argv[3])
sys.exit(0 if fn["jar"]["sha256"] == sys.argv[1] and fn["handler"] == sys.argv[2] else 1)
PY
    then
        echo "[run] $name is up to date (version $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["version"])' "$current"))" >&2
        continue
    fi
    echo "[run] deploying $name ($handler from $jar)" >&2
    start=$SECONDS
    if ! out=$(curl -sS -X PUT -H "$auth" -H 'Content-Type: application/java-archive' \
            --data-binary "@$jar" -w '\n%{http_code}' "$url/v1/functions/$name?handler=$handler"); then
        echo "[run] deploying $name failed: $out" >&2
        exit 1
    fi
    code=${out##*$'\n'}
    if [[ "$code" != 200 && "$code" != 201 ]]; then
        echo "[run] deploying $name failed (HTTP $code): ${out%$'\n'*}" >&2
        exit 1
    fi
    echo "[run] deployed $name in $((SECONDS - start)) s" >&2
done <<< "$deploys"

# Every `kiln schedule add ...` and `kiln topic subscribe ...` in the examples' READMEs, through
# the CLI: both create or replace by name, so a second run changes nothing.
setups=$(for readme in examples/*/README.md; do
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$readme" | grep -E '^\s*kiln (schedule add|topic subscribe) ' || true
done)
export KILN_URL="$url" KILN_DATA="$data"
while read -r line; do
    [[ -n "$line" ]] || continue
    line=$(echo "$line" | sed -E 's/^\s*//')
    echo "[run] $line" >&2
    # eval: the README's quoting (a cron expression in quotes) is the shell's to read.
    if ! out=$(eval "bin/$line" 2>&1); then
        echo "[run] failed: $out" >&2
        exit 1
    fi
done <<< "$setups"

cat <<EOF_MSG

Kiln is running on $url with the examples deployed. Call one:

  curl -s -X POST $url/function/hello -H "Authorization: Bearer \$(cat $data/token)" -d 'Ada'

Or with the kiln command (docs/CLI.md; it finds the token in $data by itself):

  export PATH="$PWD/bin:\$PATH"
  kiln invoke hello --data 'Ada'
  kiln ls

List them: curl -s $url/v1/functions -H "Authorization: Bearer \$(cat $data/token)"
API: docs/API.md ($url/openapi.json). Ctrl-C stops Kiln.
EOF_MSG
wait "$gateway"
