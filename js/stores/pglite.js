// The embedded store: PGlite (PostgreSQL in WebAssembly) in a data folder, or 'memory://'.
import { PGlite } from '@electric-sql/pglite';
import { createSqlStore } from './sql.js';
import { lockFolder } from './folder-lock.js';

// PGlite is one connection: a query issued while a transaction is open would run inside
// it. Every query and transaction therefore waits its turn on one promise chain.
function serial() {
  let tail = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };
}

/**
 * @param {{dataDir?: string, migrate?: boolean}} [options]
 * @example const store = await openPgliteStore({ dataDir: './loyalty-data' });
 */
export async function openPgliteStore({ dataDir = 'memory://', migrate = true } = {}) {
  const release = dataDir.startsWith('memory://') ? () => {} : lockFolder(dataDir);
  let pg;
  try {
    pg = await PGlite.create(dataDir);
  } catch (err) {
    release();
    throw err;
  }
  const turn = serial();
  const db = {
    query: (text, params) => turn(() => pg.query(text, params)),
    transaction: (fn) => turn(() => pg.transaction((tx) => fn({ query: (text, params) => tx.query(text, params) }))),
    // One process, one database: a NOTIFY reaches its listeners here as in PostgreSQL.
    listen: async (channel, fn) => {
      const stop = await turn(() => pg.listen(channel, fn));
      return () => turn(() => stop());
    },
  };
  const store = createSqlStore(db, { close: () => turn(() => pg.close()).finally(release) });
  if (migrate) await store.migrate();
  return store;
}
