#!/usr/bin/env bash
# Builds the browser half into target/site/pkg: the hydrate wasm (cargo), its JS glue
# (wasm-bindgen), wasm-opt in release, and the stylesheet; then packs them with
# content-hashed names and brotli/gzip copies (scripts/pack-site.mjs).
# Usage: build-site.sh [debug|release]
#
# When cargo's wasm is unchanged since the last run of the same profile, wasm-bindgen and
# wasm-opt (30-60 s) are skipped: target/site-stage/<profile>/ still holds their output (one
# per profile, so `make test` between two `make run`s costs neither again), and the stamp
# beside it records which wasm that output came from.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROFILE="${1:-debug}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SITE="$ROOT/target/site"
STAGE="$ROOT/target/site-stage/$PROFILE"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:${HOOKLINE_TOOLS_DIR:-$HOME/.cache/hookline-tools}/node_modules/.bin:$PATH"

cd "$ROOT"
case "$PROFILE" in
  release)
    cargo build -p frontend --target wasm32-unknown-unknown --profile wasm-release
    WASM="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm" ;;
  debug)
    cargo build -p frontend --target wasm32-unknown-unknown
    WASM="$TARGET_DIR/wasm32-unknown-unknown/debug/frontend.wasm" ;;
  *) echo "usage: $0 [debug|release]" >&2; exit 2 ;;
esac

stamp="$PROFILE $(sha256sum "$WASM" | cut -d' ' -f1) $(wasm-bindgen --version)"
if [ -f "$STAGE/hookline_bg.wasm" ] && [ -f "$STAGE/hookline.js" ] \
  && [ "$(cat "$STAGE/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "[build-site] $PROFILE wasm unchanged: wasm-bindgen and wasm-opt skipped" >&2
else
  rm -rf "$STAGE"
  mkdir -p "$STAGE"
  wasm-bindgen --target web --no-typescript --out-dir "$STAGE" --out-name hookline "$WASM"
  if [ "$PROFILE" = release ]; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$STAGE/hookline_bg.wasm" -o "$STAGE/hookline_bg.wasm.opt"
    mv "$STAGE/hookline_bg.wasm.opt" "$STAGE/hookline_bg.wasm"
  fi
  echo "$stamp" > "$STAGE/.stamp"
fi
cp style/main.css "$STAGE/hookline.css"
if [ "$PROFILE" = release ]; then
  node scripts/pack-site.mjs "$STAGE" "$SITE/pkg"
else
  node scripts/pack-site.mjs --fast "$STAGE" "$SITE/pkg"
fi
echo "[build-site] $PROFILE site in $SITE" >&2
