// Databases for the store tests. PGlite: creating a database costs seconds and hundreds of
// MB, reopening a folder well under one, so one migrated template is made per test file and
// copied per test. PostgreSQL: a fresh database per test on DATABASE_URL. Everything is
// removed when the test file ends.
import { after } from 'node:test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPgliteStore } from '../../js/stores/pglite.js';

export const DATABASE_URL = process.env.DATABASE_URL;

/** `{pgliteDir(), postgresUrl()}`, cleaned up after the calling test file. */
export function testDatabases(tag) {
  const scratch = mkdtempSync(join(tmpdir(), `loyalty-${tag}-test-`));
  const runTag = `loyalty_${tag}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const databases = [];
  let template;
  let admin;
  after(async () => {
    if (admin) {
      for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
    rmSync(scratch, { recursive: true, force: true });
  });
  return {
    /** A fresh copy of a migrated PGlite data folder. */
    async pgliteDir() {
      if (!template) {
        template = join(scratch, 'template');
        await (await openPgliteStore({ dataDir: template })).close();
      }
      const dir = join(scratch, `db-${databases.length + 1}-${Math.random().toString(36).slice(2, 6)}`);
      cpSync(template, dir, { recursive: true });
      return dir;
    },
    /** The URL of a new, empty PostgreSQL database on DATABASE_URL's server. */
    async postgresUrl() {
      admin ??= new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
      const name = `${runTag}_${databases.length}`;
      await admin.query(`CREATE DATABASE ${name}`);
      databases.push(name);
      const url = new URL(DATABASE_URL);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}
