#!/usr/bin/env bash
# `npm start`: the demo backend on http://127.0.0.1:8787 (PGlite in ./data, or PostgreSQL
# when DATABASE_URL is set) with the seed program and a few demo customers. Builds the
# wasm first when pkg/ is missing. Env: LOYALTY_TOKEN, SHOPIFY_SECRETS, WOO_SECRET,
# LOYALTY_SECRET, DATABASE_URL, PORT, HOST (demo defaults are printed at start).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f pkg/loyalty_engine_bg.wasm ]; then
  bash scripts/setup.sh && bash scripts/build.sh
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
exec node js/cli/loyalty.js serve --demo --program presets/seed.json "$@"
