#!/usr/bin/env bash
# What a jail costs a QEMU instance: the same gateway run twice on one engine, --jail off and
# --jail on, side by side. Per mode: cold calls (a clone restored for the call: keepAlive 0, a
# call every 2 s, only calls the gateway marked X-Kiln-Start: cold are counted), warm calls
# (back to back on one kept instance), and the memory of that idle instance's QEMU after its
# calls (smaps_rollup: Rss, Pss, Private; and how much of the Rss is not guest RAM: the VMM's
# own, what a group's memory limit must allow per VM beyond the guest's memory).
#
#   bench/jail.sh [--engine qemu-tcg] [--cold N] [--warm N] [--out FILE]
#
# Needs root (jails), the guest image and the jailer (./run.sh or ./test.sh build both; or
# KILN_GUEST_DIR / KILN_JAILER). About 3 minutes under TCG on 2 cores. KILN_BENCH_PREBUILT=1
# skips the build (the gateway's classes and examples/hello/target/hello.jar must be there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
engine=qemu-tcg cold=5 warm=30 out=
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) engine=$2; shift 2 ;;
    --cold) cold=$2; shift 2 ;;
    --warm) warm=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: bench/jail.sh [--engine E] [--cold N] [--warm N] [--out FILE]" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "[bench] jails need root" >&2; exit 1; }

if [ -z "${KILN_BENCH_PREBUILT:-}" ]; then
  echo "[bench] building the gateway and the hello example ..." >&2
  mvn -B -ntp -q -o -pl gateway,examples/hello -am -DskipTests package >&2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-jail.XXXXXX")
gateway=
cleanup() {
  if [ -n "$gateway" ]; then kill -TERM "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cp examples/hello/target/hello.jar "$work/hello.jar"
cp="gateway/target/classes:$(cat gateway/target/classpath.txt)"

# stats FILE: "median p90 min max" of the numbers in FILE (ms, 1 decimal).
stats() { python3 - "$1" <<'PY'
import sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
if not v:
    print("- - - -"); sys.exit()
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print(f"{p(0.5):.1f} {p(0.9):.1f} {v[0]:.1f} {v[-1]:.1f}")
PY
}

# call URL TOKEN FN: "<cold|warm> <ms>" of one call.
call() {
  curl -fsS -o /dev/null -D "$work/headers" -w '%{time_total}\n' -H "Authorization: Bearer $2" \
      -H 'Content-Type: application/json' -d '{"name":"bench"}' "$1/function/$3" >"$work/time"
  printf '%s %s\n' "$(tr -d '\r' <"$work/headers" | sed -n 's/^X-Kiln-Start: //Ip')" \
      "$(python3 -c 'import sys; print(round(float(sys.argv[1]) * 1000, 1))' "$(cat "$work/time")")"
}

results=()
port=18490
for mode in off on; do
  port=$((port + 1))
  data="$work/data-$mode"
  url="http://127.0.0.1:$port"
  setsid java -cp "$cp" io.kiln.gateway.Main --host 127.0.0.1 --port "$port" --data-dir "$data" \
      --engine "$engine" --jail "$mode" >"$work/gateway-$mode.log" 2>&1 &
  gateway=$!
  until curl -fsS -o "$work/health" "$url/healthz" 2>/dev/null; do
    kill -0 "$gateway" 2>/dev/null || { cat "$work/gateway-$mode.log" >&2; exit 1; }
    sleep 0.2
  done
  jail=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jail"]; print(j["enabled"], "-", j["why"])' "$work/health")
  echo "[bench] --jail $mode: $jail" >&2
  token=$(cat "$data/token")
  for fn in warm cold; do
    keep=10m; [ "$fn" = cold ] && keep=0s
    curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/java-archive' \
        --data-binary @"$work/hello.jar" \
        "$url/v1/functions/$fn?handler=com.example.hello.Hello&memory=256&keepAlive=$keep&maxConcurrency=1&maxInstances=1"
  done
  : >"$work/warm-$mode"
  call "$url" "$token" warm >/dev/null # the first call restores the instance the others reuse
  for _ in $(seq "$warm"); do
    read -r start ms < <(call "$url" "$token" warm)
    [ "$start" = warm ] && echo "$ms" >>"$work/warm-$mode"
  done
  # The gateway's one QEMU: function warm's instance (cold has none between calls: keepAlive 0).
  mem=$(python3 - "$gateway" <<'PY'
import os, sys
gateway = sys.argv[1]
parent = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            parent[p] = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]
        except OSError:
            pass
def under(p):
    while p in parent and p != "1":
        p = parent[p]
        if p == gateway:
            return True
    return False
qemus = [p for p in parent if under(p)
         and open(f"/proc/{p}/cmdline", "rb").read().startswith(b"/usr/bin/qemu-system-x86_64\0")]
if len(qemus) != 1:
    sys.exit(f"expected one QEMU under the gateway, found {qemus}")
pid = qemus[0]
roll = {}
for line in open(f"/proc/{pid}/smaps_rollup"):
    parts = line.split()
    if len(parts) >= 3 and parts[-1] == "kB":
        roll[parts[0].rstrip(":")] = int(parts[1])
# The guest RAM mapping: the snapshot's memory file QEMU maps.
ram, cur = 0, None
for line in open(f"/proc/{pid}/smaps"):
    head = line.split()
    if "-" in head[0] and len(head) >= 5:
        cur = head[5] if len(head) >= 6 else ""
    elif head[0] == "Rss:" and cur and cur.endswith("/memory"):
        ram += int(head[1])
private = roll["Private_Clean"] + roll["Private_Dirty"]
print(f'{roll["Rss"] // 1024} {roll["Pss"] // 1024} {private // 1024} {ram // 1024} {(roll["Rss"] - ram) // 1024}')
PY
)
  : >"$work/cold-$mode"
  for _ in $(seq "$cold"); do
    sleep 2 # keepAlive 0: the last call's instance goes; a call finding none restores one
    read -r start ms < <(call "$url" "$token" cold)
    [ "$start" = cold ] && echo "$ms" >>"$work/cold-$mode"
  done
  results+=("$mode|$(wc -l <"$work/cold-$mode") $(stats "$work/cold-$mode")|$(wc -l <"$work/warm-$mode") $(stats "$work/warm-$mode")|$mem")
  kill -TERM "$gateway"; wait "$gateway" 2>/dev/null || true; gateway=
done

report=$(
  echo "# Jail cost on $engine ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -r))"
  echo
  echo "Method: bench/jail.sh (hello example, 256 MiB; one gateway per mode, one after the other)."
  echo
  echo "| --jail | cold calls: n, median / p90 / min / max ms | warm calls: n, median / p90 / min / max ms | idle instance QEMU: Rss / Pss / Private MiB | guest RAM in Rss MiB | Rss beyond guest RAM MiB |"
  echo "|---|---|---|---|---|---|"
  for r in "${results[@]}"; do
    IFS='|' read -r mode c w m <<<"$r"
    read -r cn c50 c90 cmin cmax <<<"$c"; read -r wn w50 w90 wmin wmax <<<"$w"
    read -r rss pss priv ram beyond <<<"$m"
    echo "| $mode | $cn: $c50 / $c90 / $cmin / $cmax | $wn: $w50 / $w90 / $wmin / $wmax | $rss / $pss / $priv | $ram | $beyond |"
  done
)
echo "$report"
[ -z "$out" ] || echo "$report" >"$out"
