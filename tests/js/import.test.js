// `loyalty import`, `rebuild` and `reconcile` as a user runs them, on copied PGlite folders.
// reconcile talks to a local fake WooCommerce REST API serving the fixture orders (the one
// mock: the real API cannot run here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { createWooAdapter } from '../../js/platforms/woocommerce.js';
import { createEngine, replay } from '../../js/index.js';
import { FIXTURES } from './fixtures.js';

const root = new URL('../../', import.meta.url).pathname;
const fixtures = FIXTURES;
const seed = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'loyalty-import-test-'));
let template;
let copies = 0;

before(async () => {
  template = join(scratch, 'template');
  await (await openPgliteStore({ dataDir: template })).close();
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function freshDir() {
  const dir = join(scratch, `db${copies++}`);
  cpSync(template, dir, { recursive: true });
  return dir;
}

function programFile(overrides) {
  const file = join(scratch, `program${copies++}.json`);
  writeFileSync(file, JSON.stringify({ ...seed, ...overrides }));
  return file;
}

// The CLI, asynchronously (reconcile needs this process's event loop for the fake API).
function loyalty(args, env = {}) {
  return new Promise((resolve) => {
    const e = { ...process.env, ...env };
    delete e.DATABASE_URL; // these tests own their PGlite folders
    const child = spawn(process.execPath, [join(root, 'js/cli/loyalty.js'), ...args], { cwd: root, env: e });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function withLoyalty(dataDir, program, fn) {
  const store = await openPgliteStore({ dataDir });
  const l = createLoyalty({ program, store, secret: 'demo-secret' });
  try {
    return await fn(l, store);
  } finally {
    await l.close();
  }
}

test('import of canonical JSONL gives the replay balances; again changes nothing; rebuild agrees', async () => {
  const data = freshDir();
  const args = ['import', '--program', 'presets/seed.json', '--file', 'tests/scenarios/seed.jsonl', '--data', data, '--secret', 'demo-secret', '--batch', '3'];
  let r = await loyalty(args);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const first = JSON.parse(r.stdout);
  assert.equal(first.format, 'jsonl');
  assert.equal(first.error_count, 0);
  assert.ok(first.applied > 0);
  r = await loyalty(args);
  const second = JSON.parse(r.stdout);
  assert.deepEqual([first.ticks, first.applied + first.duplicates + first.skipped], [4, 7]);
  assert.deepEqual([second.applied, second.ticked, second.duplicates + second.skipped], [0, 0, 7]);

  const expected = JSON.parse(readFileSync(join(root, 'tests/scenarios/seed.expected.json'), 'utf8')).customers;
  await withLoyalty(data, seed, async (l) => {
    for (const [c, view] of Object.entries(expected)) assert.deepEqual(await l.account(c), view, c);
  });
  r = await loyalty(['rebuild', '--program', 'presets/seed.json', '--data', data, '--secret', 'demo-secret']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.deepEqual(JSON.parse(r.stdout).differences, []);
});

test('import stops at a bad line, naming line and field; fixed, a re-run completes it; --skip-invalid goes on', async () => {
  const lines = readFileSync(join(root, 'tests/scenarios/seed.jsonl'), 'utf8').trim().split('\n');
  const bad = lines.map((l, i) => (i === 3 ? l.replace('"unit_price":"1250.00"', '"unit_price":"1250.001"') : l));
  assert.notEqual(bad[3], lines[3]);
  const file = join(scratch, 'bad.jsonl');
  writeFileSync(file, `${bad.slice(0, 2).join('\n')}\n\n${bad.slice(2).join('\n')}\n`); // a blank line: line numbers count it
  const data = freshDir();
  const args = ['import', '--program', 'presets/seed.json', '--file', file, '--data', data, '--secret', 'demo-secret', '--batch', '2'];
  let r = await loyalty(args);
  assert.equal(r.status, 1, r.stderr);
  let out = JSON.parse(r.stdout);
  assert.deepEqual([out.stopped.line, out.stopped.event, out.stopped.path, out.done], [5, 'ev-o2', 'order.lines[0].unit_price', 3]);
  assert.match(out.stopped.message, /1250\.001/);
  await withLoyalty(data, seed, async (l, store) => {
    assert.deepEqual((await store.events(seed.id)).map((e) => e.body.id), ['ev-o4', 'ev-o1'], 'the lines before it, nothing after');
    assert.equal(await l.account('c2'), null);
  });

  writeFileSync(file, `${lines.join('\n')}\n`);
  r = await loyalty(args);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  out = JSON.parse(r.stdout);
  assert.deepEqual([out.duplicates, out.error_count, out.stopped], [3, 0, null]);
  const expected = JSON.parse(readFileSync(join(root, 'tests/scenarios/seed.expected.json'), 'utf8')).customers;
  await withLoyalty(data, seed, async (l) => {
    for (const [c, view] of Object.entries(expected)) assert.deepEqual(await l.account(c), view, c);
  });

  writeFileSync(file, `${bad.join('\n')}\n`);
  r = await loyalty([...args.slice(0, 5), file, '--data', freshDir(), '--skip-invalid']);
  assert.equal(r.status, 1, r.stderr);
  out = JSON.parse(r.stdout);
  assert.deepEqual([out.stopped, out.error_count, out.errors[0].line, out.done], [null, 1, 4, bad.length]);
});

test('rebuild reports a tampered account and exits 1', async () => {
  const data = freshDir();
  await withLoyalty(data, seed, async (l, store) => {
    await l.adjust('c1', { points: 40, reason: 'test', by: 'staff', at: '2026-01-01T00:00:00Z' });
    const { rows } = await store.db.query("SELECT state FROM accounts WHERE customer = 'c1'");
    await store.db.query("UPDATE accounts SET state = $1, balance = 1040 WHERE customer = 'c1'", [JSON.stringify({ ...rows[0].state, balance: 1040 })]);
  });
  const r = await loyalty(['rebuild', '--program', 'presets/seed.json', '--data', data]);
  assert.equal(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.differences.map((d) => [d.customer, d.fields]), [['c1', ['balance']]]);
  assert.equal(out.differences[0].rebuilt.balance, 40);
});

test('import of a Shopify orders export maps orders and refunds, ids exact beyond 2^53', async () => {
  const raw = readFileSync(join(fixtures, 'shopify_orders_create_real_HKD_fixed_code_plus_automatic_discount_with_customer.json'), 'utf8');
  // The same real order under an id above 2^53, refunded (line 1: 99.00 - 8.20 = 90.80 HKD)
  // and an unpaid order that must earn nothing. Built as text: JSON.parse would round the id.
  const big = raw.replace('"id": 6200360403244', '"id": 820982911946154508').replace('gid://shopify/Order/6200360403244', 'gid://shopify/Order/820982911946154508');
  const refund = `{"id": 900000000000000001, "order_id": 820982911946154508, "processed_at": "2025-02-01T10:00:00-05:00",
    "refund_line_items": [{"line_item_id": 15518818468140, "quantity": 1, "line_item": {"admin_graphql_api_id": "gid://shopify/LineItem/15518818468140"}}], "transactions": []}`;
  const bigWithRefund = big.replace('"refunds": []', `"refunds": [${refund}]`);
  assert.notEqual(bigWithRefund, big);
  const unpaid = raw.replace('"id": 6200360403244', '"id": 777').replace('gid://shopify/Order/6200360403244', 'gid://shopify/Order/777').replace('"financial_status": "paid"', '"financial_status": "pending"');
  const file = join(scratch, 'export.json');
  writeFileSync(file, `{"orders": [${raw}, ${bigWithRefund}, ${unpaid}]}`);
  const data = freshDir();
  const program = programFile({ currency: 'HKD', timezone: 'Asia/Hong_Kong' });
  const r = await loyalty(['import', '--program', program, '--file', file, '--data', data]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.format, out.events, out.applied, out.ignored], ['shopify-export', 3, 3, 1]);
  await withLoyalty(data, { ...seed, currency: 'HKD', timezone: 'Asia/Hong_Kong' }, async (l, store) => {
    // 2840 per order; the second crosses 5000 and buys the 10% coupon; the refund takes
    // back 908 below zero (negative_balance defaults to allow).
    const view = await l.account('8658316394796');
    assert.equal(view.balance, 2840 + 2840 - 5000 - 908);
    assert.equal(view.coupons.length, 1);
    const ids = (await store.events(seed.id)).map((e) => e.body.id);
    assert.deepEqual(ids, ['shopify:order:6200360403244:placed', 'shopify:order:820982911946154508:placed', 'shopify:refund:900000000000000001']);
  });
});

// --- reconcile -----------------------------------------------------------------------

/** A fake WooCommerce REST API: Basic auth, modified_after, pages of per_page. */
async function fakeWoo(orders, { key, secret }) {
  const requests = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    requests.push(url);
    const ok = req.headers.authorization === `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
    if (!ok) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"woocommerce_rest_cannot_view"}');
    if (url.pathname !== '/wp-json/wc/v3/orders') return res.writeHead(404).end();
    const after = new Date(`${url.searchParams.get('modified_after')}`);
    const matching = orders.filter((o) => new Date(`${o.date_modified_gmt}Z`) > after);
    const page = Number(url.searchParams.get('page'));
    const per = Number(url.searchParams.get('per_page'));
    const body = matching.slice((page - 1) * per, page * per);
    res.writeHead(200, { 'content-type': 'application/json', 'x-wp-total': String(matching.length), 'x-wp-totalpages': String(Math.ceil(matching.length / per)) });
    // As WordPress serialises: escaped slashes.
    res.end(JSON.stringify(body).replace(/\//g, '\\/'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

test('reconcile pulls WooCommerce orders page by page and applies only what was missed', async () => {
  const refunded = JSON.parse(readFileSync(join(fixtures, 'woocommerce_order_official_docs_v3_723_with_refunds.json'), 'utf8'));
  const guest = JSON.parse(readFileSync(join(fixtures, 'woocommerce_order_official_docs_v3_727_created.json'), 'utf8'));
  // 118 paid copies of order 727 for five customers, so the 120 orders span two pages.
  const copiesOf727 = Array.from({ length: 118 }, (_, i) => ({ ...guest, id: 2000 + i, customer_id: 100 + (i % 5), date_modified_gmt: `2017-03-23T10:${String(i % 60).padStart(2, '0')}:00` }));
  const old = { ...copiesOf727[0], id: 1999, date_modified_gmt: '2016-01-01T00:00:00' }; // before --since: not fetched
  const orders = [refunded, guest, ...copiesOf727, old];
  const key = 'ck_test';
  const secret = 'cs_test';
  const woo = await fakeWoo(orders, { key, secret });
  const data = freshDir();
  const program = programFile({ currency: 'USD', timezone: 'America/New_York' });
  const usd = { ...seed, currency: 'USD', timezone: 'America/New_York' };
  try {
    // One order already came in by webhook: reconcile must not award it again.
    const adapter = createWooAdapter({ secrets: ['x'] });
    const webhookEvents = adapter.toEvents({ 'x-wc-webhook-topic': 'order.updated' }, Buffer.from(JSON.stringify(copiesOf727[0]))).events;
    await withLoyalty(data, usd, (l) => l.handleMany(webhookEvents));

    // The secret on the command line is refused: every user can read it from ps.
    let r = await loyalty(['reconcile', '--program', program, '--data', data, '--since', '2017-01-01T00:00:00Z', '--woo-url', woo.url, '--woo-secret', secret]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /WOO_CONSUMER_SECRET/);
    const args = ['reconcile', '--program', program, '--data', data, '--since', '2017-01-01T00:00:00Z', '--woo-url', woo.url];
    const creds = { WOO_CONSUMER_KEY: key, WOO_CONSUMER_SECRET: secret };
    r = await loyalty(args, creds);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    let out = JSON.parse(r.stdout);
    assert.deepEqual({ orders: out.orders, ignored: out.ignored, duplicates: out.duplicates, errors: out.errors.length }, { orders: 120, ignored: 1, duplicates: 1, errors: 0 });
    // 723: the purchase and its two refunds; 117 new copies.
    assert.equal(out.applied, 3 + 117);
    assert.deepEqual(woo.requests.map((u) => [u.searchParams.get('page'), u.searchParams.get('per_page'), u.searchParams.get('modified_after')]),
      [['1', '100', '2017-01-01T00:00:00.000Z'], ['2', '100', '2017-01-01T00:00:00.000Z']]);

    // Exactly the balances of the same orders replayed in memory.
    const events = orders.filter((o) => o !== old).flatMap((o) => {
      const m = adapter.toEvents({ 'x-wc-webhook-topic': 'order.updated' }, Buffer.from(JSON.stringify(o)));
      return m.kind === 'events' ? m.events : [];
    });
    const clean = replay(createEngine(usd, { secret: 'demo-secret' }), events).customers;
    await withLoyalty(data, usd, async (l) => {
      for (const c of ['26', '100', '101', '102', '103', '104']) assert.equal((await l.account(c)).balance, clean[c].balance, c);
      // 29.00 of lines earned 290; amount refunds of 19.00 out of 39.00 paid (with shipping)
      // leave 20/39 of it: 148.
      assert.equal((await l.account('26')).balance, 148);
      // 24 orders of 18.00: 4320 points, below the 5000 reward.
      assert.equal((await l.account('100')).balance, 4320);
    });

    r = await loyalty(args, creds);
    out = JSON.parse(r.stdout);
    assert.equal(out.applied, 0, 'a second run finds nothing missing');
    assert.equal(out.duplicates, 121);

    r = await loyalty(args, { ...creds, WOO_CONSUMER_SECRET: 'wrong' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /WooCommerce answered 401/);
  } finally {
    await woo.close();
  }
});
