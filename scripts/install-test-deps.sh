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

# A PyPI tool at an exact version in a virtualenv of its own under the tools dir:
# venv_tool DIR PACKAGE VERSION (its command has the package's name).
venv_tool() {
  local venv="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/$1" package=$2 version=$3
  if ! "$venv/bin/$package" --version 2>/dev/null | grep -q "$version"; then
    log "installing $package $version"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$package==$version"
  fi
}
venv_tool st-venv schemathesis 4.32.5                # scripts/schemathesis.sh
venv_tool gen-venv openapi-python-client 0.29.1      # scripts/generated-client.sh
# scripts/verify_v1a.py: ed25519 verified by an implementation that is not Hookline's.
CRYPTO_VENV="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/crypto-venv"
if ! "$CRYPTO_VENV/bin/python" -c "import cryptography; assert cryptography.__version__ == '44.0.0'" 2>/dev/null; then
  log "installing cryptography 44.0.0"
  python3 -m venv "$CRYPTO_VENV"
  "$CRYPTO_VENV/bin/pip" install -q "cryptography==44.0.0"
fi
# scripts/compose-check.py reads compose.yaml with PyYAML.
COMPOSE_VENV="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/compose-venv"
if ! "$COMPOSE_VENV/bin/python" -c "import yaml; assert yaml.__version__ == '6.0.3'" 2>/dev/null; then
  log "installing PyYAML 6.0.3"
  python3 -m venv "$COMPOSE_VENV"
  "$COMPOSE_VENV/bin/pip" install -q "PyYAML==6.0.3"
fi
