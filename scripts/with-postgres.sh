#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster (initdb + postgres on 127.0.0.1, a
# free port, a temp dir), exporting HOOKLINE_TEST_PG_URL; stops and removes it afterwards,
# whatever the command's outcome.
set -euo pipefail

find_pg_bin() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local d; for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  echo "with-postgres: no initdb/postgres found (make test installs them)" >&2; exit 1
}
PG_BIN="$(find_pg_bin)"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

DIR="$(mktemp -d /tmp/hookline-pg.XXXXXX)"
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

as_pg "$PG_BIN/initdb" -D "$DIR/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c max_connections=400" \
  start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }

export HOOKLINE_TEST_PG_URL="postgres://postgres@127.0.0.1:$PORT"
echo "[with-postgres] throwaway cluster at $HOOKLINE_TEST_PG_URL" >&2
"$@"
