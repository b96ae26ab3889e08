#!/usr/bin/env bash
# `npm run bench`: builds what is needed, then runs every benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/build.sh
node tests/bench/bench.js
node tests/bench/server-bench.js
node tests/bench/kpi-bench.js
node tests/bench/simulate-bench.js
node tests/bench/admin-bench.js
