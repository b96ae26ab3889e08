// `npm run bench`, part 3: the admin dashboard at scale. 100,000 customers and 1,000,000
// ledger rows spread over a year are written with bulk SQL into PostgreSQL; then
//  - GET /api/kpis over HTTP for 30 days (the dashboard's default), 90 days and a year:
//    the first (cold) request and the median of the next five;
//  - /admin in Chromium: from navigation to the KPI cards and chart rendered on the
//    dashboard tab (page, widget modules, Lit, the KPI request), first load and reload;
//  - customer search by id prefix.
// PostgreSQL: DATABASE_URL if set (a fresh database is created in it), else a throwaway
// server from scripts/pg.sh. LOYALTY_BENCH_QUICK=1 seeds a tenth of the rows.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { createLoyalty } from '../../js/loyalty.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { createEngine } from '../../js/engine.js';
import { buildApp } from '../../js/server/app.js';
import { benchPostgres } from './postgres.js';

const root = new URL('../../', import.meta.url).pathname;
const QUICK = process.env.LOYALTY_BENCH_QUICK === '1';
const CUSTOMERS = QUICK ? 10_000 : 100_000;
const ROWS = QUICK ? 100_000 : 1_000_000;
const program = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
const TOKEN = 'kpi-bench-token';
const DAY = 86_400_000;

const ms = (n) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const report = (what, figure) => {
  rows.push([what, figure]);
  console.error(`  ${what}: ${figure}`);
};

// --- PostgreSQL -------------------------------------------------------------------------
// LOYALTY_BENCH_KEEP=1 keeps the seeded database (and the server) for EXPLAIN.
let db;

// --- the data set -----------------------------------------------------------------------
// A real engine state as the template of every account (customer and balance replaced),
// and ledger rows shaped like the engine's entries: 70% earn, 10% redeem, 8% expire,
// 7% reverse, 5% adjust, at times spread over the 365 days before `now`.
async function seed(db, now) {
  const engine = createEngine(program, { secret: 'bench' });
  const { state } = engine.apply(null, {
    id: 'tmpl', type: 'order.placed', at: new Date(now - 30 * DAY).toISOString(), customer: 'tmpl',
    order: { id: 'tmpl', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '123.40' }] },
  });
  engine.free();
  const P = program.id;
  const t0 = performance.now();
  await db.query(
    `INSERT INTO accounts (program, customer, state, balance, pending, tier, next_due, version)
     SELECT $1, c, jsonb_set(jsonb_set($2::jsonb, '{customer}', to_jsonb(c)), '{balance}', to_jsonb(b)), b, 0, NULL,
            $4::timestamptz + (g % 365) * interval '1 day', 1
       FROM generate_series(1, $3::int) g,
            LATERAL (SELECT 'cust-' || lpad(g::text, 6, '0') AS c, ((g::bigint * 7919) % 6000)::bigint AS b) x`,
    [P, JSON.stringify(state), CUSTOMERS, new Date(now).toISOString()],
  );
  const accountsMs = performance.now() - t0;
  const t1 = performance.now();
  // In chunks of 250,000 rows, one statement each.
  const CHUNK = 250_000;
  for (let start = 1; start <= ROWS; start += CHUNK) {
    await db.query(
      `INSERT INTO entries (program, id, customer, event_id, type, points, balance_after, at, data)
       SELECT $1, e || '#0', c, e, t, p, 0, at,
              jsonb_build_object('id', e || '#0', 'event', e, 'customer', c, 'type', t, 'points', p, 'balance_after', 0,
                                 'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                 'reason', CASE t WHEN 'earn' THEN 'order placed' WHEN 'redeem' THEN 'reward threshold-10pct'
                                                  WHEN 'expire' THEN 'points expired' WHEN 'reverse' THEN 'order refunded' ELSE 'goodwill' END,
                                 'rules', jsonb_build_array('earn:10 points per EUR', 'rounding:floor'))
         FROM generate_series($2::int, $3::int) g,
              LATERAL (SELECT 'bench:' || g AS e,
                              'cust-' || lpad((1 + (g::bigint * 48271) % $5::int)::text, 6, '0') AS c,
                              $4::timestamptz - ((hashint4(g)::bigint & 2147483647) % (365 * 24 * 3600)) * interval '1 second' AS at,
                              g % 100 AS k) a,
              LATERAL (SELECT CASE WHEN k < 70 THEN 'earn' WHEN k < 80 THEN 'redeem' WHEN k < 88 THEN 'expire' WHEN k < 95 THEN 'reverse' ELSE 'adjust' END AS t) b,
              LATERAL (SELECT CASE t WHEN 'earn' THEN 50 + (g % 2000) WHEN 'redeem' THEN -5000 WHEN 'expire' THEN -(g % 900) - 1
                                     WHEN 'reverse' THEN -(g % 500) - 1 ELSE 100 END::bigint AS p) d`,
      [P, start, Math.min(ROWS, start + CHUNK - 1), new Date(now).toISOString(), CUSTOMERS],
    );
  }
  const entriesMs = performance.now() - t1;
  await db.query(
    `INSERT INTO coupons (program, code, customer, reward, status, data)
     SELECT $1, 'LOY-' || g, 'cust-' || lpad((1 + g % $2::int)::text, 6, '0'), 'threshold-10pct',
            CASE g % 4 WHEN 0 THEN 'used' WHEN 1 THEN 'expired' ELSE 'issued' END, '{"type":"percent","value":"10"}'
       FROM generate_series(1, $3::int) g`,
    [P, CUSTOMERS, Math.floor(ROWS / 20)],
  );
  const t2 = performance.now();
  await db.query('VACUUM ANALYZE accounts');
  await db.query('VACUUM ANALYZE entries');
  await db.query('VACUUM ANALYZE coupons');
  report(`seed: ${CUSTOMERS.toLocaleString('en-US')} accounts / ${ROWS.toLocaleString('en-US')} ledger rows (bulk SQL)`, `${ms(accountsMs)} / ${ms(entriesMs)}, vacuum analyze ${ms(performance.now() - t2)}`);
}

