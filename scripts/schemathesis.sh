#!/usr/bin/env bash
# Runs schemathesis (PyPI) with all its checks (its default) against the OpenAPI document of a real
# `hookline serve` on a fresh SQLite database, with an admin API key: any failure fails
# (a 5xx, an answer the document does not list, a schema-valid request refused, a
# schema-violating one accepted, ...). scripts/schemathesis_hooks.py tells it what a client
# knows and the document cannot say (the event type `st.event` exists; rules between
# fields), scripts/schemathesis.toml the one check that does not apply to one operation.
# Generated strings hold no NUL: the API refuses it everywhere, as documented.
# Usage: schemathesis.sh [max examples per operation, default 25]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/debug/hookline"
ST="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/st-venv/bin/schemathesis"
EXAMPLES="${1:-25}"
DIR="$(mktemp -d /tmp/hookline-st.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DATABASE_URL="sqlite://$DIR/hookline.db" RUST_LOG=warn
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

KEY="$("$BIN" api-key create --name schemathesis --scope admin | tail -n 1)"
"$BIN" serve --listen "127.0.0.1:$PORT" --site-root "$ROOT/target/site" >"$DIR/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/event-types" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d '{"name": "st.event", "example": {"n": 1}}' >/dev/null
echo "[schemathesis] $EXAMPLES examples per operation against 127.0.0.1:$PORT" >&2
status=0
cd "$DIR" # schemathesis keeps its cache in the working directory
export PYTHONPATH="$ROOT/scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks
"$ST" --config-file "$ROOT/scripts/schemathesis.toml" run "http://127.0.0.1:$PORT/api/v1/openapi.json" --generation-allow-x00 false \
  -H "Authorization: Bearer $KEY" --max-examples "$EXAMPLES" --request-timeout 10 \
  --workers 1 --no-color >"$DIR/report.txt" 2>&1 || status=$?
cat "$DIR/report.txt"
# schemathesis also exits 1 when its own generator trips on a schema (seen: a Python
# recursion error drawing an endpoint body) with no failure found; that is reported above
# but does not fail the gate.
if [ "$status" != 0 ] && ! grep -q "unique failure" "$DIR/report.txt" \
   && grep -Eq "^  [0-9]+ generated, [0-9]+ passed" "$DIR/report.txt"; then
  echo "[schemathesis] no failures; schemathesis itself reported errors above" >&2
  status=0
fi
if grep -q "panicked" "$DIR/server.log"; then echo "[schemathesis] the server panicked:" >&2; grep -A3 panicked "$DIR/server.log" >&2; status=1; fi
exit $status
