// `npm run bench`, part 2: the plugin backend end to end.
//  - signed Shopify orders/paid webhooks per second through a real `loyalty serve` child
//    process (PGlite, then PostgreSQL), driven from here over keep-alive HTTP on 127.0.0.1:
//    the rate at saturation, and p50/p99 latency at a fixed 200 requests/s (open loop:
//    latency counts from the scheduled send time, so a stall is not hidden);
//  - the tick over 100,000 accounts of which 1% are due, against 0.1% due: the cost must
//    follow the due accounts, not the total;
//  - import of 100,000 orders through loyalty.importMany (chunks of 2,000 events, one
//    transaction each, pipelined on PostgreSQL), on PostgreSQL and PGlite, against the engine's replay (applyBatch
//    in memory) on the same events. LOYALTY_BENCH_ONLY=import runs only this part.
// Baselines are measured in the same run: the raw engine apply rate for the webhook's
// order, PostgreSQL for PGlite, replay for import.
// PostgreSQL: DATABASE_URL if set (a fresh database is created in it), else a throwaway
// server from scripts/pg.sh. LOYALTY_BENCH_QUICK=1 shrinks every size for a smoke run.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEngine, replay } from '../../js/index.js';
import { createLoyalty } from '../../js/loyalty.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { createShopifyAdapter } from '../../js/platforms/shopify.js';
import { sampleShopifyOrder } from '../../js/server/demo.js';
import { benchPostgres } from './postgres.js';

const root = new URL('../../', import.meta.url).pathname;
const QUICK = process.env.LOYALTY_BENCH_QUICK === '1';
const ONLY = process.env.LOYALTY_BENCH_ONLY; // webhooks | tick | import: one part only
const seedText = readFileSync(join(root, 'presets/seed.json'), 'utf8');
const seed = JSON.parse(seedText);
const SHOPIFY = 'bench-shopify-secret';
const SHOP = 'bench.myshopify.com';
const SECRET = 'bench-coupon-secret';
const TOKEN = 'bench-token';
const scratch = mkdtempSync(join(tmpdir(), 'loyalty-server-bench-'));
const programFile = join(scratch, 'program.json');
writeFileSync(programFile, seedText);

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rows = [];
const report = (what, figure, ratio = '') => {
  rows.push([what, figure, ratio]);
  console.error(`  ${what}: ${figure} ${ratio}`);
};

// --- the server under test --------------------------------------------------------------
function startServer({ databaseUrl, dataDir }) {
  const env = {
    ...process.env, LOYALTY_TOKEN: TOKEN, SHOPIFY_SECRETS: SHOPIFY, SHOPIFY_SHOP_DOMAIN: SHOP, LOYALTY_SECRET: SECRET,
    PORT: '0', HOST: '127.0.0.1', LOYALTY_TICK_SECONDS: '0', LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const child = spawn(process.execPath, [join(root, 'js/cli/loyalty.js'), 'serve', '--program', programFile, '--data', dataDir ?? join(scratch, 'unused')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(new URL(m[1]));
    });
    exited.then((code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  return { url, stop: async () => { child.kill('SIGTERM'); await exited; }, stderr: () => stderr };
}

// Pre-signed deliveries, so the client's CPU goes to sending, not to HMACs.
function deliveries(n, { offset, customers }) {
  return Array.from({ length: n }, (_, i) => {
    const id = String(70_000_000 + offset + i);
    const body = Buffer.from(JSON.stringify(sampleShopifyOrder({ id, customer: `bench-${(offset + i) % customers}`, currency: 'EUR', at: new Date(Date.parse('2026-02-01T10:00:00Z') + i * 1000).toISOString() })));
    return {
      body,
      headers: {
        'content-type': 'application/json', 'content-length': String(body.length), 'x-shopify-topic': 'orders/paid', 'x-shopify-shop-domain': SHOP,
        'x-shopify-webhook-id': `bench-${id}`, 'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY).update(body).digest('base64'),
      },
    };
  });
}

function send(agent, url, d) {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, method: 'POST', path: '/webhooks/shopify', headers: d.headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(d.body);
  });
}

/** Closed loop: `connections` requests in flight until the list or the time runs out. */
async function saturate(url, list, { connections, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next < list.length && performance.now() < deadline) {
      await send(agent, url, list[next++]);
      done++;
    }
  }));
  const rate = done / ((performance.now() - t0) / 1000);
  agent.destroy();
  return { rate, done };
}

/** Open loop at a fixed rate: latency from each request's scheduled time. */
async function fixedRate(url, list, { perSecond }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies = [];
  const t0 = performance.now() + 50;
  await Promise.all(list.map(async (d, i) => {
    const at = t0 + (i * 1000) / perSecond;
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    await send(agent, url, d);
    latencies.push(performance.now() - at);
  }));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] };
}

