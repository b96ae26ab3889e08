// The production store: PostgreSQL through `pg`. Several server processes may share the
// database; row locks in the transactions keep each account's events in one order.
import pg from 'pg';
import { createSqlStore } from './sql.js';

// Statement text -> name. PostgreSQL parses, analyses and plans a named statement once per
// connection; unnamed, that was 60% of its CPU per webhook. The texts are the code's
// constants; past the cap (a text built at run time) statements go unnamed.
const names = new Map();
function statement(text, values) {
  if (!values?.length) return text; // no parameters: the simple protocol, several statements allowed
  let name = names.get(text);
  if (!name && names.size < 500) names.set(text, (name = `loyalty_${names.size}`));
  return { name, text, values };
}

/**
 * Pass a `connectionString` (the store owns and closes its pool) or your own `pool`.
 * @param {{connectionString?: string, pool?: import('pg').Pool, max?: number, migrate?: boolean}} options
 * @example const store = await openPostgresStore({ connectionString: process.env.DATABASE_URL });
 */
export async function openPostgresStore({ connectionString, pool, max = 10, migrate = true } = {}) {
  const owned = !pool;
  const p = pool ?? new pg.Pool({ connectionString, max });
  // An idle connection the server drops (a restart, pg_terminate_backend, a dropped
  // database) is an 'error' on the pool; unheard it would crash the process. The pool has
  // already discarded that client, and the next query opens a new one.
  if (owned) p.on('error', () => {});
  const db = {
    query: (text, params) => p.query(statement(text, params)),
    async transaction(fn) {
      const client = await p.connect();
      let broken;
      try {
        await client.query('BEGIN');
        const out = await fn({ query: (text, params) => client.query(statement(text, params)) });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        // A failed ROLLBACK means the connection is unusable: release it as broken.
        await client.query('ROLLBACK').catch((e) => (broken = e));
        throw err;
      } finally {
        client.release(broken);
      }
    },
    /**
     * Calls `fn(payload)` for each NOTIFY on `channel`, on a connection of its own (outside
     * the pool, so it never takes a query's place), and `lost()` once when that connection
     * ends; resolves to a function that stops listening.
     */
    async listen(channel, fn, lost = () => {}) {
      const client = new pg.Client(p.options);
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        listeners.delete(end);
        lost();
        client.end().catch(() => {});
      };
      client.on('notification', (m) => m.channel === channel && fn(m.payload));
      client.on('error', end);
      client.on('end', end);
      try {
        await client.connect();
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (err) {
        end();
        throw err;
      }
      listeners.add(end);
      return end;
    },
  };
  const listeners = new Set();
  const close = () => {
    for (const end of [...listeners]) end();
    return owned ? p.end() : undefined;
  };
  // A pool: the import's reads and writes run on other connections while this thread applies events.
  const store = createSqlStore(db, { close, pipeline: true });
  if (migrate) await store.migrate();
  return store;
}
