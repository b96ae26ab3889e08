// What a dynamic review broke, each kept broken-no-more: configuration that cannot fall
// back to public defaults, one process per PGlite folder, an engine that survives a trap,
// hostile sizes and depths, logs without credentials, guessing throttled.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { serverConfig, DEMO } from '../../js/server/config.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openMemoryStore } from '../../js/stores/memory.js';
import { createLoyalty } from '../../js/loyalty.js';
import { buildApp } from '../../js/server/app.js';
import { memory } from '../../js/wasm.js';
import { render } from '../../js/notify/render.js';
import { LoyaltyError } from '../../js/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'loyalty-security-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const programFile = join(scratch, 'program.json');
writeFileSync(programFile, JSON.stringify({ ...seed, name: '<img src=x onerror=alert(1)>' }));
const TOKEN = 'security-token';

const refuses = (fn, path) => assert.throws(fn, (err) => err instanceof LoyaltyError && err.path === path, `expected a refusal naming ${path}`);

test('demo mode only when asked, only on loopback, never beside production settings', () => {
  const demo = serverConfig({ demo: true }, {});
  assert.equal(demo.token, DEMO.token);
  // Production settings present: the published demo secrets must not be used.
  refuses(() => serverConfig({ demo: true }, { LOYALTY_TOKEN: 'real', LOYALTY_SECRET: 's' }), 'LOYALTY_TOKEN');
  refuses(() => serverConfig({ demo: true }, { DATABASE_URL: 'postgres://x' }), 'DATABASE_URL');
  refuses(() => serverConfig({ demo: true, host: '0.0.0.0' }, {}), 'HOST');
  // Without --demo nothing falls back: an adapter without its own secret is off.
  const prod = serverConfig({ program: programFile }, { LOYALTY_TOKEN: 't', LOYALTY_SECRET: 's', SHOPIFY_SECRETS: 'shp', SHOPIFY_SHOP_DOMAIN: 'a.myshopify.com' });
  assert.deepEqual(prod.wooSecrets, [], 'no WOO_SECRET: WooCommerce is off, not signed with demo-woo-secret');
  assert.deepEqual(prod.shopifySecrets, ['shp']);
  // Half a production configuration refuses to start and names what is missing.
  refuses(() => serverConfig({ program: programFile }, { LOYALTY_TOKEN: 't' }), 'LOYALTY_SECRET');
  refuses(() => serverConfig({ program: programFile }, { LOYALTY_TOKEN: 't', LOYALTY_SECRET: 's', SHOPIFY_API_KEY: 'k' }), 'SHOPIFY_API_SECRET');
  refuses(() => serverConfig({ program: programFile }, { LOYALTY_TOKEN: 't', LOYALTY_SECRET: 's', SHOPIFY_SECRETS: 'x' }), 'SHOPIFY_SHOP_DOMAIN');
  // LOYALTY_PROGRAM is read (npm start no longer overrides it).
  assert.equal(serverConfig({ demo: true }, { LOYALTY_PROGRAM: programFile }).programPath, programFile);
});

test('a second process on a PGlite folder is refused, naming PostgreSQL', async () => {
  const dir = join(scratch, 'locked');
  const first = await openPgliteStore({ dataDir: dir });
  try {
    await assert.rejects(openPgliteStore({ dataDir: dir }), (err) => err.code === 'folder_locked' && /PostgreSQL/.test(err.message));
  } finally {
    await first.close();
  }
  // Released on close: the next process opens it.
  await (await openPgliteStore({ dataDir: dir })).close();
  // A lock left by a killed process (its pid is gone) is taken over.
  writeFileSync(`${dir}.lock`, '999999999');
  await (await openPgliteStore({ dataDir: dir })).close();
});

