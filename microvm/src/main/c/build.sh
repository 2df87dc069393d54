#!/usr/bin/env bash
# Builds kiln-jailer (kiln-jailer.c, next to this script) if its cache has no build of this
# source: $KILN_CACHE/jailer/<first 12 hex of the source's sha256>/kiln-jailer (default
# ~/.cache/kiln); $KILN_CACHE/jailer/current points at the newest build (the gateway's fallback
# when neither -Dkiln.jailer nor KILN_JAILER is set). gcc comes from scripts/setup.sh. Progress goes to stderr; with
# --path-file FILE the binary's path is written into FILE, for the script that asked.
set -euo pipefail
exec 1>&2
here=$(cd "$(dirname "$0")" && pwd)
path_file=
if [ "${1:-}" = --path-file ]; then
  path_file=${2:?usage: build.sh [--path-file FILE]}
fi
cache="${KILN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}/jailer"
src="$here/kiln-jailer.c"
key=$(sha256sum <"$src" | cut -c1-12)
dir="$cache/$key"
bin="$dir/kiln-jailer"
if [ -x "$bin" ]; then
  echo "[jailer] $key cached: $bin"
else
  echo "[jailer] $key not cached: building $bin"
  mkdir -p "$dir"
  # Into a temporary name first: a concurrent build or run never sees a half-written binary.
  tmp=$(mktemp "$dir/kiln-jailer.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  gcc -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -o "$tmp" "$src"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$bin"
fi
# Renamed over the old link: a reader never finds none.
ln -sfn "$key" "$cache/current.$$"
mv -fT "$cache/current.$$" "$cache/current"
if [ -n "$path_file" ]; then
  printf '%s' "$bin" >"$path_file"
fi
