// Types for loyalty-engine/stores/pglite.
import type { SqlStore } from '../index.js';

/**
 * Opens the embedded store: PGlite (PostgreSQL in WebAssembly) in a data folder, and
 * applies the schema migrations unless `migrate: false`.
 * `const store = await openPgliteStore({ dataDir: './loyalty-data' })`.
 */
export declare function openPgliteStore(options?: {
  /** A folder for the database, or `'memory://'` (the default) for one that lives in the process. */
  dataDir?: string;
  /** Apply pending migrations on open. Default true. */
  migrate?: boolean;
}): Promise<SqlStore>;