async function webhookBench(name, where, offset) {
  const server = startServer(where);
  try {
    const url = await server.url;
    const warm = deliveries(300, { offset, customers: 1000 });
    await saturate(url, warm, { connections: 16, seconds: 10 });
    const load = deliveries(QUICK ? 2000 : 15_000, { offset: offset + 1000, customers: 1000 });
    const sat = await saturate(url, load, { connections: 32, seconds: QUICK ? 4 : 12 });
    const fixed = await fixedRate(url, deliveries(QUICK ? 400 : 2000, { offset: offset + 100_000, customers: 1000 }), { perSecond: 200 });
    return { name, ...sat, ...fixed };
  } finally {
    await server.stop();
  }
}

// --- tick: 100,000 accounts, 1% or 0.1% due -----------------------------------------------
const engine = createEngine(seed, { secret: SECRET });
const NOW = '2026-06-01T00:00:00.000Z';
function templateState(at) {
  return engine.apply(null, {
    id: 'tpl', type: 'order.placed', at, customer: 'tpl',
    order: { id: 'tpl-o', currency: 'EUR', lines: [{ id: 'l1', quantity: 2, unit_price: '24.50', discount: '0.00' }], shipping: '0', tax: '0', taxes_included: true, coupon_codes: [] },
  }).state;
}

async function seedAccounts(db, total, due) {
  const dueState = templateState('2025-01-10T10:00:00Z'); // expired by NOW: the tick expires it
  const freshState = templateState('2026-05-20T10:00:00Z'); // next work months after NOW
  if (!(dueState.next_due <= Date.parse(NOW)) || !(freshState.next_due > Date.parse(NOW))) throw new Error('templates are not due / not due as planned');
  await db.query('TRUNCATE accounts, events, entries, outbox, coupons, orders CASCADE');
  // Every 1/fraction-th account is due; all copies of a template differ only in customer.
  const every = Math.round(total / due);
  await db.query(
    `INSERT INTO accounts (program, customer, state, balance, pending, tier, next_due, version)
     SELECT $1, 'acct-' || i, jsonb_set(CASE WHEN i % $3 = 0 THEN $4::jsonb ELSE $5::jsonb END, '{customer}', to_jsonb('acct-' || i)),
            490, 0, NULL, CASE WHEN i % $3 = 0 THEN $6::timestamptz ELSE $7::timestamptz END, 1
       FROM generate_series(1, $2::int) AS i`,
    [seed.id, total, every, JSON.stringify(dueState), JSON.stringify(freshState), new Date(dueState.next_due).toISOString(), new Date(freshState.next_due).toISOString()],
  );
  await db.query('ANALYZE accounts');
}

async function tickBench(databaseUrl) {
  const store = await openPostgresStore({ connectionString: databaseUrl });
  const loyalty = createLoyalty({ program: seed, store, secret: SECRET });
  const total = QUICK ? 10_000 : 100_000;
  const out = {};
  try {
    for (const [label, due] of [['1%', total / 100], ['0.1%', total / 1000]]) {
      const t = performance.now();
      await seedAccounts(store.db, total, due);
      const seeding = performance.now() - t;
      const t0 = performance.now();
      const summary = await loyalty.tick(NOW);
      const ms = performance.now() - t0;
      if (summary.ticked !== due || summary.errors.length) throw new Error(`tick ${label}: ${JSON.stringify({ ...summary, errors: summary.errors.slice(0, 3) })}`);
      const t1 = performance.now();
      const again = await loyalty.tick(NOW); // nothing due now: one index probe
      out[label] = { due, ms, perDue: ms / due, seeding, idleMs: performance.now() - t1, idleDue: again.due };
    }
  } finally {
    await loyalty.close();
  }
  return { total, ...out };
}

// --- import: 100,000 orders ------------------------------------------------------------
function importEvents(n) {
  const adapter = createShopifyAdapter({ secrets: ['import'] });
  const customers = Math.max(1, Math.floor(n / 10));
  return Array.from({ length: n }, (_, i) => {
    const body = Buffer.from(JSON.stringify(sampleShopifyOrder({ id: String(80_000_000 + i), customer: `imp-${i % customers}`, currency: 'EUR', at: new Date(Date.parse('2025-01-01T00:00:00Z') + i * 60_000).toISOString() })));
    return adapter.toEvents({ 'x-shopify-topic': 'orders/paid' }, body).events[0];
  });
}

async function importBench(store, events) {
  const loyalty = createLoyalty({ program: seed, store, secret: SECRET });
  try {
    const t0 = performance.now();
    const s = await loyalty.importMany(events);
    const seconds = (performance.now() - t0) / 1000;
    if (s.errors.length || s.applied !== events.length) throw new Error(`import: ${JSON.stringify({ ...s, errors: s.errors.slice(0, 3) })}`);
    return { rate: events.length / seconds, seconds };
  } finally {
    await loyalty.close();
  }
}

