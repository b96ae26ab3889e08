#!/usr/bin/env bash
# Builds pkg/, two modules of the same rules, each: cargo, wasm-opt, then wasm-bindgen's JS glue
# (--target web, which loads in Node and in browsers alike). Run scripts/setup.sh first.
# - pkg/: the checkout module (browsers: the admin widget, <loyalty-balance>, cart previews):
#   the program, quotes and views, size-optimised within a 450,000-byte budget (npm run bench
#   prints its size, raw and gzipped).
# - pkg/node/: the Node module (the npm import, the server, the CLI), built for speed, where
#   more wasm costs nothing: opt-level 3 makes apply several times faster. It also carries
#   the exports that write the ledger (apply, applyBatch), `Simulation` for `loyalty
#   simulate`, and the serde-wasm-bindgen twins the bench compares (cargo feature `node`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# SIMD (128-bit) lets LLVM move 16 bytes per instruction: every Result and struct the engine
# passes around is copied in half the code. Node 16.4+ (we need 20), Chrome 91+, Firefox
# 89+, Safari 16.4+ run it.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
cargo build --quiet --release --target wasm32-unknown-unknown "$@"
mkdir -p target/opt
# wasm-opt runs before wasm-bindgen: Debian's binaryen 108 breaks the externref table that
# wasm-bindgen adds. Explicit features, what rustc's wasm32 target emits (plus SIMD, above) and no more
# (--all-features yields a module Node 20 refuses). --converge repeats -Oz while it still
# shrinks the module; --low-memory-unused lets pointer + constant fold into load/store
# offsets, sound here because rustc puts the stack first: the lowest 1 KB of memory is only
# reached by a stack that has already overflowed.
wasm-opt --low-memory-unused -Oz --converge --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-multivalue --enable-reference-types --enable-simd \
  -o target/opt/loyalty_engine.wasm target/wasm32-unknown-unknown/release/loyalty_engine.wasm
rm -rf pkg
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg target/opt/loyalty_engine.wasm
# wasm-bindgen writes a `*` .gitignore that would make npm drop pkg/ from the tarball.
rm -f pkg/.gitignore
# The Node module: the same rules plus the `Simulation` export, built for speed.
cargo build --quiet --profile node --target wasm32-unknown-unknown --features node "$@"
wasm-opt -O3 --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-multivalue --enable-reference-types --enable-simd \
  -o target/opt/loyalty_engine_node.wasm target/wasm32-unknown-unknown/node/loyalty_engine.wasm
wasm-bindgen --target web --out-dir pkg/node target/opt/loyalty_engine_node.wasm
rm -f pkg/node/.gitignore
echo "built pkg/loyalty_engine_bg.wasm: $(stat -c %s pkg/loyalty_engine_bg.wasm) bytes; pkg/node/: $(stat -c %s pkg/node/loyalty_engine_node_bg.wasm) bytes"
# The theme app extension's script: <loyalty-balance> bundled for a classic <script>.
bash scripts/build-widget.sh
