#!/usr/bin/env bash
# Builds the browser half into target/site/pkg: the hydrate wasm (cargo), its JS glue
# (wasm-bindgen), and the stylesheet. Usage: build-site.sh [debug|release]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROFILE="${1:-debug}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SITE="$ROOT/target/site"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/node_modules/.bin:$PATH"

cd "$ROOT"
if [ "$PROFILE" = release ]; then
  cargo build -p frontend --target wasm32-unknown-unknown --profile wasm-release
  WASM="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
else
  cargo build -p frontend --target wasm32-unknown-unknown
  WASM="$TARGET_DIR/wasm32-unknown-unknown/debug/frontend.wasm"
fi

mkdir -p "$SITE/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$SITE/pkg" --out-name hookline "$WASM"
if [ "$PROFILE" = release ]; then
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$SITE/pkg/hookline_bg.wasm" -o "$SITE/pkg/hookline_bg.wasm.opt"
  mv "$SITE/pkg/hookline_bg.wasm.opt" "$SITE/pkg/hookline_bg.wasm"
fi
cp style/main.css "$SITE/pkg/hookline.css"
echo "[build-site] $PROFILE site in $SITE ($(du -h "$SITE/pkg/hookline_bg.wasm" | cut -f1) wasm)" >&2
