#!/usr/bin/env bash
# Runs schemathesis (PyPI) with all its checks (its default) against the OpenAPI document of a real
# `hookline serve` on a fresh SQLite database, with an admin API key: any failure fails
# (a 5xx, an answer the document does not list, a schema-valid request refused, a
# schema-violating one accepted, ...). scripts/schemathesis_hooks.py tells it what a client
# knows and the document cannot say (the event type `st.event` exists; rules between
# fields), scripts/schemathesis.toml the one check that does not apply to one operation.
# Generated strings hold no NUL: the API refuses it everywhere, as documented.
# Usage: schemathesis.sh [max examples per operation, default 25]
# The cases come from a fixed seed, so that a run is repeatable and a red one can be
# replayed: HOOKLINE_ST_SEED=<n> picks another, HOOKLINE_ST_SEED=random a new one each run
# (to explore; what it finds is fixed, then stays covered by the seeded runs' checks).
set -euo pipefail
ST="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/st-venv/bin/schemathesis"
EXAMPLES="${1:-25}"
. "$(dirname "$0")/fresh-server.sh"
fresh_server schemathesis --site-root "$(cd "$(dirname "$0")/.." && pwd)/target/site"
curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/event-types" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d '{"name": "st.event", "example": {"n": 1}}' >/dev/null
SEED_VALUE="${HOOKLINE_ST_SEED:-20261202}"
SEED=""; [ "$SEED_VALUE" = random ] || SEED="--seed $SEED_VALUE"
echo "[schemathesis] $EXAMPLES examples per operation against 127.0.0.1:$PORT, seed ${SEED_VALUE}" >&2
status=0
cd "$DIR" # schemathesis keeps its cache in the working directory
export PYTHONPATH="$ROOT/scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks
"$ST" --config-file "$ROOT/scripts/schemathesis.toml" run "http://127.0.0.1:$PORT/api/v1/openapi.json" --generation-allow-x00 false \
  -H "Authorization: Bearer $KEY" --max-examples "$EXAMPLES" --request-timeout 10 $SEED \
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
