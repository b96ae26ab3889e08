// The engine in the browser: the checkout module (pkg/, wasm-bindgen --target web), the
// server's rules without the ledger's exports, and the same time-zone table from Intl, so a
// storefront cart preview gives the server's numbers without a round trip.
import init, { Engine } from '../../pkg/loyalty_engine.js';
import { zoneTable } from '../zone.js';
import { fromWasm } from '../errors.js';

let ready;
const json = (v) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const call = (fn) => {
  try {
    return fn();
  } catch (err) {
    throw fromWasm(err);
  }
};

/**
 * Loads the wasm once (from `wasmUrl`, default next to pkg/loyalty_engine.js) and compiles
 * the program. `quote(state, cart)` and `view(state)` are the server's, byte for byte.
 * @param {object|string} program
 * @param {{wasmUrl?: string|URL}} [options]
 */
export async function createBrowserEngine(program, { wasmUrl } = {}) {
  ready ??= init(wasmUrl ? { module_or_path: wasmUrl } : undefined);
  await ready;
  const parsed = typeof program === 'string' ? JSON.parse(program) : program;
  // Quotes and views need no coupon secret: codes are only minted by apply.
  const inner = call(() => new Engine(json(parsed), json(zoneTable(parsed?.timezone)), ''));
  return {
    program: parsed,
    quote: (state, cart) => JSON.parse(call(() => inner.quote(json(state), json(cart)))),
    view: (state) => JSON.parse(call(() => inner.view(json(state)))),
    free: () => inner.free(),
  };
}
