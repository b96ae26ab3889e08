// The loop in a WooCommerce store, end to end, against the local REST stand-in over real
// HTTP (tests/js/standins/woocommerce.js): connect (the CLI's function, then again, then the
// admin route) -> webhooks registered once -> signed order.updated deliveries until the
// threshold -> one coupon in the store with exactly the coupon's terms -> an order carrying the
// code marks it used -> a tick past another coupon's expiry removes it from the store -> a
// restart between the ledger commit and the REST call, and a timeout after the store committed,
// still give one coupon -> the storefront takes only a valid customer token of that shop.
// On PGlite, and on PostgreSQL when DATABASE_URL is set.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { startWooStandin } from './standins/woocommerce.js';
import { serverConfig } from '../../js/server/config.js';
import { serve } from '../../js/server/serve.js';
import { connectCommand } from '../../js/server/connect.js';
import { connectRoutes } from '../../js/server/connect-routes.js';
import { errorHandler } from '../../js/server/errors.js';
import { encryptionKey } from '../../js/shops/crypto.js';
import { localDateTime } from '../../js/platforms/woocommerce-rest.js';
import { WOO_TOPICS } from '../../js/platforms/woocommerce-connect.js';
import { signCustomerToken } from '../../js/platforms/customer-token.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const TOKEN = 'e2e-token';
const scratch = mkdtempSync(join(tmpdir(), 'loyalty-woo-e2e-'));
const dbs = testDatabases('woo_e2e');
after(() => rmSync(scratch, { recursive: true, force: true }));

// The seed program: 10 points per EUR, 5000 points give a 10% coupon (min 100.00, 30 days), Europe/Oslo.
const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const programFile = join(scratch, 'seed.json');
writeFileSync(programFile, JSON.stringify(seed));
const usdFile = join(scratch, 'usd.json');
writeFileSync(usdFile, JSON.stringify({ ...seed, currency: 'USD' }));

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

function envOf(place, port, store) {
  return {
    LOYALTY_TOKEN: TOKEN, LOYALTY_SECRET: 'e2e-coupon-secret', LOYALTY_ENCRYPTION_KEY: place.key,
    NOTIFY_SECONDS: '0', LOYALTY_TICK_SECONDS: '0',
    // WooCommerce delivers straight to this server (the stand-in's deliver() posts there).
    LOYALTY_PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...(store ? { WOO_CONSUMER_KEY: store.key, WOO_CONSUMER_SECRET: store.secret } : {}),
    ...(place.databaseUrl ? { DATABASE_URL: place.databaseUrl } : {}),
  };
}

async function start(place, port) {
  // config.js groups LOYALTY_ENCRYPTION_KEY with the Shopify app settings (TOGETHER), so a
  // WooCommerce-only server cannot set it by environment yet: the key is given to the config.
  const { LOYALTY_ENCRYPTION_KEY: key, ...env } = envOf(place, port);
  return serve({ ...serverConfig({ program: programFile, data: place.dataDir, port }, env), encryptionKey: encryptionKey(key), env }, { logger: false });
}

/** `loyalty connect woocommerce` as the CLI runs it (its own store connection), output captured. */
async function connectCli(place, port, store, program = programFile) {
  let text = '';
  const out = { write: (s) => { text += s; } };
  const code = await connectCommand({ url: store.url, program, data: place.dataDir }, envOf(place, port, store), { out });
  return { code, text };
}

// A WooCommerce order as order.updated delivers it (wc/v3 order schema, the fields the adapter reads).
let nextLine = 1;
const order = (id, customer, email, amount, codes = []) => ({
  id, parent_id: 0, number: String(id), order_key: `wc_order_${id}`, status: 'processing', currency: 'EUR',
  date_created_gmt: '2026-12-01T09:00:00', date_modified_gmt: '2026-12-01T09:05:00', date_paid_gmt: '2026-12-01T09:01:00',
  customer_id: customer, billing: { first_name: 'Ann', last_name: 'Lee', email },
  line_items: [{ id: nextLine++, product_id: 1, sku: 'X', quantity: 1, subtotal: amount, total: amount }],
  shipping_total: '0.00', total_tax: '0.00', refunds: [],
  coupon_lines: codes.map((code, i) => ({ id: 900 + i, code, discount: '0.00' })),
});

const backends = { pglite: async () => ({ dataDir: await dbs.pgliteDir(), key: randomBytes(32).toString('base64') }) };
if (DATABASE_URL) backends.postgres = async () => ({ databaseUrl: await dbs.postgresUrl(), dataDir: join(scratch, 'unused'), key: randomBytes(32).toString('base64') });

