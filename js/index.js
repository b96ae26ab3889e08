// loyalty-engine: `import { createEngine, createLoyalty } from 'loyalty-engine'`.
export { createEngine, orderIdOf } from './engine.js';
export { LoyaltyError } from './errors.js';
export { zoneTable } from './zone.js';
export { replay } from './replay.js';
export { simulate } from './simulate.js';
export { createLoyalty } from './loyalty.js';
export { openMemoryStore } from './stores/memory.js';
// The SQL stores load their drivers, so they are imported on their own:
// `loyalty-engine/stores/pglite`, `loyalty-engine/stores/postgres`.
