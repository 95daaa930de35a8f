#!/usr/bin/env bash
# Installs what the tests need, skipping what is present: PostgreSQL server binaries and a
# `postgres` system user (the cluster refuses to run as root), Debian's Chromium, and the
# end-to-end suite's npm packages (Playwright, without its browser download).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "[install-test-deps] $*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
APT_UPDATED=""
apt_install() {
  [ -n "$APT_UPDATED" ] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

have_pg() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
if ! have_pg; then log "installing PostgreSQL server binaries"; apt_install postgresql; fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  log "creating the postgres system user"
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

if [ ! -x /usr/bin/chromium ]; then log "installing Chromium"; apt_install chromium; fi

cd "$ROOT/end2end"
if [ ! -d node_modules/@playwright/test ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing the end-to-end suite's npm packages"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null
fi

# schemathesis (PyPI) in its own virtualenv, for scripts/schemathesis.sh.
SCHEMATHESIS_VERSION=4.32.5
VENV="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/st-venv"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
