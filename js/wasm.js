// Loads the Node module once, synchronously: the same rules as the checkout module (pkg/),
// built for speed rather than size, plus `Simulation` (see scripts/build.sh).
import { readFileSync } from 'node:fs';
import { initSync, Engine, Simulation } from '../pkg/node/loyalty_engine_node.js';

const { memory } = initSync({ module: readFileSync(new URL('../pkg/node/loyalty_engine_node_bg.wasm', import.meta.url)) });

// The wasm's memory, for `Engine.input`: inputs written there with TextEncoder.encodeInto.
export { Engine, Simulation, memory };
