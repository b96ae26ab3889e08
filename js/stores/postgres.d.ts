// Types for loyalty-engine/stores/postgres.
import type { SqlStore } from '../index.js';

/** What the store uses of a `pg` Pool (a `pg.Pool` fits; `pg`'s own types are not required). */
export interface PgPool {
  query(text: string, params?: any[]): Promise<{ rows: any[] }>;
  connect(): Promise<{ query(text: string, params?: any[]): Promise<{ rows: any[] }>; release(err?: Error | boolean): void }>;
}

/**
 * Opens the production store: PostgreSQL through `pg`, and applies the schema migrations
 * unless `migrate: false`. Pass a `connectionString` (the store owns its pool and `close`
 * ends it; without one `pg` reads the PG* environment variables) or your own `pool` (left
 * open on `close`).
 * `const store = await openPostgresStore({ connectionString: process.env.DATABASE_URL })`.
 */
export declare function openPostgresStore(options?: {
  connectionString?: string;
  pool?: PgPool;
  /** Connections in the pool the store creates. Default 10. */
  max?: number;
  /** Apply pending migrations on open. Default true. */
  migrate?: boolean;
}): Promise<SqlStore>;
