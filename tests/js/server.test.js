// The HTTP backend over real HTTP and a real store: PGlite (a migrated template folder
// copied per test) in-process, and `loyalty serve` child processes for shutdown and crash
// recovery (PostgreSQL when DATABASE_URL is set, else PGlite).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import pg from 'pg';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { createShopifyAdapter } from '../../js/platforms/shopify.js';
import { createWooAdapter } from '../../js/platforms/woocommerce.js';
import { createEngine, replay } from '../../js/index.js';
import { buildApp } from '../../js/server/app.js';
import { createOperator, login } from '../../js/server/operators.js';
import { sampleShopifyOrder } from '../../js/server/demo.js';
import { startScheduler } from '../../js/server/scheduler.js';
import { FIXTURES } from './fixtures.js';

const root = new URL('../../', import.meta.url).pathname;
const FIXTURE = readFileSync(`${FIXTURES}/shopify_orders_create_real_HKD_fixed_code_plus_automatic_discount_with_customer.json`);
const FIXTURE_CUSTOMER = '8658316394796';
// 99.00 - 8.20 + 100.00 - 3.40 + 100.00 - 3.40 = 284.00 HKD, shipping and tax excluded, 10 per unit.
const FIXTURE_POINTS = 2840;

// The seed program in the fixture's currency.
const program = { ...JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8')), currency: 'HKD', timezone: 'Asia/Hong_Kong' };
const TOKEN = 'test-token';
const SHOPIFY = ['shp-current', 'shp-previous'];
const WOO = 'woo-secret';
const SECRET = 'coupon-secret';
const auth = { authorization: `Bearer ${TOKEN}` };
const sign = (secret, body) => createHmac('sha256', secret).update(body).digest('base64');
const SHOP = 'x.myshopify.com';
const shopifyHeaders = (body, { id = 'delivery-1', topic = 'orders/paid', secret = SHOPIFY[0], shop = SHOP } = {}) => ({
  'content-type': 'application/json', 'x-shopify-topic': topic, 'x-shopify-webhook-id': id, 'x-shopify-hmac-sha256': sign(secret, body), 'x-shopify-shop-domain': shop,
});

const scratch = mkdtempSync(join(tmpdir(), 'loyalty-server-test-'));
const programFile = join(scratch, 'program.json');
writeFileSync(programFile, JSON.stringify(program));
let template;
let copies = 0;

before(async () => {
  // Creating a PGlite database costs seconds; reopening a copied folder well under one.
  template = join(scratch, 'template');
  await (await openPgliteStore({ dataDir: template })).close();
});

const open = [];
after(async () => {
  for (const x of open) await x.close().catch(() => {});
  if (admin) {
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
  rmSync(scratch, { recursive: true, force: true });
});

function freshDir() {
  const dir = join(scratch, `db${copies++}`);
  cpSync(template, dir, { recursive: true });
  return dir;
}

// PostgreSQL for the child-process tests when the test run provides one.
const DATABASE_URL = process.env.DATABASE_URL;
let admin;
const databases = [];
async function freshDatabase() {
  admin ??= new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const name = `loyalty_server_${process.pid}_${databases.length}`;
  await admin.query(`CREATE DATABASE ${name}`);
  databases.push(name);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** An app on a copied PGlite folder: {app, loyalty, store}. */
async function setup() {
  const store = await openPgliteStore({ dataDir: freshDir() });
  const loyalty = createLoyalty({ program, store, secret: SECRET });
  const app = buildApp({
    loyalty, store, token: TOKEN,
    adapters: { shopify: createShopifyAdapter({ secrets: SHOPIFY, shopDomain: SHOP }), woocommerce: createWooAdapter({ secrets: [WOO] }) },
  });
  const ctx = { app, loyalty, store, close: async () => { await app.close(); await loyalty.close(); } };
  open.push(ctx);
  return ctx;
}

const post = (app, url, body, headers = auth) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });

// --- webhooks -------------------------------------------------------------------------

test('a signed Shopify order is awarded exactly, over real HTTP', async () => {
  const { app, loyalty } = await setup();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const res = await fetch(`${url}/webhooks/shopify`, { method: 'POST', headers: shopifyHeaders(FIXTURE), body: FIXTURE });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  assert.equal(body.results[0].event, 'shopify:order:6200360403244:placed');
  assert.equal((await loyalty.account(FIXTURE_CUSTOMER)).balance, FIXTURE_POINTS);
  const view = await (await fetch(`${url}/api/customers/${FIXTURE_CUSTOMER}`, { headers: auth })).json();
  assert.equal(view.balance, FIXTURE_POINTS);
  // The previous secret still verifies during a rotation; the same order through it is no new award.
  const again = await fetch(`${url}/webhooks/shopify`, { method: 'POST', headers: shopifyHeaders(FIXTURE, { id: 'delivery-2', secret: SHOPIFY[1] }), body: FIXTURE });
  assert.equal(again.status, 200);
  assert.equal((await again.json()).results[0].duplicate, true);
  assert.equal((await loyalty.account(FIXTURE_CUSTOMER)).balance, FIXTURE_POINTS);
});

test('the same delivery 50 times at once is awarded once (one webhook id, and 50 ids)', async () => {
  const { app, loyalty, store } = await setup();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const send = (id) => fetch(`${url}/webhooks/shopify`, { method: 'POST', headers: shopifyHeaders(FIXTURE, { id }), body: FIXTURE });
  let all = await Promise.all(Array.from({ length: 50 }, () => send('same-delivery')));
  assert.deepEqual([...new Set(all.map((r) => r.status))], [200]);
  // Distinct webhook ids skip the delivery cache: only the ledger's unique event id dedupes.
  all = await Promise.all(Array.from({ length: 50 }, (_, i) => send(`retry-${i}`)));
  assert.deepEqual([...new Set(all.map((r) => r.status))], [200]);
  const results = await Promise.all(all.map((r) => r.json()));
  assert.ok(results.every((r) => r.results[0].duplicate === true));
  assert.equal((await loyalty.account(FIXTURE_CUSTOMER)).balance, FIXTURE_POINTS);
  assert.deepEqual(await store.audit(program.id, FIXTURE_CUSTOMER), { events: 1, entries: 1, points: FIXTURE_POINTS });
});

test('a bad signature is 401 and writes nothing', async () => {
  const { app, loyalty, store } = await setup();
  for (const headers of [
    shopifyHeaders(FIXTURE, { secret: 'wrong' }),
    { ...shopifyHeaders(FIXTURE), 'x-shopify-hmac-sha256': undefined },
    // Signed over re-serialised JSON, not the raw bytes: must not verify.
    shopifyHeaders(Buffer.from(JSON.stringify(JSON.parse(FIXTURE.toString())))),
  ]) {
    const res = await post(app, '/webhooks/shopify', FIXTURE, Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)));
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'bad_signature');
  }
  const woo = await post(app, '/webhooks/woocommerce', '{"id":1}', { 'x-wc-webhook-signature': sign('nope', '{"id":1}'), 'x-wc-webhook-topic': 'order.created' });
  assert.equal(woo.statusCode, 401);
  assert.equal(await loyalty.account(FIXTURE_CUSTOMER), null);
  assert.equal((await store.events(program.id)).length, 0);
});

