// The admin's program routes: read the program in force and its JSON Schema, preview a
// change against the shop's own last 12 months, publish it (a new version, in force for
// events from then on in every process), list versions, roll back. Publishing writes the
// version and shops.program in one transaction; each process's registry compiles the new
// program on its next read of the shop row (webhooks and admin requests read it per request).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../engine.js';
import { simulate } from '../simulate.js';
import { permit } from './admin-auth.js';
import { httpError } from './errors.js';
import { audit } from './operators.js';
import { publish, rollback, list, current } from '../stores/program-versions.js';

const root = new URL('../../', import.meta.url).pathname;
// The generated schema (from the Rust types) once it exists; until then the hand-written
// fixture the editor's tests use, which follows src/program.rs.
const SCHEMA_FILES = [join(root, 'js/schema/program.schema.json'), join(root, 'tests/js/fixtures/program.schema.json')];
const PRESETS = join(root, 'presets');
const YEAR = 365 * 86_400_000;

const anyObject = { type: 'object', additionalProperties: true };
const programBody = (extra = {}, required = []) => ({
  type: 'object', required: ['program', ...required], additionalProperties: false,
  properties: { program: anyObject, ...extra },
});
const security = [{ bearer: [] }];
const schemas = {
  read: { summary: 'The program in force and its version (0 before the first publish)', security },
  schema: { summary: "The program's JSON Schema, for the editor", security },
  presets: { summary: 'Ready programs to start from (presets/*.json)', security },
  preview: { summary: "The shop's last 12 months replayed under the program in force and under `program`, side by side", security, body: programBody() },
  publish: { summary: 'Publish `program` as the next version (owners)', security, body: programBody({ note: { type: 'string', maxLength: 500 } }) },
  versions: { summary: 'Published versions, newest first', security },
  rollback: {
    summary: "Publish an earlier version's program again as the next version (owners)",
    security,
    body: { type: 'object', required: ['version'], additionalProperties: false, properties: { version: { type: 'integer', minimum: 1 }, note: { type: 'string', maxLength: 500 } } },
  },
};

/** The program with the shop's id, checked by the engine: a LoyaltyError (400, with the field's path) when invalid. */
export function validProgram(program, shop) {
  const p = { ...program, id: shop };
  const engine = createEngine(p, { secret: '' });
  engine.free?.();
  return p;
}

// The shop's events since `since`, oldest first, as the JSONL file the simulator streams.
async function historyFile(db, shop, since) {
  const dir = mkdtempSync(join(tmpdir(), 'loyalty-preview-'));
  const file = join(dir, 'events.jsonl');
  const out = createWriteStream(file);
  let after = 0;
  let count = 0;
  for (;;) {
    // Pages by seq, so a long history never sits in memory whole.
    const { rows } = await db.query(
      'SELECT seq, body FROM events WHERE program = $1 AND at >= $2 AND seq > $3 ORDER BY seq LIMIT 5000', [shop, since, after]);
    if (!rows.length) break;
    for (const r of rows) {
      if (!out.write(`${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}\n`)) await once(out, 'drain');
    }
    count += rows.length;
    after = rows[rows.length - 1].seq;
  }
  out.end();
  await once(out, 'finish');
  return { file, count, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// The figures the editor shows, from a simulator report.
const figures = (r) => ({
  events: r.events, customers: r.customers,
  issued: r.points.issued, redeemed: r.points.redeemed, expired: r.points.expired, outstanding: r.points.outstanding,
  rewards: r.rewards, liability: r.liability,
});

/**
 * Fastify plugin (inside the admin API's authenticated scope).
 * @param {{db: object|null, shop: string, loyaltyNow: () => Promise<object>, publishable: boolean, now?: () => Date}} options
 *   `loyaltyNow`: the shop's ledger with the program in force (read per request);
 *   `publishable`: the shop has a row in the shops table (a server, not an npm import's
 *   buildApp({loyalty})), so a published program can reach every process.
 */
export async function programRoutes(app, { db, shop, loyaltyNow, publishable, now = () => new Date() }) {
  // The newest published version is the one in force: serve.js saves it over the program
  // file at start, and publishing writes it to the shop row.
  const writable = () => {
    if (!publishable) throw httpError(404, 'not_supported', '', 'publishing programs needs the shops table (loyalty serve); this app has a fixed program');
  };

  app.get('/api/program', { schema: schemas.read, preHandler: permit('program.read') }, async () => {
    const v = db ? await current(db, shop) : null;
    const program = (await loyaltyNow()).program;
    return { program, version: v?.version ?? 0, author: v?.author ?? null, created_at: v?.created_at ?? null };
  });

  app.get('/api/program/schema', { schema: schemas.schema, preHandler: permit('program.read') }, async (_request, reply) => {
    const file = SCHEMA_FILES.find((f) => existsSync(f));
    return reply.header('content-type', 'application/json; charset=utf-8').send(readFileSync(file));
  });

  app.get('/api/program/presets', { schema: schemas.presets, preHandler: permit('program.read') }, async () => ({
    presets: readdirSync(PRESETS).filter((f) => /^[a-z-]+\.json$/.test(f)).sort().map((f) => {
      const program = JSON.parse(readFileSync(join(PRESETS, f), 'utf8'));
      return { id: f.replace(/\.json$/, ''), name: program.name ?? program.id, program };
    }),
  }));

  // A read, open to viewers on purpose: it replays the shop's own events (the orders viewers
  // already read in customers' histories) under a proposed program and stores nothing.
  app.post('/api/program/preview', { schema: schemas.preview, preHandler: permit('program.read') }, async (request) => {
    if (!db) throw httpError(404, 'not_supported', '', 'a preview replays the stored events: it needs a SQL store');
    const proposed = validProgram(request.body.program, shop);
    const inForce = (await loyaltyNow()).program;
    const history = await historyFile(db, shop, new Date(now().getTime() - YEAR));
    try {
      const report = await simulate({ program: inForce, vs: proposed, events: history.file });
      return { events: history.count, current: figures(report.program), proposed: figures(report.vs) };
    } finally {
      history.cleanup();
    }
  });

  app.post('/api/program', { schema: schemas.publish, preHandler: permit('program.write') }, async (request) => {
    writable();
    const program = validProgram(request.body.program, shop);
    const author = request.operator.name;
    const v = await publish(db, shop, program, author, { note: request.body.note, apply: true });
    await audit(db, { shop, operator: author, action: 'program.publish', target: String(v.version), details: { note: v.note } });
    return v;
  });

  app.get('/api/program/versions', { schema: schemas.versions, preHandler: permit('program.read') }, async () => ({ versions: db ? await list(db, shop) : [] }));

  app.post('/api/program/rollback', { schema: schemas.rollback, preHandler: permit('program.write') }, async (request) => {
    writable();
    const author = request.operator.name;
    const v = await rollback(db, shop, request.body.version, author, { note: request.body.note, apply: true });
    await audit(db, { shop, operator: author, action: 'program.rollback', target: String(v.version), details: { to: request.body.version } });
    return v;
  });
}
