#!/usr/bin/env bash
# The fault-and-abuse suite at full size (`make chaos`): every scenario on SQLite and on
# Postgres, one line each, collected into a table at the end. `make test` runs the same
# scenarios at a smaller size.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPORT="$(mktemp /tmp/hookline-chaos.XXXXXX)"
trap 'rm -f "$REPORT"' EXIT
cd "$ROOT"
status=0
HOOKLINE_CHAOS=full HOOKLINE_CHAOS_REPORT="$REPORT" scripts/with-postgres.sh \
  cargo test -p server --test it -- chaos --test-threads=1 "$@" || status=$?
echo
echo "| scenario | database | accepted | delivered | lost | duplicated | worst delay | notes |"
echo "|---|---|---|---|---|---|---|---|"
sort "$REPORT"
exit $status