// --- measurements -----------------------------------------------------------------------
async function timeGet(url) {
  const t = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - t, body };
}

async function main() {
  const now = Date.now();
  console.error(`kpi bench: ${CUSTOMERS} customers, ${ROWS} ledger rows${QUICK ? ' (quick)' : ''}`);
  db = await benchPostgres({ tag: 'kpi-bench', port: process.env.LOYALTY_BENCH_KPI_PG_PORT ?? '54378', keep: process.env.LOYALTY_BENCH_KEEP === '1' });
  const url = await db.fresh();
  const store = await openPostgresStore({ connectionString: url, max: 10 });
  const loyalty = createLoyalty({ program, store, secret: 'bench' });
  let app;
  let browser;
  try {
    await seed(store.db, now);
    app = buildApp({ loyalty, store, token: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${app.server.address().port}`;

    const to = new Date(now);
    for (const days of [30, 90, 365]) {
      const from = new Date(now - days * DAY);
      const u = `${base}/api/kpis?from=${from.toISOString()}&to=${to.toISOString()}`;
      const cold = await timeGet(u);
      const warm = [];
      for (let i = 0; i < 5; i++) warm.push((await timeGet(u)).ms);
      const k = cold.body;
      report(`GET /api/kpis, ${days} days (${k.earned.toLocaleString('en-US')} earned, ${k.days.length} days charted)`, `first ${ms(cold.ms)}, then median ${ms(median(warm))}`);
      if (days === 30) console.error(`    members ${k.members}, active ${k.active_members}, repeat ${k.repeat_purchase_rate}, redemption ${k.redemption_rate}, breakage ${k.breakage}, liability ${k.liability.points} = ${k.liability.value} EUR`);
    }
    const search = [];
    for (const q of ['cust-0', 'cust-05', 'cust-0999', 'cust-09999', 'nobody']) search.push((await timeGet(`${base}/api/customers?q=${q}`)).ms);
    report('GET /api/customers?q= (prefix search, 5 queries)', `median ${ms(median(search))}`);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    // From navigation to the KPI cards and chart rendered, in a running browser: with an
    // empty HTTP cache (a new context each time) and with a warm one (reloads). `page` is
    // the page's own clock (navigation start to the chart in the DOM); `wall` adds what
    // the browser does around it (a new context spawns a renderer process).
    const load = async (page) => {
      const t = performance.now();
      await page.goto(`${base}/admin?token=${TOKEN}#dashboard`, { waitUntil: 'commit' });
      const handle = await page.waitForFunction(
        () => (document.querySelector('loyalty-admin')?.shadowRoot?.querySelector('#chart') ? performance.now() : false), null, { polling: 'raf' });
      const inPage = await handle.jsonValue();
      return { wall: performance.now() - t, page: inPage };
    };
    const fresh = async () => {
      const context = await browser.newContext();
      const t = await load(await context.newPage());
      await context.close();
      return t;
    };
    await fresh(); // the browser's first renderer
    const cold = [];
    for (let i = 0; i < 5; i++) cold.push(await fresh());
    const context = await browser.newContext();
    const page = await context.newPage();
    await load(page);
    const warm = [];
    for (let i = 0; i < 5; i++) warm.push(await load(page));
    await context.close();
    const fig = (xs) => `page ${ms(median(xs.map((x) => x.page)))}, wall ${ms(median(xs.map((x) => x.wall)))}`;
    report('/admin#dashboard in Chromium to the rendered KPIs and chart (30 days), empty cache, median of 5', fig(cold));
    report('/admin#dashboard in Chromium to the rendered KPIs and chart (30 days), warm cache, median of 5', fig(warm));
  } finally {
    await browser?.close();
    await app?.close();
    await loyalty.close();
    await db.close();
  }
  console.log(`\n| admin dashboard (PostgreSQL; ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at the end) | figure |\n|---|---|`);
  for (const [what, figure] of rows) console.log(`| ${what} | ${figure} |`);
}

main().catch(async (err) => {
  console.error(err);
  await db?.close().catch(() => {});
  process.exit(1);
});
