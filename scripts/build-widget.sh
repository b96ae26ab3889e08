#!/usr/bin/env bash
# Bundles the storefront widget <loyalty-balance> (Lit, the storefront client and the
# browser engine's glue) into one file for the Shopify theme app extension, whose block
# (js/platforms/shopify-theme/blocks/loyalty-balance.liquid) loads assets/loyalty-widget.js.
# Shopify adds a block's "javascript" as a classic <script defer>, not a module: hence an
# IIFE, with `import.meta.url` (where the wasm glue looks for its .wasm) replaced by the
# script's own address. The admin panel is not in it: a shop's theme needs only the box.
#   scripts/build-widget.sh [out-file]   (default js/platforms/shopify-theme/assets/loyalty-widget.js)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-js/platforms/shopify-theme/assets/loyalty-widget.js}"
if [ ! -f pkg/loyalty_engine.js ]; then
  echo "build-widget: pkg/loyalty_engine.js is missing: build the wasm first (scripts/build.sh)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
printf '%s\n' \
  "import { LoyaltyBalance } from './js/widget/balance.js';" \
  "if (!customElements.get('loyalty-balance')) customElements.define('loyalty-balance', LoyaltyBalance);" |
  node_modules/.bin/esbuild --bundle --format=iife --minify --target=es2021 --legal-comments=eof \
    --sourcefile=loyalty-widget-entry.js \
    --banner:js='var __loyaltyWidgetUrl=document.currentScript&&document.currentScript.src;' \
    --define:import.meta.url=__loyaltyWidgetUrl \
    --outfile="$out" --log-level=warning
echo "build-widget: $out ($(wc -c <"$out") bytes)"
