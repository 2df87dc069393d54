# Shared helpers for the guest build scripts. Sourced, never executed.

KILN_CACHE="${KILN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}"

log() { printf '[guest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# sha256 of stdin, hex only.
sha() { sha256sum | cut -d' ' -f1; }

# Human size of a file.
size_of() { du -h --apparent-size "$1" | cut -f1; }

# run_with_progress LABEL LOGFILE PATTERN CMD...: runs CMD with its output in LOGFILE and,
# every 15 s, prints how many lines matching PATTERN the log has (e.g. compiled objects),
# so a five-minute build is visibly alive. On failure the log's tail is printed.
run_with_progress() {
  local label=$1 logfile=$2 pattern=$3; shift 3
  local start=$SECONDS
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15 & wait $!
    kill -0 "$pid" 2>/dev/null || break
    log "$label: $(grep -c -- "$pattern" "$logfile" || true) steps, $((SECONDS - start)) s"
  done
  if ! wait "$pid"; then
    log "$label failed; last lines of $logfile:"
    tail -n 40 "$logfile" >&2
    return 1
  fi
  log "$label: done in $((SECONDS - start)) s"
}
