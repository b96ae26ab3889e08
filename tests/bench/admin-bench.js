// `node tests/bench/admin-bench.js`: the admin at scale on PostgreSQL.
//  - customer search over 1,000,000 accounts with contacts (bulk SQL): p50 and p95 over HTTP
//    of an email prefix, a name prefix, an id prefix, the list by balance and by last
//    activity, and a keyset page further on;
//  - publish-to-applied: a program published on one server process, then a signed Shopify
//    order sent to a second `loyalty serve` process on the same database: the time from the
//    publish request to that order's response, the order earning at the new rate;
//  - the program preview over 12 months of 100,000 orders.
// PostgreSQL: DATABASE_URL if set (a fresh database is created in it), else a throwaway
// server from scripts/pg.sh. LOYALTY_BENCH_QUICK=1 seeds a tenth of the accounts.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serverConfig } from '../../js/server/config.js';
import { serve } from '../../js/server/serve.js';
import { sampleShopifyOrder, sign } from '../../js/server/demo.js';
import { benchPostgres } from './postgres.js';

const root = new URL('../../', import.meta.url).pathname;
const ACCOUNTS = process.env.LOYALTY_BENCH_QUICK === '1' ? 100_000 : 1_000_000;
const TOKEN = 'admin-bench-token';
const SHOPIFY = 'admin-bench-shopify';
const SHOP = 'admin-bench.myshopify.com';
const env = (extra) => ({ LOYALTY_TOKEN: TOKEN, LOYALTY_SECRET: 'bench', SHOPIFY_SECRETS: SHOPIFY, SHOPIFY_SHOP_DOMAIN: SHOP, LOYALTY_TICK_SECONDS: '3600', ...extra });
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (n) => `${n.toFixed(1)} ms`;
const rows = [];
const report = (what, figure) => { rows.push([what, figure]); console.error(`  ${what}: ${figure}`); };

