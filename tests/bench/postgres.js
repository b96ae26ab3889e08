// PostgreSQL for the benchmarks: DATABASE_URL's server if set, else a throwaway server from
// scripts/pg.sh in its own folder and port. `fresh()` creates an empty database; `close()`
// drops them (unless `keep`) and stops a server it started.
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const root = new URL('../../', import.meta.url).pathname;

/** @param {{tag: string, port: string, keep?: boolean}} options */
export async function benchPostgres({ tag, port, keep = false }) {
  let base = process.env.DATABASE_URL;
  let started = null;
  if (!base) {
    const env = { ...process.env, LOYALTY_PG_DIR: join(tmpdir(), `loyalty-${tag}-pg`), LOYALTY_PG_PORT: port };
    const out = execFileSync('bash', [join(root, 'scripts/pg.sh'), 'start'], { env, encoding: 'utf8' });
    base = /DATABASE_URL=(\S+)/.exec(out)[1];
    started = env;
  }
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  const databases = [];
  return {
    async fresh() {
      const name = `loyalty_${tag.replace(/-/g, '_')}_${process.pid}_${databases.length}`;
      await admin.query(`CREATE DATABASE ${name}`);
      databases.push(name);
      const url = new URL(base);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async close() {
      if (keep) console.error(`  kept databases ${databases.join(', ')}`);
      else for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err) => console.error(`  drop ${name}: ${err.message}`));
      await admin.end();
      if (started && !keep) execFileSync('bash', [join(root, 'scripts/pg.sh'), 'stop'], { env: started });
    },
  };
}
