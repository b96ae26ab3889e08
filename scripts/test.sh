#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine. Installs what is missing, builds the wasm,
# then runs the Rust tests (unit, rules, properties, scenarios), the wasm-bindgen tests in
# Node, and the JS tests (package, CLI, platforms, stores on PGlite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh
bash scripts/build.sh

echo "== generated files (js/schema/*.json, js/index.d.ts) are up to date with the Rust types"
cargo run --quiet --example schema --features schema -- --check

echo "== cargo test (native, as shipped: with the earning and status rules)"
cargo test --quiet
echo "== cargo test (native, --no-default-features: the smaller engine without them)"
cargo test --quiet --no-default-features
echo "== cargo test (wasm32, in Node, with the Node module's exports)"
cargo test --target wasm32-unknown-unknown --test wasm --features node

if [ -z "${DATABASE_URL:-}" ]; then
  eval "$(bash scripts/pg.sh start)"
  trap 'bash scripts/pg.sh stop' EXIT
fi
export DATABASE_URL

echo "== node --test"
node --test --test-concurrency=1 tests/js/
