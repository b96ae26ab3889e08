// loyalty-engine: `import { createEngine } from 'loyalty-engine'`.
export { createEngine, orderIdOf } from './engine.js';
export { LoyaltyError } from './errors.js';
export { zoneTable } from './zone.js';
export { replay } from './replay.js';
