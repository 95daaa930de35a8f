#!/usr/bin/env bash
# Runs the Dockerfile's and compose.yaml's commands on this machine against the debug build
# (scripts/compose-check.py says what it checks); `make test` runs it under with-postgres.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/compose-venv"
exec "$VENV/bin/python" "$ROOT/scripts/compose-check.py" "${CARGO_TARGET_DIR:-$ROOT/target}/debug/hookline"
