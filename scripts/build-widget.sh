#!/usr/bin/env bash
# Bundles the storefront widgets (Lit, the storefront client and the browser engine's glue)
# into one file: <loyalty-balance>, <loyalty-referral> (balance.js imports it) and
# <loyalty-account>. The Shopify theme app extension's blocks
# (js/platforms/shopify-theme/blocks/*.liquid) load it as assets/loyalty-widget.js, and the
# backend serves it at /widget/loyalty-widget.js for the WordPress plugin's pages
# (js/server/admin-routes.js).
# Shopify adds a block's "javascript" as a classic <script defer>, not a module: hence an
# IIFE, with `import.meta.url` (where the wasm glue looks for its .wasm) replaced by the
# script's own address. The admin panel is not in it: a shop's pages need only these.
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
  "import './js/widget/account.js';" \
  "if (!customElements.get('loyalty-balance')) customElements.define('loyalty-balance', LoyaltyBalance);" |
  node_modules/.bin/esbuild --bundle --format=iife --minify --target=es2021 --legal-comments=eof \
    --sourcefile=loyalty-widget-entry.js \
    --banner:js='var __loyaltyWidgetUrl=document.currentScript&&document.currentScript.src;' \
    --define:import.meta.url=__loyaltyWidgetUrl \
    --outfile="$out" --log-level=warning
echo "build-widget: $out ($(wc -c <"$out") bytes)"
