// Loads the wasm module once, synchronously, in Node.
import { readFileSync } from 'node:fs';
import { initSync, Engine } from '../pkg/loyalty_engine.js';

const { memory } = initSync({ module: readFileSync(new URL('../pkg/loyalty_engine_bg.wasm', import.meta.url)) });

// The wasm's memory, for `Engine.input`: inputs written there with TextEncoder.encodeInto.
export { Engine, memory };