test('a trapped engine is replaced: later events apply, and /health applies a canary', async () => {
  const store = openMemoryStore();
  const loyalty = createLoyalty({ program: seed, store, secret: 's' });
  const app = buildApp({ loyalty, store, token: TOKEN });
  try {
    await loyalty.adjust('c1', { points: 10, reason: 'r', by: 'b', at: '2026-01-01T00:00:00Z' });
    // Exhaust the wasm instance's memory, as the uncapped reward loop once did.
    for (const pages of [1024, 64, 1]) {
      try { for (;;) memory.grow(pages); } catch { /* that step no longer fits: a smaller one */ }
    }
    // An event that needs memory the instance cannot get traps it.
    await assert.rejects(loyalty.adjust('c1', { points: 5, reason: 'r'.repeat(4_000_000), by: 'b', at: '2026-01-02T00:00:00Z' }), (err) => !(err instanceof LoyaltyError));
    const health = await app.inject({ url: '/health' });
    assert.equal(health.statusCode, 200, health.body);
    // A fresh instance: the next event applies, on the stored state.
    await loyalty.adjust('c1', { points: 5, reason: 'r', by: 'b', at: '2026-01-02T00:00:00Z' });
    assert.equal((await loyalty.account('c1')).balance, 15);
  } finally {
    await app.close();
  }
});

test('hostile sizes get a clear 400 at once: a huge order, deep JSON, the year 9999, points beyond bounds', async () => {
  const store = openMemoryStore();
  const loyalty = createLoyalty({ program: seed, store, secret: 's' });
  const app = buildApp({ loyalty, store, token: TOKEN });
  const post = (url, payload) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, payload });
  try {
    const order = (unit_price) => JSON.stringify({ id: `o-${unit_price}`, type: 'order.placed', at: '2026-01-01T00:00:00Z', customer: 'c1',
      order: { id: `o-${unit_price}`, currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price, discount: '0.00' }] } });
    const started = Date.now();
    for (const price of ['92233720368547758.07', '200000000.00']) {
      const res = await post('/api/events', order(price));
      assert.equal(res.statusCode, 400, res.body);
    }
    assert.ok(Date.now() - started < 5000, 'refused at once, not after minutes of coupons');
    assert.equal(await loyalty.account('c1'), null, 'nothing written');
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    let res = await post('/api/events', deep);
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'invalid_json');
    res = await post('/api/events', JSON.stringify({ id: 'y', type: 'points.adjusted', at: '9999-01-01T00:00:00Z', customer: 'c2', points: 1, reason: 'r', by: 'b' }));
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.path, 'at');
    await loyalty.adjust('c3', { points: 1, reason: 'r', by: 'b' });
    res = await post('/api/customers/c3/adjust', JSON.stringify({ points: 9e18, reason: 'r', by: 'b' }));
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.path, 'points');
    // Ids as long as the schemas allow can be read back.
    const long = 'c'.repeat(200);
    await loyalty.adjust(long, { points: 1, reason: 'r', by: 'b' });
    res = await app.inject({ url: `/api/customers/${long}`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200, res.body);
  } finally {
    await app.close();
  }
});

test('the admin token stays out of the log; the program name is escaped; guessing the token is throttled', async () => {
  const store = openMemoryStore();
  const loyalty = createLoyalty({ program: { ...seed, name: '<img src=x onerror=alert(1)>' }, store, secret: 's' });
  let log = '';
  const stream = new Writable({ write(chunk, _e, done) { log += chunk; done(); } });
  const app = buildApp({ loyalty, store, token: TOKEN, logger: { level: 'info', stream } });
  try {
    const page = await app.inject({ url: `/admin?token=${TOKEN}` });
    assert.ok(!log.includes(TOKEN), 'the token is not in the request log');
    assert.ok(!page.body.includes('<img src=x'), 'the program name is escaped');
    const statuses = [];
    for (let i = 0; i < 25; i++) statuses.push((await app.inject({ url: '/api/customers/x', headers: { authorization: 'Bearer wrong' } })).statusCode);
    assert.equal(statuses[0], 401);
    assert.equal(statuses.at(-1), 429);
  } finally {
    await app.close();
  }
});

test('a merchant template cannot loop for ever', async () => {
  await assert.rejects(render('email', { subject: 'x', text: '{% for i in (1..50000000) %}{{ i }}{% endfor %}' }, {}), /limit|exceed/i);
});
