#!/usr/bin/env bash
# Generates a Python client from the OpenAPI document of a real `hookline serve` (fresh
# SQLite database) with openapi-python-client (PyPI), then drives the server with it:
# scripts/generated_client/drive.py manages an event type and an endpoint, publishes,
# reads typed errors, and checks the event reaches a local receiver.
set -euo pipefail
VENV="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/gen-venv"
. "$(dirname "$0")/fresh-server.sh"
# The receiver is on loopback, which the guarded client refuses unless told.
fresh_server generated-client --allow-private-targets
curl -fsS "http://127.0.0.1:$PORT/api/v1/openapi.json" -o "$DIR/openapi.json"
(cd "$DIR" && "$VENV/bin/openapi-python-client" generate --path openapi.json --meta none \
  --config "$ROOT/scripts/generated_client/config.yaml" >"$DIR/generate.log" 2>&1) \
  || { cat "$DIR/generate.log" >&2; exit 1; }
# A warning means the generator left a part of the document out: the document is fixed,
# not the warning ignored.
if grep -q "Warning" "$DIR/generate.log"; then
  echo "[generated-client] the generator left parts of the document out:" >&2
  cat "$DIR/generate.log" >&2
  exit 1
fi
PYTHONPATH="$DIR" "$VENV/bin/python" "$ROOT/scripts/generated_client/drive.py" \
  "http://127.0.0.1:$PORT" "$KEY"
