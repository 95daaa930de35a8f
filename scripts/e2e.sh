#!/usr/bin/env bash
# Playwright in headless Chromium against the real built server, once on SQLite and once
# on Postgres (the specs start and restart `hookline` themselves).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export HOOKLINE_BIN="${HOOKLINE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/hookline}"
export HOOKLINE_SITE_ROOT="$ROOT/target/site"
# One master key for the whole run (Postgres needs one given; restarts must reuse it).
export HOOKLINE_MASTER_KEY="${HOOKLINE_MASTER_KEY:-$(head -c 32 /dev/urandom | base64)}"
# Alert rules evaluated often, so the alerts journey sees a change within seconds.
export HOOKLINE_ALERT_INTERVAL="${HOOKLINE_ALERT_INTERVAL:-500ms}"
cd "$ROOT/end2end"
for db in sqlite postgres; do
  if [ "$db" = postgres ] && [ -z "${HOOKLINE_TEST_PG_URL:-}" ]; then
    echo "e2e: HOOKLINE_TEST_PG_URL is not set; run through scripts/with-postgres.sh" >&2; exit 1
  fi
  echo "[e2e] Playwright on $db" >&2
  HOOKLINE_E2E_DB="$db" npx playwright test "$@"
done
