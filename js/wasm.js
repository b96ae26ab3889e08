// Loads the wasm module once, synchronously, in Node.
import { readFileSync } from 'node:fs';
import { initSync, Engine, Simulation } from '../pkg/loyalty_engine.js';

initSync({ module: readFileSync(new URL('../pkg/loyalty_engine_bg.wasm', import.meta.url)) });

export { Engine, Simulation };