test('a WooCommerce creation ping gets a 200, and a signed Woo order earns', async () => {
  const { app, loyalty } = await setup();
  const ping = await app.inject({ method: 'POST', url: '/webhooks/woocommerce', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'webhook_id=17' });
  assert.equal(ping.statusCode, 200);
  assert.equal(ping.json().ping, true);
  const order = JSON.parse(readFileSync(`${FIXTURES}/woocommerce_order_official_docs_v3_727_created.json`, 'utf8'));
  const body = Buffer.from(JSON.stringify({ ...order, customer_id: 42, currency: 'HKD', status: 'processing' }));
  const res = await post(app, '/webhooks/woocommerce', body, { 'x-wc-webhook-topic': 'order.created', 'x-wc-webhook-signature': sign(WOO, body) });
  assert.equal(res.statusCode, 200, res.body);
  // 18.00 of lines, shipping and tax excluded.
  assert.equal((await loyalty.account('42')).balance, 180);
});

test('Shopify compliance webhooks: data_request is kept for the merchant, customers/redact anonymises, shop/redact only after uninstall', async () => {
  const { app, loyalty, store } = await setup();
  const order = await post(app, '/webhooks/shopify', FIXTURE, shopifyHeaders(FIXTURE));
  assert.equal(order.statusCode, 200, order.body);
  await loyalty.adjust('other', { points: 7, reason: 'r', by: 'staff' });
  let n = 0;
  const compliance = (topic, body) => {
    const raw = Buffer.from(JSON.stringify(body));
    return post(app, '/webhooks/shopify', raw, shopifyHeaders(raw, { topic, id: `${topic}-${n++}` }));
  };
  const customer = { id: Number(FIXTURE_CUSTOMER), email: 'someone@example.com', phone: '555-625-1199' };
  let res = await compliance('customers/data_request', { shop_id: 954889, shop_domain: SHOP, customer, orders_requested: [6200360403244], data_request: { id: 9999 } });
  assert.equal(res.statusCode, 200, res.body);
  // The response names the export; the data itself is only in the merchant's admin.
  assert.equal(res.json().data, undefined);
  assert.ok(!res.body.includes('shopify:order:6200360403244'), res.body);
  const { rows: [exported] } = await store.db.query('SELECT customer, data FROM data_exports WHERE id = $1', [res.json().export]);
  assert.equal(exported.customer, FIXTURE_CUSTOMER);
  assert.equal(exported.data.account.balance, FIXTURE_POINTS);
  assert.deepEqual(exported.data.events.map((e) => e.id), ['shopify:order:6200360403244:placed']);
  const listed = await app.inject({ method: 'GET', url: '/api/exports', headers: auth });
  assert.equal(listed.statusCode, 200, listed.body);
  assert.deepEqual(listed.json().exports.map((e) => e.customer), [FIXTURE_CUSTOMER]);

  res = await compliance('customers/redact', { shop_id: 954889, shop_domain: SHOP, customer, orders_to_redact: [6200360403244] });
  assert.equal(res.statusCode, 200, res.body);
  const { anonymous } = res.json().redacted;
  assert.equal(await loyalty.account(FIXTURE_CUSTOMER), null);
  assert.equal((await loyalty.account(anonymous)).balance, FIXTURE_POINTS);
  assert.deepEqual((await loyalty.rebuild()).differences, []);
  const { rows } = await store.db.query('SELECT count(*)::int AS n FROM events x WHERE x::text LIKE $1', [`%${FIXTURE_CUSTOMER}%`]);
  assert.equal(rows[0].n, 0);

  // shop/redact for a shop still installed is a replay: refused, nothing erased.
  res = await compliance('shop/redact', { shop_id: 954889, shop_domain: SHOP });
  assert.equal(res.statusCode, 409, res.body);
  assert.equal((await loyalty.account('other')).balance, 7);
  res = await compliance('app/uninstalled', { id: 954889, name: 'x', domain: 'x.example', myshopify_domain: SHOP });
  assert.equal(res.statusCode, 200, res.body);
  // An order after the uninstall is not applied.
  const late = Buffer.from(JSON.stringify(sampleShopifyOrder({ id: '777', customer: 'late', currency: 'HKD' })));
  res = await post(app, '/webhooks/shopify', late, shopifyHeaders(late, { id: 'late-1' }));
  assert.equal(res.statusCode, 410, res.body);
  res = await compliance('shop/redact', { shop_id: 954889, shop_domain: SHOP });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().deleted.accounts, 2);
  assert.equal(await loyalty.account('other'), null);
  assert.equal((await store.events(program.id)).length, 0);
});