async function other(databaseUrl, programFile) {
  const child = spawn(process.execPath, [join(root, 'js/cli/loyalty.js'), 'serve', '--program', programFile, '--port', '0'],
    { env: { ...process.env, ...env({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`second server exited ${code}`)));
  });
  return { url, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

const pg = await benchPostgres({ tag: 'admin-bench', port: process.env.LOYALTY_BENCH_ADMIN_PG_PORT ?? '54379' });
const scratch = mkdtempSync(join(tmpdir(), 'loyalty-admin-bench-'));
const programFile = join(scratch, 'program.json');
writeFileSync(programFile, readFileSync(join(root, 'presets/seed.json')));
let server;
let second;
try {
  const databaseUrl = await pg.fresh();
  const e = env({ DATABASE_URL: databaseUrl });
  server = await serve({ ...serverConfig({ program: programFile, port: 0 }, e), env: e }, { logger: false });
  const db = server.store.db;
  console.error(`admin bench: seeding ${ACCOUNTS.toLocaleString('en')} accounts with contacts`);
  await db.query(`INSERT INTO accounts (program, customer, state, balance, updated_at)
    SELECT 'demo', 'cust-' || lpad(n::text, 7, '0'), '{}'::jsonb, (n::bigint * 7919) % 20000, now() - ((n::bigint * 104729) % 500000 || ' seconds')::interval
      FROM generate_series(1, ${ACCOUNTS}) n`);
  await db.query(`INSERT INTO notify_contacts (program, customer, email, name)
    SELECT 'demo', 'cust-' || lpad(n::text, 7, '0'), 'shopper' || n || '@example.com', 'Name' || ((n * 31) % 100000) FROM generate_series(1, ${ACCOUNTS}) n`);
  await db.query('ANALYZE accounts');
  await db.query('ANALYZE notify_contacts');

  const get = async (path) => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await res.json();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    return { ms: performance.now() - t0, body };
  };
  const N = 200;
  const kinds = {
    'email prefix': (i) => `/api/customers?q=shopper${(i * 4567) % ACCOUNTS}@&limit=20`,
    'name prefix': (i) => `/api/customers?q=name${(i * 97) % 1000}&field=name&limit=20`,
    'id prefix': (i) => `/api/customers?q=cust-${String((i * 37) % 10000).padStart(4, '0')}&field=id&limit=20`,
    'by balance': () => '/api/customers?sort=balance&limit=20',
    'by last activity': () => '/api/customers?sort=activity&limit=20',
  };
  for (const [kind, path] of Object.entries(kinds)) {
    await get(path(0)); // warm the connection and the plan
    const times = [];
    for (let i = 1; i <= N; i++) times.push((await get(path(i))).ms);
    report(`customer search, ${kind}, ${ACCOUNTS.toLocaleString('en')} accounts (p50 / p95 over ${N})`, `${ms(pct(times, 0.5))} / ${ms(pct(times, 0.95))}`);
  }
  // A keyset page deep in the balance order: as cheap as the first.
  let cursor = null;
  const deep = [];
  for (let i = 0; i < 50; i++) {
    const r = await get(`/api/customers?sort=balance&limit=20${cursor ? `&cursor=${cursor}` : ''}`);
    deep.push(r.ms);
    cursor = r.body.next;
  }
  report('customer list by balance, pages 1 to 50 (p50 / p95)', `${ms(pct(deep, 0.5))} / ${ms(pct(deep, 0.95))}`);

  // The preview before publishing: the shop's last 12 months replayed under the program in
  // force and the edited one. 100,000 orders over 10,000 customers, written as event rows
  // (the preview reads only their bodies).
  const ORDERS = 100_000;
  await db.query(`
    INSERT INTO events (program, event_id, customer, type, at, body, result)
    SELECT 'demo', 'pv-' || n, 'pv-c' || (n % 10000), 'order.placed', now() - make_interval(mins => 500000 - n * 5),
      jsonb_build_object('id', 'pv-' || n, 'type', 'order.placed', 'at', to_char((now() - make_interval(mins => 500000 - n * 5)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'customer', 'pv-c' || (n % 10000),
        'order', jsonb_build_object('id', 'pv-' || n, 'currency', 'EUR', 'lines', jsonb_build_array(jsonb_build_object('id', 'l1', 'quantity', 1 + n % 3, 'unit_price', ((n * 7) % 200 + 10)::text || '.00', 'discount', '0.00')))),
      '{}'::jsonb
    FROM generate_series(1, ${ORDERS}) n`);
  const inForce = (await (await fetch(`${server.url}/api/program`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()).program;
  const previews = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/api/program/preview`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ program: { ...inForce, earn: { ...inForce.earn, points_per_unit: '20' } } }),
    });
    const out = await res.json();
    if (!res.ok || out.events < ORDERS) throw new Error(`preview: ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
    previews.push(performance.now() - t0);
  }
  report(`program preview over 12 months, ${ORDERS.toLocaleString('en')} orders (best / worst of 3; target under 10 s)`, `${ms(Math.min(...previews))} / ${ms(Math.max(...previews))}`);

  // Publish on this process, the order to the other one.
  second = await other(databaseUrl, programFile);
  const program = (await (await fetch(`${server.url}/api/program`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()).program;
  const latencies = [];
  for (let i = 0; i < 20; i++) {
    const rate = i % 2 === 0 ? '20' : '10';
    const t0 = performance.now();
    const pub = await fetch(`${server.url}/api/program`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ program: { ...program, earn: { ...program.earn, points_per_unit: rate } } }),
    });
    if (!pub.ok) throw new Error(`publish: ${pub.status} ${await pub.text()}`);
    const body = JSON.stringify(sampleShopifyOrder({ id: String(800000 + i), customer: `bench-${i}`, currency: 'EUR' }));
    const res = await fetch(`${second.url}/webhooks/shopify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/paid', 'x-shopify-webhook-id': `bench-${i}`, 'x-shopify-hmac-sha256': sign(SHOPIFY, body), 'x-shopify-shop-domain': SHOP },
      body,
    });
    const t1 = performance.now();
    if (!res.ok) throw new Error(`webhook: ${res.status} ${await res.text()}`);
    const account = await (await fetch(`${server.url}/api/customers/bench-${i}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    if (account.balance !== 49 * Number(rate)) throw new Error(`order ${i} earned ${account.balance}, not ${49 * Number(rate)} at rate ${rate}`);
    latencies.push(t1 - t0);
  }
  report('publish on one process to an order earning at the new rate on another (p50 / p95 over 20)', `${ms(pct(latencies, 0.5))} / ${ms(pct(latencies, 0.95))}`);
  console.log('\n| admin (PostgreSQL) | |\n|---|---|');
  for (const [what, figure] of rows) console.log(`| ${what} | ${figure} |`);
} finally {
  await second?.stop();
  await server?.close();
  await pg.close();
  rmSync(scratch, { recursive: true, force: true });
}
