#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: the queue's tests (PostgresServer in kiln-queue's
# test-jar) run against a real server, not an emulation, and must leave nothing behind.
#
#   scripts/test-postgres.sh start DIR   a fresh cluster in DIR; prints its JDBC URL, one line
#   scripts/test-postgres.sh stop DIR    stops it at once and removes DIR
#
# Only the URL goes to stdout (callers read it); everything else goes to stderr.
# KILN_TEST_PG_FSYNC=off turns fsync off; it stays on by default because benchmarks compare
# durable stores, and a PostgreSQL without fsync would win by not being one.
set -euo pipefail

log() { printf '[test-postgres] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() { die "usage: $0 start|stop DIR"; }
[ $# -eq 2 ] || usage
command=$1
dir=$2
[ -n "$dir" ] || usage

# Debian's server binaries, never PATH's: PATH may hold other initdb/pg_ctl (this machine has
# links in /usr/local/bin that dangle once the server package is removed), and Debian keeps the
# server itself out of PATH anyway. The highest major with a server wins: a client-only major
# (postgresql-client-NN alone, or a removed server's leftovers) has psql but no initdb.
pg_bin() {
  local major bin tool ok
  for major in $(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null \
      | grep -E '^[0-9]+$' | sort -rn); do
    bin=/usr/lib/postgresql/$major/bin
    ok=1
    for tool in initdb pg_ctl postgres psql pg_isready; do
      [ -x "$bin/$tool" ] || ok=0
    done
    if [ $ok = 1 ]; then
      echo "$bin"
      return 0
    fi
  done
  die "PostgreSQL's server is not installed (no /usr/lib/postgresql/<major>/bin with initdb, pg_ctl, postgres, psql, pg_isready): run KILN_SETUP_TESTS=1 scripts/setup.sh (./test.sh does)"
}

# PostgreSQL refuses to run as root; as root, run it as the 'postgres' user Debian's package
# creates. Anyone else runs it as themselves.
as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

# A port nothing listens on now, from the kernel. Another process could take it before the
# server binds, so start() tries again with a new port when the bind fails.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local bin data port attempt
  bin=$(pg_bin)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (Debian's postgresql package creates it): run KILN_SETUP_TESTS=1 scripts/setup.sh (./test.sh does)"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty; start wants a fresh directory"
  data=$dir/data
  mkdir -p "$dir/socket"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$dir"
    # The server must reach DIR through every parent; a directory under /root would not do.
    setpriv --reuid=postgres --regid=postgres --init-groups -- test -w "$dir" \
      || die "user postgres cannot write $dir (a parent directory is closed to it?); use a directory whose parents others may enter, e.g. under /tmp"
  fi

  # --no-sync: the cluster is thrown away, waiting for the disk here only slows every test run.
  # The C locale: tests must not depend on which locales the machine has; UTF8 is what the
  # queue stores.
  if ! as_server_user "$bin/initdb" -D "$data" -U postgres --encoding=UTF8 --locale=C \
      --auth=trust --no-sync >"$dir/initdb.log" 2>&1; then
    tail -n 30 "$dir/initdb.log" >&2
    die "initdb failed (log above, in $dir/initdb.log)"
  fi

  # Trust, but from this machine only: the socket in DIR and loopback TCP, nothing else.
  cat >"$data/pg_hba.conf" <<'EOF'
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  cat >>"$data/postgresql.conf" <<EOF

# scripts/test-postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/socket'
max_connections = 100
fsync = ${KILN_TEST_PG_FSYNC:-on}
EOF

  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    # -w -t: pg_ctl waits until the server accepts connections, for at most 60 seconds.
    if as_server_user "$bin/pg_ctl" start -D "$data" -l "$dir/log" -w -t 60 -o "-p $port" >&2; then
      break
    fi
    # Someone took the port between free_port and the bind: try another. Anything else is fatal.
    if grep -q 'could not bind\|Address already in use' "$dir/log" 2>/dev/null && [ "$attempt" -lt 5 ]; then
      log "port $port was taken; trying another"
      as_server_user "$bin/pg_ctl" stop -D "$data" -m immediate >/dev/null 2>&1 || true
      : >"$dir/log"
      continue
    fi
    tail -n 30 "$dir/log" >&2 || true
    as_server_user "$bin/pg_ctl" stop -D "$data" -m immediate >/dev/null 2>&1 || true
    die "the server did not start (its log's tail above, all of it in $dir/log)"
  done

  # pg_ctl waited on the socket; the tests come over TCP, so check that path too.
  local deadline=$((SECONDS + 30))
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$dir/log" >&2 || true
      die "the server runs but 127.0.0.1:$port refused connections for 30 s (log above)"
    fi
    sleep 0.1
  done

  "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c 'CREATE DATABASE kiln' >&2 || die "could not create the database kiln (server log: $dir/log)"

  echo "jdbc:postgresql://127.0.0.1:$port/kiln?user=postgres"
}

stop() {
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    # immediate: nothing in a throwaway cluster is worth a checkpoint.
    as_server_user "$(pg_bin)/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >&2 \
      || log "pg_ctl stop failed; removing $dir anyway"
  fi
  rm -rf "$dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
