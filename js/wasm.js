// Loads the Node module once, synchronously: the same rules as the checkout module (pkg/),
// built for speed rather than size, plus the ledger's exports and `Simulation` (see scripts/build.sh).
import { readFileSync } from 'node:fs';
import { initSync, Engine, Simulation } from '../pkg/node/loyalty_engine_node.js';

const GLUE = '../pkg/node/loyalty_engine_node.js';
const compiled = new WebAssembly.Module(readFileSync(new URL('../pkg/node/loyalty_engine_node_bg.wasm', import.meta.url)));
const { memory } = initSync({ module: compiled });

// The wasm's memory, for `Engine.input`: inputs written there with TextEncoder.encodeInto.
export { Engine, Simulation, memory };

let instances = 0;
/**
 * A new instance of the module with its own memory. A trap (out of memory, a bug) leaves an
 * instance's memory in an unknown state, and every later call on it may fail: the host
 * replaces it. The glue keeps its instance in module scope, so a fresh copy of the glue is
 * imported under its own URL.
 */
export async function freshModule() {
  const glue = await import(`${GLUE}?instance=${++instances}`);
  const fresh = glue.initSync({ module: compiled });
  return { Engine: glue.Engine, memory: fresh.memory };
}
