// Loads the simulator module (the engine plus `Simulation`, built with the `simulate`
// feature) for `loyalty simulate`'s workers; the checkout module stays without it.
import { readFileSync } from 'node:fs';
import { initSync, Simulation } from '../pkg/sim/loyalty_engine_sim.js';

initSync({ module: readFileSync(new URL('../pkg/sim/loyalty_engine_sim_bg.wasm', import.meta.url)) });

export { Simulation };