test('a signed body replayed under another topic, or for another shop, is refused and changes nothing', async () => {
  const { app, loyalty, store } = await setup();
  const order = await post(app, '/webhooks/shopify', FIXTURE, shopifyHeaders(FIXTURE));
  assert.equal(order.statusCode, 200, order.body);
  for (const topic of ['shop/redact', 'customers/redact', 'customers/data_request', 'orders/cancelled', 'refunds/create', 'app/uninstalled', 'customers/create']) {
    const res = await post(app, '/webhooks/shopify', FIXTURE, shopifyHeaders(FIXTURE, { topic, id: `replay-${topic}` }));
    assert.equal(res.statusCode, 400, `${topic}: ${res.body}`);
    assert.equal(res.json().error.code, 'bad_payload');
  }
  // The same body for another shop's header: that shop is not this backend's.
  let res = await post(app, '/webhooks/shopify', FIXTURE, shopifyHeaders(FIXTURE, { id: 'other-shop', shop: 'evil.myshopify.com' }));
  assert.equal(res.statusCode, 400, res.body);
  const redact = Buffer.from(JSON.stringify({ shop_id: 1, shop_domain: 'evil.myshopify.com' }));
  res = await post(app, '/webhooks/shopify', redact, shopifyHeaders(redact, { topic: 'shop/redact', id: 'evil-redact' }));
  assert.equal(res.statusCode, 400, res.body);
  assert.equal((await loyalty.account(FIXTURE_CUSTOMER)).balance, FIXTURE_POINTS);
  assert.equal((await store.events(program.id)).length, 1);
});

// --- request validation ---------------------------------------------------------------

