#!/usr/bin/env bash
# Installs what building and testing need, and only what is missing: the wasm target, the
# pinned wasm-bindgen-cli (its version must equal the wasm-bindgen crate's), wasm-opt and
# the node modules. Safe to run again; a no-op when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# The one version of wasm-bindgen, pinned with `=` in Cargo.toml.
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION (about 4 minutes)"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

if ! command -v wasm-opt >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binaryen
  else
    echo "wasm-opt is missing: install Debian's binaryen (sudo apt-get install binaryen)" >&2
    exit 1
  fi
fi

# php-cli runs the WordPress plugin's token signing against the backend's verifier.
if ! command -v php >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli
  else
    echo "php is missing: install Debian's php-cli (sudo apt-get install php-cli)" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