for (const [name, where] of Object.entries(backends)) {
  test(`${name}: connect, earn, a real coupon in the store, used, expired, crash-safe, customer tokens`, async () => {
    // Stores of their own per backend: webhooks and coupons are the store's state.
    const store = await startWooStandin({ currency: 'EUR', timezone: 'Europe/Oslo' });
    const other = await startWooStandin({ currency: 'EUR', timezone: 'Europe/Oslo' });
    const place = await where();
    const port = await freePort();
    let server;
    try {
      // A program in another currency is refused by name, before anything is written to the store.
      await assert.rejects(connectCli(place, port, store, usdFile), (e) => e.code === 'invalid_request' && e.path === 'program.currency' && /store sells in EUR/.test(e.message));
      assert.equal(store.webhooks().length, 0, 'no webhook left behind by a refused connect');
      // A refused key, from the CLI: compared below with the admin route's answer.
      const cliRefused = await connectCommand({ url: store.url, program: programFile, data: place.dataDir }, { ...envOf(place, port, store), WOO_CONSUMER_SECRET: 'cs_wrong' }, { out: { write() {} } })
        .then(() => null, (e) => e);

      // Connect twice (the CLI, server stopped: PGlite lets one process own its folder).
      const first = await connectCli(place, port, store);
      assert.equal(first.code, 0);
      const shopId = /shop id: (\S+)/.exec(first.text)[1];
      const tokenSecret = /token secret: (\S+)/.exec(first.text)[1];
      assert.match(tokenSecret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      const again = await connectCli(place, port, store);
      assert.match(again.text, /^reconnected: shop /);
      assert.equal(/shop id: (\S+)/.exec(again.text)[1], shopId, 'the same shop');
      assert.equal(/token secret: (\S+)/.exec(again.text)[1], tokenSecret, 'the plugin keeps working');
      const hooks = store.webhooks();
      assert.deepEqual(hooks.map((w) => w.topic).sort(), [...WOO_TOPICS].sort(), 'one webhook per topic, never twice');
      assert.ok(hooks.every((w) => w.delivery_url === `http://127.0.0.1:${port}/webhooks/woocommerce` && w.status === 'active'));

      server = await start(place, port);
      const base = server.url;
      let shop = await server.registry.get(shopId);
      assert.equal(shop.platform, 'woocommerce');
      assert.equal(shop.domain, store.url);
      assert.deepEqual([shop.settings.currency, shop.settings.decimals, shop.settings.timezone, shop.settings.individual_use], ['EUR', 2, 'Europe/Oslo', false]);
      assert.deepEqual([shop.secrets.consumer_key, shop.secrets.consumer_secret, shop.secrets.token_secret], [store.key, store.secret, tokenSecret]);
      assert.deepEqual(shop.secrets.webhook_secrets, [hooks[0].secret], 'the secret the store signs with');
      const { rows: [sealed] } = await server.store.db.query('SELECT secrets FROM shops WHERE id = $1', [shopId]);
      assert.ok(!sealed.secrets.includes(store.secret) && !sealed.secrets.includes(tokenSecret), 'credentials encrypted at rest');

      // The admin route: bearer token required; a reconnect adopts the shop again.
      const admin = Fastify({ logger: false });
      admin.setErrorHandler(errorHandler);
      admin.register(connectRoutes, { registry: server.registry, publicUrl: `http://127.0.0.1:${port}`, token: TOKEN, program: seed, onConnected: () => server.workers.refresh() });
      const body = { url: store.url, key: store.key, secret: store.secret };
      assert.equal((await admin.inject({ method: 'POST', url: '/api/shops/woocommerce', payload: body })).statusCode, 401);
      const bad = await admin.inject({ method: 'POST', url: '/api/shops/woocommerce', headers: { authorization: `Bearer ${TOKEN}` }, payload: { ...body, secret: 'cs_wrong' } });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.equal(bad.json().error.code, 'store_refused');
      assert.deepEqual([cliRefused?.code, cliRefused?.path, cliRefused?.message], [bad.json().error.code, bad.json().error.path, bad.json().error.message],
        'the CLI and the route say the same about a refused key');
      assert.match(bad.json().error.message, /^key: .*refused consumer key/);
      assert.ok(!bad.body.includes('cs_wrong'), 'the secret is not echoed');
      const viaRoute = await admin.inject({ method: 'POST', url: '/api/shops/woocommerce', headers: { authorization: `Bearer ${TOKEN}` }, payload: body });
      assert.equal(viaRoute.statusCode, 200, viaRoute.body);
      assert.equal(viaRoute.json().shop.id, shopId);
      assert.equal(viaRoute.json().token_secret, tokenSecret);
      assert.ok(viaRoute.json().webhooks.every((w) => w.created === false));
      assert.ok(!('secrets' in viaRoute.json().shop) && !('sealed' in viaRoute.json().shop));
      assert.equal(store.webhooks().length, 4);
      await admin.close();
      shop = await server.registry.get(shopId);
      const secret = shop.secrets.webhook_secrets[0];

      // Signed by hand with the secret connect generated, as WC_Webhook::deliver signs.
      const post = (topic, payload, { sign = secret, source = `${store.url}/` } = {}) => {
        const raw = JSON.stringify(payload);
        return fetch(`${base}/webhooks/woocommerce`, {
          method: 'POST', body: raw,
          headers: { 'content-type': 'application/json', 'x-wc-webhook-source': source, 'x-wc-webhook-topic': topic, 'x-wc-webhook-signature': createHmac('sha256', sign).update(raw).digest('base64') },
        });
      };
      assert.equal((await post('order.updated', order(500, 7001, 'ann@example.com', '10.00'), { sign: 'not-the-secret' })).status, 401);
      assert.equal((await post('order.updated', order(501, 7001, 'ann@example.com', '10.00'), { source: `${other.url}/` })).status, 401, 'a store not connected');
      // The topic header and the body must agree.
      const mismatch = await post('customer.updated', order(502, 7001, 'ann@example.com', '10.00'));
      assert.equal(mismatch.status, 400);
      assert.equal((await mismatch.json()).error.code, 'bad_payload');

      // Orders until the threshold: 300 + 250 EUR = 5500 points -> one 10% coupon.
      let res = await post('order.updated', order(1001, 7001, 'ann@example.com', '300.00'));
      assert.equal(res.status, 200, await res.text());
      // The second through the store's own delivery (its headers and signature).
      const delivered = await store.deliver('order.updated', order(1002, 7001, 'ann@example.com', '250.00'));
      assert.deepEqual(delivered.map((d) => d.status), [200]);
      let loyalty = server.registry.loyalty(await server.registry.get(shopId));
      const account = await loyalty.account('7001');
      assert.equal(account.balance, 500);
      const [coupon] = account.coupons;

      // A crash before the REST call: the server stops with the outbox not yet delivered.
      await server.close();
      server = await start(place, port);
      loyalty = server.registry.loyalty(await server.registry.get(shopId));
      // The first POST commits in the store and never answers (the client times out, 15 s):
      // the retry looks the code up and adopts it.
      store.hangAfterCommit('POST', /\/coupons$/);
      await server.workers.dispatcher(shopId).drain();
      assert.equal(store.coupons().length, 1, 'committed in the store, unanswered');
      await server.store.db.query("UPDATE outbox SET next_attempt_at = now() - interval '1 second' WHERE status = 'pending'");
      await server.workers.dispatcher(shopId).drain();
      assert.deepEqual(store.coupons().map((c) => c.code), [coupon.code.toLowerCase()], 'exactly one coupon, however often it was tried');
      // What our client sent, as the store received it (not the store's formatting of it):
      // amounts as decimal strings (the minimum in EUR's two decimals), never numbers; one POST.
      const expires = Date.parse(coupon.expires_at);
      const posts = store.requests.filter((q) => q.method === 'POST' && q.path === '/wp-json/wc/v3/coupons');
      assert.equal(posts.length, 1, 'the retry looked the code up and did not post again');
      assert.deepEqual(JSON.parse(posts[0].body), {
        code: coupon.code, discount_type: 'percent', amount: '10', individual_use: false, usage_limit: 1, usage_limit_per_user: 1,
        email_restrictions: ['ann@example.com'], free_shipping: false, description: `Loyalty reward ${coupon.reward} for customer 7001`,
        meta_data: [{ key: 'loyalty_engine_coupon', value: JSON.stringify({ reward: coupon.reward, customer: '7001' }) }],
        minimum_amount: '100.00', date_expires: localDateTime(expires, 'Europe/Oslo'),
      });
      // And how the store reads it: the engine's instant, to the second.
      const c = store.coupons()[0].view;
      assert.equal(Date.parse(`${c.date_expires_gmt}Z`), Math.floor(expires / 1000) * 1000, 'the engine\'s instant, to the second');
      const { rows: [synced] } = await server.store.db.query('SELECT store_id, sync_status FROM coupons WHERE program = $1 AND code = $2', [shopId, coupon.code]);
      assert.deepEqual(synced, { store_id: String(c.id), sync_status: 'synced' });

      // The customer types the code at checkout; WooCommerce lowercases it on the order: used.
      res = await post('order.updated', { ...order(1003, 7001, 'ann@example.com', '120.00', [coupon.code.toLowerCase()]), date_paid_gmt: '2026-12-05T09:00:00' });
      assert.equal(res.status, 200, await res.text());
      assert.equal((await loyalty.account('7001')).coupons.find((x) => x.code === coupon.code).status, 'used');

      // A customer.created delivery keeps the contact (and is the signup action).
      res = await post('customer.created', { id: 7002, date_created_gmt: '2026-12-01T08:00:00', email: 'bo@example.com', first_name: 'Bo', last_name: 'K', role: 'customer', username: 'bo', billing: {}, meta_data: [] });
      assert.equal(res.status, 200, await res.text());
      // Another coupon, never used: a tick past its expiry removes it from the store.
      res = await post('order.updated', order(1004, 7002, 'bo@example.com', '500.00'));
      assert.equal(res.status, 200, await res.text());
      const [unused] = (await loyalty.account('7002')).coupons;
      await server.workers.dispatcher(shopId).drain();
      assert.deepEqual(store.coupons().find((x) => x.code === unused.code.toLowerCase())?.email_restrictions, ['bo@example.com']);
      await loyalty.tick(new Date(Date.parse(unused.expires_at) + 1000));
      await server.workers.dispatcher(shopId).drain();
      assert.equal(store.coupons().find((x) => x.code === unused.code.toLowerCase()), undefined, 'deleted in the store');
      assert.equal(store.coupons().length, 1);
      const { rows: [gone] } = await server.store.db.query('SELECT sync_status FROM coupons WHERE program = $1 AND code = $2', [shopId, unused.code]);
      assert.equal(gone.sync_status, 'deactivated');

      // The storefront with customer tokens: only a valid token of this shop shows an account.
      const page = (token) => fetch(`${base}/storefront/account`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const soon = Date.now() + 10 * 60_000;
      let r = await page(signCustomerToken({ shop: shopId, customer: '7001', expiresAt: soon }, tokenSecret));
      assert.equal(r.status, 200, await r.clone().text());
      assert.deepEqual((await r.json()).coupons.map((x) => x.code), [coupon.code]);
      assert.equal((await page(null)).status, 401, 'no token');
      assert.equal((await page(signCustomerToken({ shop: shopId, customer: '7001', expiresAt: soon }, 'forged-secret-0123456789'))).status, 401, 'forged');
      const past = Date.now() - 60_000;
      assert.equal((await page(signCustomerToken({ shop: shopId, customer: '7001', expiresAt: past }, tokenSecret, { now: past - 60_000 }))).status, 401, 'expired');
      // Another connected shop: its secret does not open this shop, its token opens only its own ledger.
      const otherShop = await connectOther(server, port, other);
      assert.equal((await page(signCustomerToken({ shop: shopId, customer: '7001', expiresAt: soon }, otherShop.token_secret))).status, 401, 'another shop\'s secret');
      r = await page(signCustomerToken({ shop: otherShop.shop.id, customer: '7001', expiresAt: soon }, otherShop.token_secret));
      assert.equal(r.status, 200, await r.clone().text());
      assert.deepEqual((await r.json()).coupons, [], 'the other shop\'s ledger: nothing of this one');
    } finally {
      await server?.close();
      await store.close();
      await other.close();
    }
  });
}

// The second store, through the admin route while the server runs.
async function connectOther(server, port, other) {
  const admin = Fastify({ logger: false });
  admin.setErrorHandler(errorHandler);
  admin.register(connectRoutes, { registry: server.registry, publicUrl: `http://127.0.0.1:${port}`, token: TOKEN, program: seed });
  try {
    const res = await admin.inject({ method: 'POST', url: '/api/shops/woocommerce', headers: { authorization: `Bearer ${TOKEN}` }, payload: { url: other.url, key: other.key, secret: other.secret } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().adopted, false);
    return res.json();
  } finally {
    await admin.close();
  }
}