// --- run ----------------------------------------------------------------------------------
const t00 = performance.now();
console.error('\nloyalty-engine server bench (progress on stderr, table on stdout)');
const db = await benchPostgres({ tag: 'server-bench', port: process.env.LOYALTY_BENCH_PG_PORT ?? '54377' });
try {
  // Baseline: the raw engine on the webhook's canonical order, one apply per event, on an
  // account with a few orders (as the bench customers have).
  const adapter = createShopifyAdapter({ secrets: [SHOPIFY] });
  const sample = (i) => adapter.toEvents({ 'x-shopify-topic': 'orders/paid' }, Buffer.from(JSON.stringify(sampleShopifyOrder({ id: String(60_000_000 + i), customer: 'base', currency: 'EUR', at: new Date(Date.parse('2026-02-01T10:00:00Z') + i * 1000).toISOString() })))).events[0];
  const baseEvents = Array.from({ length: 2000 }, (_, i) => sample(i));
  let st = null;
  for (let i = 0; i < 15; i++) st = engine.apply(st, baseEvents[i]).state;
  const other = createEngine(seed, { secret: SECRET }); // a state it never wrote: parsed in full, as from a store
  for (let i = 0; i < 500; i++) other.apply(st, baseEvents[i]);
  const tb = performance.now();
  for (let i = 0; i < 2000; i++) other.apply(st, baseEvents[i]);
  const engineRate = 2000 / ((performance.now() - tb) / 1000);
  report('engine apply, webhook order (baseline)', `${fmt(engineRate)} events/s`, '1.00x');

  if (!ONLY || ONLY === 'webhooks') {
    console.error('webhooks, PostgreSQL ...');
    const onPg = await webhookBench('PostgreSQL', { databaseUrl: await db.fresh() }, 0);
    console.error('webhooks, PGlite ...');
    const onLite = await webhookBench('PGlite', { dataDir: join(scratch, 'pglite') }, 0);
    for (const r of [onPg, onLite]) {
      report(`signed webhooks/s at saturation, ${r.name} (32 conns)`, `${fmt(r.rate)} orders/s (${fmt(r.done)} sent)`, `${(r.rate / engineRate).toFixed(3)}x engine rate`);
      report(`  latency at 200 req/s, ${r.name}`, `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`, `max ${r.max.toFixed(1)} ms`);
    }
    report('PGlite webhook rate vs PostgreSQL', `${(onLite.rate / onPg.rate).toFixed(2)}x`, '');
  }

  if (!ONLY || ONLY === 'tick') {
    console.error('tick ...');
    const tick = await tickBench(await db.fresh());
    for (const label of ['1%', '0.1%']) {
      const r = tick[label];
      report(`tick, ${fmt(tick.total)} accounts, ${label} due (${fmt(r.due)})`, `${fmt(r.ms)} ms, ${r.perDue.toFixed(2)} ms per due account`, `then idle tick ${r.idleMs.toFixed(1)} ms`);
    }
    report('tick time 1% / 0.1% due (10 if cost follows due, 1 if total)', `${(tick['1%'].ms / tick['0.1%'].ms).toFixed(2)}x`, `seeding ${fmt(tick['1%'].seeding)} ms per 100k (bulk SQL)`);
  }

  if (!ONLY || ONLY === 'import') {
    console.error('import ...');
    const n = QUICK ? 5000 : Number(process.env.LOYALTY_BENCH_IMPORT ?? 100_000);
    const events = importEvents(n);
    // The machine is shared: replay is measured before and after the imports, and averaged.
    const replayOnce = () => {
      const tr = performance.now();
      replay(createEngine(seed, { secret: SECRET }), events);
      return n / ((performance.now() - tr) / 1000);
    };
    const before = replayOnce();
    const imPg = await importBench(await openPostgresStore({ connectionString: await db.fresh() }), events);
    const liteN = Math.min(n, QUICK ? 5000 : Number(process.env.LOYALTY_BENCH_IMPORT_PGLITE ?? 100_000));
    const imLite = await importBench(await openPgliteStore({ dataDir: join(scratch, 'import-lite') }), events.slice(0, liteN));
    const replayRate = (before + replayOnce()) / 2;
    report(`replay (engine applyBatch, in memory), ${fmt(n)} orders (baseline)`, `${fmt(replayRate)} orders/s`, '1.00x');
    report(`import via importMany (pipelined), PostgreSQL, ${fmt(n)} orders`, `${fmt(imPg.rate)} orders/s (${imPg.seconds.toFixed(1)} s)`, `${(replayRate / imPg.rate).toFixed(2)}x replay time`);
    report(`import via importMany, PGlite, ${fmt(liteN)} orders`, `${fmt(imLite.rate)} orders/s (${imLite.seconds.toFixed(1)} s)`, `${(replayRate / imLite.rate).toFixed(2)}x replay time`);
  }
} finally {
  await db.close().catch((e) => console.error(e));
  rmSync(scratch, { recursive: true, force: true });
}

const w = rows.reduce((m, r) => Math.max(m, r[0].length), 0);
const w2 = rows.reduce((m, r) => Math.max(m, r[1].length), 0);
console.log(`\nloyalty-engine server bench (${Math.round((performance.now() - t00) / 1000)} s): seed program, sample Shopify order (2 x 24.50 EUR), 127.0.0.1\n`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w)}  ${b.padEnd(w2)}  ${c}`);
