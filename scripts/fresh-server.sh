# Sourced by the scripts that try the API from outside: `fresh_server NAME [serve args]`
# starts the debug `hookline serve` on a fresh SQLite database in a temp dir ($DIR) on a
# free loopback port ($PORT), with an admin API key ($KEY), waits until it is ready, and
# stops it and removes the dir when the script exits. The server's log is $DIR/server.log.
fresh_server() {
  local name=$1; shift
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/hookline"
  DIR="$(mktemp -d "/tmp/hookline-$name.XXXXXX")"
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  export DATABASE_URL="sqlite://$DIR/hookline.db" RUST_LOG=warn
  trap 'if [ -n "${PID:-}" ]; then kill "$PID" 2>/dev/null; fi; rm -rf "$DIR"' EXIT INT TERM
  KEY="$("$BIN" api-key create --name "$name" --scope admin | tail -n 1)"
  "$BIN" serve --listen "127.0.0.1:$PORT" "$@" >"$DIR/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "[$name] the server did not become ready:" >&2; cat "$DIR/server.log" >&2; return 1
}
