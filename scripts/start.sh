#!/usr/bin/env bash
# `npm start`: the demo backend on http://127.0.0.1:8787 (PGlite in ./data) with the seed
# program (or LOYALTY_PROGRAM), a demo shop and a few demo customers. Builds the wasm first
# when pkg/ is missing. The demo refuses to start beside production settings (LOYALTY_TOKEN,
# DATABASE_URL, ...) or off loopback: production runs `npx loyalty serve` (README, Security).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f pkg/loyalty_engine_bg.wasm ]; then
  bash scripts/setup.sh && bash scripts/build.sh
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
exec node js/cli/loyalty.js serve --demo "$@"