test('malformed JSON and wrong types are 400 naming the field', async () => {
  const { app, loyalty } = await setup();
  await loyalty.adjust('c1', { points: 10, reason: 'open', by: 'test' });
  const cases = [
    ['/api/customers/c1/adjust', '{"points": 5,', 'invalid_json', 'body'],
    ['/api/customers/c1/adjust', { points: '5', reason: 'r', by: 'me' }, 'invalid_request', 'points'],
    ['/api/customers/c1/adjust', { points: 5, by: 'me' }, 'invalid_request', 'reason'],
    ['/api/customers/c1/adjust', { points: 5, reason: 'r', by: 'me', extra: 1 }, 'invalid_request', 'extra'],
    ['/api/quote', { cart: { currency: 'HKD', lines: [{ id: 'l1', quantity: '2', unit_price: '10.00' }] } }, 'invalid_request', 'cart.lines[0].quantity'],
    ['/api/events', { id: 'e1', type: 'points.adjusted', at: '2026-01-01T00:00:00Z', customer: 7 }, 'invalid_request', 'customer'],
    ['/api/events', [{ id: 'e1', type: 'clock.tick' }], 'invalid_request', '[0].at'],
  ];
  for (const [url, body, code, path] of cases) {
    const res = await post(app, url, body);
    assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(body)}: ${res.body}`);
    assert.deepEqual({ code: res.json().error.code, path: res.json().error.path }, { code, path }, res.body);
  }
  // The engine's own errors keep its code and path.
  const res = await post(app, '/api/events', {
    id: 'e2', type: 'order.placed', at: '2026-01-01T00:00:00Z', customer: 'c1',
    order: { id: 'o1', currency: 'EUR', lines: [], shipping: '0', tax: '0', taxes_included: false, coupon_codes: [] },
  });
  assert.equal(res.statusCode, 400);
  assert.deepEqual([res.json().error.code, res.json().error.path], ['invalid_event', 'order.currency']);
  // A signed webhook that is not JSON: 400 bad_payload (Shopify will not retry it forever).
  const junk = Buffer.from('{"id": 1,');
  const bad = await post(app, '/webhooks/shopify', junk, shopifyHeaders(junk));
  assert.equal(bad.statusCode, 400);
  assert.deepEqual([bad.json().error.code, bad.json().error.path], ['bad_payload', 'body']);
  assert.equal((await loyalty.account('c1')).balance, 10);
});

test('admin calls on an unknown customer are 404 and create nothing', async () => {
  const { app, loyalty } = await setup();
  for (const [method, url, body] of [
    ['GET', '/api/customers/ghost'], ['GET', '/api/customers/ghost/history'],
    ['POST', '/api/customers/ghost/adjust', { points: 5, reason: 'r', by: 'me' }],
    ['POST', '/api/coupons/validate', { code: 'LOY-NOPE', cart: { currency: 'HKD', lines: [] } }],
  ]) {
    const res = await app.inject({ method, url, headers: auth, ...(body ? { payload: body } : {}) });
    assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
    assert.equal(res.json().error.code, 'not_found');
  }
  assert.equal(await loyalty.account('ghost'), null);
});

test('the API needs the bearer token', async () => {
  const { app } = await setup();
  for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }]) {
    for (const [method, url] of [['GET', '/api/customers/c1'], ['GET', '/api/customers/c1/history'], ['POST', '/api/customers/c1/adjust'], ['POST', '/api/events'], ['POST', '/api/quote'], ['POST', '/api/coupons/validate']]) {
      const res = await app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
      assert.equal(res.statusCode, 401, `${method} ${url} ${JSON.stringify(headers)}`);
      assert.equal(res.json().error.code, 'unauthorized');
    }
  }
  assert.equal((await app.inject({ url: '/health' })).statusCode, 200);
});

test('a body over 1 MiB is 413, on webhooks and on the API', async () => {
  const { app, store } = await setup();
  const huge = Buffer.alloc(1024 * 1024 + 10, 'a');
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  for (const [path, headers] of [['/webhooks/shopify', shopifyHeaders(huge)], ['/api/events', { ...auth, 'content-type': 'application/json' }]]) {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: huge });
    assert.equal(res.status, 413, path);
    assert.equal((await res.json()).error.code, 'payload_too_large');
  }
  assert.equal((await store.events(program.id)).length, 0);
});

// --- the API --------------------------------------------------------------------------

test('events, account, history pages, adjust, quote and coupon validation', async () => {
  const { app } = await setup();
  const placed = (id, customer, amount, at) => ({
    id, type: 'order.placed', at, customer,
    order: { id: `o-${id}`, currency: 'HKD', lines: [{ id: 'l1', quantity: 1, unit_price: amount, discount: '0.00' }], shipping: '0.00', tax: '0.00', taxes_included: false, coupon_codes: [] },
  });
  let res = await post(app, '/api/events', placed('e1', 'c1', '450.00', '2026-03-01T10:00:00+08:00'));
  assert.equal(res.json().balance, 4500);
  res = await post(app, '/api/events', [placed('e2', 'c1', '100.00', '2026-03-02T10:00:00+08:00'), placed('e1', 'c1', '450.00', '2026-03-01T10:00:00+08:00')]);
  // 5500 crosses the 5000-point reward: a coupon is issued and 5000 redeemed.
  assert.deepEqual(res.json().results.map((r) => [r.balance, r.duplicate ?? false]), [[500, false], [4500, true]]);

  const view = (await app.inject({ url: '/api/customers/c1', headers: auth })).json();
  assert.equal(view.balance, 500);
  assert.equal(view.coupons.length, 1);
  const code = view.coupons[0].code;

  res = await post(app, '/api/customers/c1/adjust', { points: 25, reason: 'goodwill', by: 'staff-1', id: 'adj-1', at: '2026-03-03T00:00:00Z' });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().account.balance, 525);
  res = await post(app, '/api/customers/c1/adjust', { points: 25, reason: 'goodwill', by: 'staff-1', id: 'adj-1', at: '2026-03-03T00:00:00Z' });
  assert.equal(res.json().account.balance, 525, 'a retried adjust with its id is not applied twice');

  const page1 = (await app.inject({ url: '/api/customers/c1/history?limit=2', headers: auth })).json();
  assert.deepEqual(page1.entries.map((e) => e.type), ['adjust', 'redeem']);
  const page2 = (await app.inject({ url: `/api/customers/c1/history?limit=2&cursor=${page1.next}`, headers: auth })).json();
  assert.deepEqual(page2.entries.map((e) => e.type), ['earn', 'earn']);
  assert.equal(page2.next, null);

  const cart = (amount) => ({ currency: 'HKD', at: '2026-03-05T00:00:00+08:00', lines: [{ id: 'l1', quantity: 1, unit_price: amount }] });
  res = await post(app, '/api/quote', { customer: 'c1', cart: cart('150.00') });
  assert.equal(res.json().points, 1500);
  assert.deepEqual(res.json().coupons.map((c) => [c.code, c.usable, c.discount]), [[code, true, '15.00']]);
  res = await post(app, '/api/coupons/validate', { code, cart: cart('150.00') });
  assert.deepEqual([res.json().valid, res.json().customer, res.json().discount], [true, 'c1', '15.00']);
  res = await post(app, '/api/coupons/validate', { code, customer: 'c1', cart: cart('50.00') });
  assert.equal(res.json().valid, false, 'below min_order');
  assert.ok(res.json().reason);

  // Events posted through the API are in the audit log under who posted them: the token, or a
  // named owner's session; duplicates and the event a batch stopped at are not named.
  const { store } = open.at(-1);
  await createOperator(store.db, program.id, { name: 'olga', role: 'owner', password: 'olga-password-1' });
  const olga = { authorization: `Bearer ${(await login(store.db, program.id, 'olga', 'olga-password-1')).token}` };
  res = await post(app, '/api/events', [placed('e3', 'c2', '10.00', '2026-03-06T10:00:00+08:00'), placed('e1', 'c1', '450.00', '2026-03-01T10:00:00+08:00'),
    placed('e4', 'c2', '10.00', '2026-03-07T10:00:00+08:00'), placed('e5', 'c2', '10.00', '1960-03-08T10:00:00+08:00')], olga);
  assert.deepEqual(res.json().results.map((r) => r.error?.path ?? r.duplicate ?? false), [false, true, false, 'at']);
  assert.equal((await post(app, '/api/events', placed('e3', 'c2', '10.00', '2026-03-06T10:00:00+08:00'), olga)).json().duplicate, true);
  const log = (await app.inject({ url: '/api/audit?limit=10', headers: auth })).json().entries.reverse();
  assert.deepEqual(log.map((e) => [e.operator, e.action, e.target, e.details]), [
    ['token', 'events.write', 'e1', { ids: ['e1'] }],
    ['token', 'events.write', 'e2', { ids: ['e2'] }],
    ['token', 'points.adjust', 'c1', { points: 25, reason: 'goodwill' }],
    ['olga', 'events.write', '2 events', { ids: ['e3', 'e4'] }],
  ]);
});

test('a viewer previews a program change and a template, and can change neither', async () => {
  const { app, store } = await setup();
  const at = new Date(Date.now() - 86_400_000).toISOString();
  const order = { id: 'o-v1', currency: 'HKD', lines: [{ id: 'l1', quantity: 1, unit_price: '10.00', discount: '0.00' }], shipping: '0.00', tax: '0.00', taxes_included: false, coupon_codes: [] };
  assert.equal((await post(app, '/api/events', { id: 'v1', type: 'order.placed', at, customer: 'c1', order })).statusCode, 200);
  await createOperator(store.db, program.id, { name: 'vic', role: 'viewer', password: 'vic-password-1' });
  const vic = { authorization: `Bearer ${(await login(store.db, program.id, 'vic', 'vic-password-1')).token}` };
  const doubled = { ...program, earn: { ...program.earn, points_per_unit: '20' } };

  // The program preview replays the shop's last 12 months under both programs.
  let res = await post(app, '/api/program/preview', { program: doubled }, vic);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual([res.json().events, res.json().current.issued, res.json().proposed.issued], [1, 100, 200]);
  res = await post(app, '/api/program', { program: doubled }, vic);
  assert.deepEqual([res.statusCode, res.json().error.code], [403, 'forbidden'], 'publishing is the owner\'s');

  // A template preview is a read too; saving the template is staff work.
  res = await post(app, '/api/notify/preview', { trigger: 'reward_earned', channel: 'email', locale: 'en', source: { subject: 'Code {{ coupon.code }}' } }, vic);
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.json().rendered.subject, /^Code LOY-/);
  res = await app.inject({ method: 'PUT', url: '/api/notify/templates/reward_earned/email/en', headers: vic, payload: { subject: 'Code {{ coupon.code }}' } });
  assert.deepEqual([res.statusCode, res.json().error.code], [403, 'forbidden']);
  const log = (await app.inject({ url: '/api/audit', headers: auth })).json().entries;
  assert.deepEqual(log.map((e) => [e.operator, e.action]), [['token', 'events.write']], 'previews record nothing; refused changes neither');
});

test('/openapi.json lists every route with its schemas', async () => {
  const { app } = await setup();
  const doc = (await app.inject({ url: '/openapi.json' })).json();
  assert.equal(doc.openapi, '3.1.0');
  const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  // The backend's own routes; notification and admin routes add theirs (tested with them).
  for (const route of [
    'GET /api/customers/{id}', 'GET /api/customers/{id}/history', 'GET /health', 'GET /openapi.json',
    'POST /api/coupons/validate', 'POST /api/customers/{id}/adjust', 'POST /api/events', 'POST /api/quote',
    'POST /webhooks/shopify', 'POST /webhooks/woocommerce',
  ]) assert.ok(listed.includes(route), `${route} is missing from ${listed.join(', ')}`);
  for (const [path, ops] of Object.entries(doc.paths)) {
    // Signing in is how an operator gets a bearer token.
    if (!path.startsWith('/api/') || path === '/api/login') continue;
    for (const [method, op] of Object.entries(ops)) assert.deepEqual(op.security, [{ bearer: [] }], `${method} ${path} needs the token`);
  }
  const adjust = doc.paths['/api/customers/{id}/adjust'].post;
  assert.deepEqual(adjust.requestBody.content['application/json'].schema.required, ['points', 'reason', 'by']);
  assert.deepEqual(adjust.security, [{ bearer: [] }]);
  assert.equal(doc.paths['/webhooks/shopify'].post.parameters[0].name, 'x-shopify-hmac-sha256');
});

test('GET /widget/loyalty-widget.js: the storefront bundle, a classic script defining the three storefront elements, and its wasm beside it', async () => {
  // As scripts/build.sh builds it (the bundle is not committed).
  execFileSync('bash', [join(root, 'scripts/build-widget.sh')], { cwd: root, stdio: 'pipe' });
  const { app } = await setup();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const res = await fetch(`${url}/widget/loyalty-widget.js`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const source = await res.text();
  assert.equal(source, readFileSync(join(root, 'js/platforms/shopify-theme/assets/loyalty-widget.js'), 'utf8'));
  // A classic script (no import or export at its top level): run it as a page would, with
  // the few browser globals Lit needs to load; it defines the elements, once each.
  const defined = new Map();
  const page = {
    document: { currentScript: { src: `${url}/widget/loyalty-widget.js` }, createTreeWalker: () => ({}) },
    HTMLElement: class {}, TextDecoder, TextEncoder, URL, Intl,
    customElements: { get: (name) => defined.get(name), define: (name, cls) => { assert.ok(!defined.has(name), name); defined.set(name, cls); } },
  };
  page.globalThis = page;
  vm.runInNewContext(source, page);
  assert.deepEqual([...defined.keys()].sort(), ['loyalty-account', 'loyalty-balance', 'loyalty-referral']);
  // All three take the customer's token as `customer-token`, none as `token`.
  for (const [name, cls] of defined) {
    assert.equal(cls.properties.customerToken?.attribute, 'customer-token', name);
    assert.equal(cls.properties.token, undefined, name);
  }
  // The wasm glue looks beside the script (the bundle's import.meta.url is the script's src):
  // /widget/loyalty_engine_bg.wasm, fetched cross-origin by the shop's page.
  assert.match(source, /new URL\(\s*["']loyalty_engine_bg\.wasm["']\s*,\s*__loyaltyWidgetUrl\s*\)/);
  const wasm = await fetch(new URL('loyalty_engine_bg.wasm', `${url}/widget/loyalty-widget.js`), { headers: { origin: 'https://shop.example' } });
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal(wasm.headers.get('access-control-allow-origin'), '*');
  assert.ok(WebAssembly.validate(new Uint8Array(await wasm.arrayBuffer())));
  // Nothing else under /widget, and no way out of it.
  for (const path of ['/widget/index.js', '/widget/.gitignore', '/widget/..%2Fpkg%2Floyalty_engine.js', '/widget/loyalty_engine.js']) {
    assert.equal((await fetch(`${url}${path}`)).status, 404, path);
  }
});

test('the scheduler ticks due accounts only, and stop() waits for the running tick', async () => {
  const { loyalty, store } = await setup();
  await loyalty.adjust('old', { points: 100, reason: 'r', by: 'staff', at: '2024-01-01T00:00:00Z' });
  await loyalty.adjust('new', { points: 100, reason: 'r', by: 'staff', at: '2026-05-01T00:00:00Z' });
  const ticks = [];
  const log = { info: (o) => ticks.push(o.tick), error: (o) => ticks.push(o) };
  const scheduler = startScheduler({ loyalty, seconds: 0.05, log, now: () => new Date('2026-06-01T00:00:00Z') });
  while (ticks.length === 0) await new Promise((r) => setTimeout(r, 20));
  await scheduler.stop();
  // Points from 2024 expired after 12 months; the recent ones stay.
  assert.equal((await loyalty.account('old')).balance, 0);
  assert.equal((await loyalty.account('new')).balance, 100);
  assert.ok(ticks[0].ticked >= 1 && ticks[0].errors.length === 0, JSON.stringify(ticks[0]));
  const expired = (await store.history(program.id, 'old', { limit: 10 })).entries.filter((e) => e.type === 'expire');
  assert.deepEqual(expired.map((e) => e.points), [-100]);
});

// --- real processes -------------------------------------------------------------------

/** `loyalty serve` as a child process; resolves once it prints its URL. */
function startServer({ dataDir, databaseUrl }, { logLevel = 'warn' } = {}) {
  const env = {
    ...process.env, LOYALTY_TOKEN: TOKEN, SHOPIFY_SECRETS: SHOPIFY.join(','), SHOPIFY_SHOP_DOMAIN: SHOP, WOO_SECRET: WOO, LOYALTY_SECRET: SECRET,
    PORT: '0', HOST: '127.0.0.1', LOYALTY_TICK_SECONDS: '0', LOG_LEVEL: logLevel,
  };
  delete env.DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const child = spawn(process.execPath, [join(root, 'js/cli/loyalty.js'), 'serve', '--program', programFile, '--data', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const watchers = new Set();
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const w of watchers) w();
  });
  // Resolves once the server's log satisfies `predicate`.
  const log = (predicate) => new Promise((resolve) => {
    const w = () => predicate(stderr) && (watchers.delete(w), resolve());
    watchers.add(w);
    w();
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  const url = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then(({ code }) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  return { child, url, exited, log };
}

const orderBody = (i, customer) => Buffer.from(JSON.stringify(sampleShopifyOrder({ id: String(9_000_000 + i), customer, currency: 'HKD', at: `2026-02-01T10:${String(i % 60).padStart(2, '0')}:00+08:00` })));

async function store4test() {
  return DATABASE_URL ? { databaseUrl: await freshDatabase(), dataDir: join(scratch, `unused${copies++}`) } : { dataDir: freshDir() };
}
const openTestStore = ({ databaseUrl, dataDir }) => (databaseUrl ? openPostgresStore({ connectionString: databaseUrl }) : openPgliteStore({ dataDir }));

test('SIGTERM lets every in-flight request finish, then closes the store', async () => {
  const where = await store4test();
  const server = startServer(where, { logLevel: 'info' });
  const url = await server.url;
  const N = 40;
  let afterSignal = 0;
  let signalled = false;
  const requests = Array.from({ length: N }, (_, i) => {
    const body = orderBody(i, `c${i % 4}`);
    return fetch(`${url}/webhooks/shopify`, { method: 'POST', headers: shopifyHeaders(body, { id: `d${i}` }), body })
      .then(async (r) => { if (signalled) afterSignal++; return { status: r.status, body: await r.json() }; });
  });
  // Signal once the server has received every request (its log says so), before they are done.
  await server.log((text) => text.split('"incoming request"').length - 1 >= N);
  signalled = true;
  const t0 = Date.now();
  server.child.kill('SIGTERM');
  const done = await Promise.all(requests);
  assert.deepEqual([...new Set(done.map((d) => d.status))], [200]);
  assert.ok(afterSignal > 0, 'some requests were still in flight at SIGTERM');
  const exit = await server.exited;
  assert.equal(exit.code, 0, exit.stderr);
  // Not held open by the clients' keep-alive connections (72 s by default).
  assert.ok(Date.now() - t0 < 10_000, `exit took ${Date.now() - t0} ms`);

  const store = await openTestStore(where);
  const loyalty = createLoyalty({ program, store, secret: SECRET });
  try {
    // Each sample order is 2 x 24.50 = 49.00 HKD: 490 points, 10 orders per customer.
    for (let c = 0; c < 4; c++) assert.equal((await loyalty.account(`c${c}`)).balance, 4900);
  } finally {
    await loyalty.close();
  }
});

test('SIGKILL mid-load, restart, re-send the unacknowledged: the balances of a clean run', async () => {
  const where = await store4test();
  const customers = ['k0', 'k1', 'k2', 'k3', 'k4'];
  // 15 orders of 490 points per customer: each crosses the 5000-point reward once.
  const deliveries = Array.from({ length: 75 }, (_, i) => ({ id: `kd${i}`, body: orderBody(100 + i, customers[i % customers.length]) }));
  const acked = new Set();

  async function load(url, list, { killAfter } = {}) {
    let next = 0;
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (next < list.length) {
        const d = list[next++];
        try {
          const r = await fetch(`${url}/webhooks/shopify`, { method: 'POST', headers: shopifyHeaders(d.body, { id: d.id }), body: d.body });
          if (r.status === 200) acked.add(d.id);
          if (killAfter && acked.size >= killAfter.n) killAfter.kill();
        } catch {
          // Connection reset by the kill: unacknowledged, Shopify would retry.
        }
      }
    }));
  }

  let server = startServer(where);
  let url = await server.url;
  await load(url, deliveries, { killAfter: { n: 30, kill: () => server.child.kill('SIGKILL') } });
  const exit = await server.exited;
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(acked.size >= 30 && acked.size < deliveries.length, `acked ${acked.size}`);

  server = startServer(where);
  url = await server.url;
  await load(url, deliveries.filter((d) => !acked.has(d.id)));
  assert.equal(acked.size, deliveries.length);
  server.child.kill('SIGTERM');
  assert.equal((await server.exited).code, 0);

  // The clean run: the same deliveries mapped and replayed in memory by the engine.
  const adapter = createShopifyAdapter({ secrets: SHOPIFY });
  const events = deliveries.flatMap((d) => adapter.toEvents(shopifyHeaders(d.body, { id: d.id }), d.body).events);
  const clean = replay(createEngine(program, { secret: SECRET }), events).customers;

  const store = await openTestStore(where);
  const loyalty = createLoyalty({ program, store, secret: SECRET });
  try {
    for (const c of customers) {
      const got = await loyalty.account(c);
      // Coupon codes derive from the event that crossed the threshold, which depends on
      // arrival order; balances, pending points and coupons issued do not.
      const shape = (v) => ({ balance: v.balance, pending: v.pending, coupons: v.coupons.map((x) => [x.reward, x.status]) });
      assert.deepEqual(shape(got), shape(clean[c]), c);
      assert.equal(got.balance, (15 * 490) - 5000);
      assert.deepEqual(await store.audit(program.id, c), { events: 15, entries: 16, points: got.balance });
    }
    assert.deepEqual((await loyalty.rebuild()).differences, []);
  } finally {
    await loyalty.close();
  }
});

test('the same signed webhook 50 times at once to two server processes on one PostgreSQL awards once', { skip: DATABASE_URL ? false : 'DATABASE_URL is not set' }, async () => {
  const where = await store4test();
  const servers = [startServer(where), startServer(where)];
  try {
    const urls = await Promise.all(servers.map((s) => s.url));
    assert.notEqual(urls[0], urls[1]);
    const send = (i) => fetch(`${urls[i % 2]}/webhooks/shopify`, { method: 'POST', headers: shopifyHeaders(FIXTURE, { id: `two-${i}` }), body: FIXTURE });
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i)));
    assert.deepEqual([...new Set(all.map((r) => r.status))], [200]);
    const results = await Promise.all(all.map((r) => r.json()));
    assert.equal(results.filter((r) => r.results[0].duplicate === false).length, 1);
    for (const r of results) assert.equal(r.results[0].balance, FIXTURE_POINTS);
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    for (const s of servers) assert.equal((await s.exited).code, 0);
  }
  const store = await openTestStore(where);
  const loyalty = createLoyalty({ program, store, secret: SECRET });
  try {
    assert.equal((await loyalty.account(FIXTURE_CUSTOMER)).balance, FIXTURE_POINTS);
    assert.deepEqual(await store.audit(program.id, FIXTURE_CUSTOMER), { events: 1, entries: 1, points: FIXTURE_POINTS });
  } finally {
    await loyalty.close();
  }
});
