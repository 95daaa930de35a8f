#!/usr/bin/env bash
# Installs the build toolchain Hookline needs, skipping whatever is already present.
# Idempotent: safe to run on every `make run` / `make test`.
#   - wasm32 target (rustup)
#   - wasm-bindgen-cli 0.2.130 (must equal the wasm-bindgen crate pinned in Cargo.toml), built
#     from its crates.io source with one lockfile pin: its published lock wants a webpki-roots
#     release the registry here does not serve
#   - wasm-opt from npm `binaryen` (Debian's binaryen breaks hydration)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
mkdir -p "$TOOLS"
export PATH="$CARGO_BIN:$TOOLS/node_modules/.bin:$PATH"

log() { echo "[install-tools] $*" >&2; }

fetch_crate() { # name version -> prints the unpacked source dir
  local name=$1 version=$2 dir="$TOOLS/src/$1-$2"
  if [ ! -f "$dir/Cargo.toml" ]; then
    mkdir -p "$TOOLS/src"
    curl -fsSL "https://static.crates.io/crates/$name/$name-$version.crate" -o "$TOOLS/src/$name-$version.crate"
    tar -xzf "$TOOLS/src/$name-$version.crate" -C "$TOOLS/src"
  fi
  echo "$dir"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Fast, low-memory tool builds: these are tools, not the product.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16

if ! wasm-bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
  log "building wasm-bindgen-cli $BINDGEN_VERSION"
  src=$(fetch_crate wasm-bindgen-cli "$BINDGEN_VERSION")
  (cd "$src" && cargo update -p webpki-roots --precise 1.0.10 && cargo install --path . --locked --root "${CARGO_HOME:-$HOME/.cargo}")
fi

if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
  log "installing wasm-opt (npm binaryen $BINARYEN_VERSION)"
  (cd "$TOOLS" && { [ -f package.json ] || echo '{"private":true}' > package.json; } && npm i --no-audit --no-fund -D "binaryen@$BINARYEN_VERSION" >/dev/null)
fi
log "toolchain ready"
