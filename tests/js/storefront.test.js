// The storefront routes (js/server/storefront.js) over real HTTP on PGlite, with shops from
// the shops registry: the Shopify App Proxy (signed query, logged_in_customer_id) and
// customer tokens (WooCommerce, apps). Every refusal is checked to read nothing of the
// customer it names; every answer shows one customer of one shop. Then <loyalty-balance>
// in Chromium, built as the theme bundle, reads its box through both doors and redeems
// (screenshot in test-artifacts/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Liquid } from 'liquidjs';
import { chromium } from 'playwright-core';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { createShops } from '../../js/shops/registry.js';
import { createShopifyApp } from '../../js/platforms/shopify-app.js';
import { errorHandler } from '../../js/server/errors.js';
import { LoyaltyError } from '../../js/errors.js';
import { storefrontRoutes, referralCode, referrerOf } from '../../js/server/storefront.js';
import { proxyIdentity, tokenIdentity } from '../../js/server/storefront-identity.js';
import { signProxyQuery } from './standins/shopify.js';
import { webhookRoutes } from '../../js/server/webhooks.js';
import { dbShops, deliveryLog } from '../../js/shops/contexts.js';
import { sampleShopifyOrder, sign } from '../../js/server/demo.js';

const root = new URL('../../', import.meta.url).pathname;
const seed = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
// The seed program with a catalogue reward, ways to earn and referrals (free shipping for the friend).
const program = {
  ...seed,
  rewards: [...seed.rewards, { id: 'free-ship', name: 'Free shipping', points: 300, coupon: { type: 'free_shipping', valid_for: 'P30D' } }],
  actions: { newsletter: { points: 50, limits: { lifetime: 1 } }, social_follow: { points: 20, limits: { day: 1 } }, birthday: { points: 100 } },
  referral: { referrer_points: 500, friend_reward: 'free-ship' },
};
const API_KEY = 'storefront-api-key';
const API_SECRET = 'storefront-api-secret';
const SHOP = 'loyal-shop.myshopify.com';
const OTHER_SHOP = 'other-shop.myshopify.com';
const GONE_SHOP = 'gone-shop.myshopify.com';
const WOO_SECRET = 'woo-token-secret-0123456789abcdef';
const WOO2_SECRET = 'woo2-token-secret-0123456789abcdef';
const fmt = new Intl.NumberFormat('en');
const artifacts = join(root, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

// The theme's app embed, rendered by liquidjs; Shopify's {% schema %} renders nothing.
const embedSource = readFileSync(join(root, 'js/platforms/shopify-theme/blocks/loyalty-referral.liquid'), 'utf8');
const liquid = new Liquid();
liquid.registerTag('schema', { parse(_token, remain) { let t; while ((t = remain.shift()) && t.name !== 'endschema'); }, render: () => '' });

const scratch = mkdtempSync(join(tmpdir(), 'loyalty-storefront-test-'));
let store, shops, shopify, app, backend, shopServer, shopOrigin, browser;
let shopifyShop, otherShop, wooShop, woo2Shop;
const queries = []; // SQL text of every statement, for "nothing was read"

// --- customer tokens, as js/platforms/customer-token.js makes them -------------------------
// base64url(JSON {shop, customer, exp}) "." base64url(HMAC-SHA256(secret, first part)).
function signToken({ shop, customer, exp }, secret) {
  const payload = Buffer.from(JSON.stringify({ shop, customer, exp })).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}
function verifyToken(token, secrets, { now, shop }) {
  const [payload, mac] = token.split('.');
  const given = Buffer.from(mac ?? '', 'base64url');
  const ok = secrets.some((s) => {
    const expected = createHmac('sha256', s).update(payload).digest();
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!ok) throw new LoyaltyError('bad_token', 'token', 'signature does not match');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  if (claims.exp * 1000 <= now) throw new LoyaltyError('bad_token', 'token.exp', 'expired');
  if (claims.shop !== shop) throw new LoyaltyError('bad_token', 'token.shop', 'issued for another shop');
  return { shop: claims.shop, customer: claims.customer, expiresAt: claims.exp * 1000 };
}
const inMinutes = (m) => Math.floor(Date.now() / 1000) + m * 60;

// --- the Shopify App Proxy's signed query ---------------------------------------------------
function proxyQuery(params, secret = API_SECRET) {
  const q = { shop: SHOP, path_prefix: '/apps/loyalty', timestamp: String(Math.floor(Date.now() / 1000)), ...params };
  return new URLSearchParams({ ...q, signature: signProxyQuery(secret, q) }).toString();
}

const order = (id, customer, total) => ({
  id, type: 'order.placed', at: new Date(Date.now() - 86_400_000).toISOString(), customer,
  order: { id: `o-${id}`, currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: total }] },
});

before(async () => {
  const template = join(scratch, 'template');
  await (await openPgliteStore({ dataDir: template })).close();
  cpSync(template, join(scratch, 'db'), { recursive: true });
  store = await openPgliteStore({ dataDir: join(scratch, 'db') });
  const { query, transaction } = store.db;
  store.db.query = (text, params) => { queries.push(text); return query(text, params); };
  store.db.transaction = (fn) => transaction((tx) => fn({ query: (text, params) => { queries.push(text); return tx.query(text, params); } }));
  shops = createShops({ store, key: randomBytes(32), secret: 'master-coupon-secret' });

  // The shop's own web server: its page with the theme bundle, and the Shopify App Proxy
  // (/apps/loyalty/* -> the backend's /proxy/loyalty/*, signed with the logged-in customer).
  const bundle = join(scratch, 'loyalty-widget.js');
  execFileSync('bash', [join(root, 'scripts/build-widget.sh'), bundle], { cwd: root, stdio: 'pipe' });
  shopServer = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://shop');
    if (url.pathname === '/loyalty-widget.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(readFileSync(bundle));
    }
    if (url.pathname === '/loyalty_engine_bg.wasm') {
      // Beside the bundle, where its wasm glue looks (the script's own address).
      res.writeHead(200, { 'content-type': 'application/wasm' });
      return res.end(readFileSync(join(root, 'pkg/loyalty_engine_bg.wasm')));
    }
    if (url.pathname.startsWith('/apps/loyalty/')) {
      // Shopify knows the customer from the shop's session; this stand-in from a cookie.
      const session = /(?:^|;\s*)customer=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
      const q = proxyQuery({ ...Object.fromEntries(url.searchParams), logged_in_customer_id: session });
      // The method and body go along, as Shopify's proxy forwards a POST.
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const upstream = await fetch(`${backend}/proxy/loyalty/${url.pathname.slice('/apps/loyalty/'.length)}?${q}`, {
        method: req.method, body, headers: body ? { 'content-type': req.headers['content-type'] ?? 'application/json' } : {},
      });
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      return res.end(await upstream.text());
    }
    // Every page carries the app embed (blocks/loyalty-referral.liquid), as Shopify renders it.
    const session = /(?:^|;\s*)customer=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const embed = await liquid.parseAndRender(embedSource, { block: { settings: {} }, customer: session ? { id: session } : null });
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><html><head><script src="/loyalty-widget.js" defer></script></head><body><main></main>${embed}</body></html>`);
  });
  await new Promise((resolve) => shopServer.listen(0, '127.0.0.1', resolve));
  shopOrigin = `http://127.0.0.1:${shopServer.address().port}`;

  shopifyShop = await shops.save({ platform: 'shopify', domain: SHOP, program });
  otherShop = await shops.save({ platform: 'shopify', domain: OTHER_SHOP, program });
  await shops.save({ platform: 'shopify', domain: GONE_SHOP, program });
  await shops.setStatus((await shops.byDomain('shopify', GONE_SHOP)).id, 'uninstalled');
  wooShop = await shops.save({ platform: 'woocommerce', domain: `${shopOrigin}/`, program, secrets: { token_secret: WOO_SECRET } });
  woo2Shop = await shops.save({ platform: 'woocommerce', domain: 'https://second.example', program, secrets: { token_secret: WOO2_SECRET } });

  // 1001: 640 points; 1002: crosses 5000 (a coupon) and keeps 1125; 1001 of the other
  // shop is another person with 120; the WooCommerce shop's w-7 has 990.
  const mine = shops.loyalty(shopifyShop);
  await mine.handle(order('a1', '1001', '64.00'));
  await mine.handle(order('a2', '1002', '612.50'));
  await shops.loyalty(otherShop).handle(order('b1', '1001', '12.00'));
  await shops.loyalty(wooShop).handle(order('w1', 'w-7', '99.00'));

  shopify = createShopifyApp({ SHOPIFY_API_KEY: API_KEY, SHOPIFY_API_SECRET: API_SECRET, SHOPIFY_APP_URL: 'https://loyalty.example', SCOPES: 'write_discounts' }, { log: () => {} });
  // As js/server/app.js configures Fastify: no type coercion, unknown fields are errors.
  app = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } } });
  app.setErrorHandler(errorHandler);
  app.register(storefrontRoutes, { prefix: '/proxy/loyalty', identify: proxyIdentity({ shopify, shops, store }) });
  // A plugin mounted inside (as the push helper's device routes are) sees only customerOf.
  const whoAmI = async (inner, { customerOf }) => inner.post('/whoami', async (request) => customerOf(request));
  app.register(storefrontRoutes, { prefix: '/storefront', identify: tokenIdentity({ shops, store, verify: verifyToken }), extraRoutes: [[whoAmI, {}]] });
  // The shops' webhooks, as serve.js mounts them: Shopify's signed with the app's secret.
  app.register(webhookRoutes, { shops: dbShops({ shops, store, appSecrets: [API_SECRET] }), deliveries: deliveryLog(store) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  backend = `http://127.0.0.1:${app.server.address().port}`;
});

after(async () => {
  await browser?.close();
  await app?.close();
  await new Promise((resolve) => (shopServer ? shopServer.close(resolve) : resolve()));
  await shops?.close();
  await store?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function call(path, { method = 'GET', body, headers = {} } = {}) {
  const res = await fetch(`${backend}${path}`, {
    method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
const proxy = (route, customer, { query = {}, ...init } = {}) => call(`/proxy/loyalty/${route}?${proxyQuery({ logged_in_customer_id: customer, ...query })}`, init);
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const wooToken = (customer, { exp = inMinutes(15), shop = wooShop.id, secret = WOO_SECRET } = {}) => signToken({ shop, customer, exp }, secret);

// Statements that read or write a customer's data (as opposed to the shops table).
const CUSTOMER_TABLES = /\b(accounts|entries|coupons|events|orders|notify_contacts)\b|loyalty_record/;
async function readsNothing(fn) {
  const from = queries.length;
  const res = await fn();
  assert.deepEqual(queries.slice(from).filter((q) => CUSTOMER_TABLES.test(q)), [], 'no customer data may be touched');
  return res;
}
const refused = (res, status, code, path) => {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  if (path !== undefined) assert.equal(res.body.error.path, path);
};

// --- the App Proxy ------------------------------------------------------------------------

test('proxy: a forged or missing signature is 401 and reads nothing', async () => {
  const forged = `/proxy/loyalty/account?${proxyQuery({ logged_in_customer_id: '1001' }, 'not-the-app-secret')}`;
  refused(await readsNothing(() => call(forged)), 401, 'bad_signature', 'signature');
  refused(await readsNothing(() => call('/proxy/loyalty/account?shop=loyal-shop.myshopify.com&logged_in_customer_id=1001')), 401, 'bad_signature');
  // A signed query with the customer swapped afterwards: the signature no longer matches.
  const swapped = proxyQuery({ logged_in_customer_id: '1001' }).replace('logged_in_customer_id=1001', 'logged_in_customer_id=1002');
  refused(await readsNothing(() => call(`/proxy/loyalty/account?${swapped}`)), 401, 'bad_signature');
  // A stale query (Shopify allows 90 s).
  const stale = proxyQuery({ logged_in_customer_id: '1001', timestamp: String(Math.floor(Date.now() / 1000) - 600) });
  refused(await readsNothing(() => call(`/proxy/loyalty/account?${stale}`)), 401, 'bad_signature', 'timestamp');
});

test('proxy: no logged-in customer is 401 not_logged_in', async () => {
  refused(await readsNothing(() => proxy('account', '')), 401, 'not_logged_in', 'logged_in_customer_id');
  const { logged_in_customer_id: _none, ...q } = { shop: SHOP, timestamp: String(Math.floor(Date.now() / 1000)) };
  refused(await readsNothing(() => call(`/proxy/loyalty/coupons?${new URLSearchParams({ ...q, signature: signProxyQuery(API_SECRET, q) })}`)), 401, 'not_logged_in');
});

test('proxy: naming another customer in the query or the body is 403 and reads nothing', async () => {
  refused(await readsNothing(() => proxy('account', '1001', { query: { customer: '1002' } })), 403, 'forbidden_customer', 'customer');
  refused(await readsNothing(() => proxy('history', '1001', { query: { customer_id: '1002' } })), 403, 'forbidden_customer', 'customer_id');
  refused(await readsNothing(() => proxy('redeem', '1001', { method: 'POST', body: { reward: 'free-ship', customer: '1002' } })), 403, 'forbidden_customer', 'customer');
  // Naming oneself is harmless: the field is dropped.
  const me = await proxy('account', '1001', { query: { customer: '1001' } });
  assert.equal(me.status, 200);
  assert.equal(me.body.customer, '1001');
});

test('proxy: an uninstalled or unknown shop is refused', async () => {
  refused(await readsNothing(() => proxy('account', '1001', { query: { shop: GONE_SHOP } })), 403, 'shop_not_installed');
  refused(await readsNothing(() => proxy('account', '1001', { query: { shop: 'nobody.myshopify.com' } })), 403, 'shop_not_installed');
});

test('proxy: a signed query shows that customer of that shop only: account, catalogue, progress, coupons', async () => {
  const from = queries.length;
  const a = await proxy('account', '1001');
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.ok(queries.slice(from).some((q) => /FROM accounts/.test(q)), 'the account is read (the spy sees reads)');
  assert.equal(a.body.customer, '1001');
  assert.equal(a.body.balance, 640);
  assert.deepEqual(a.body.coupons, []);
  assert.deepEqual(a.body.catalogue.map((r) => [r.reward, r.points, r.affordable, r.coupon.type]), [['free-ship', 300, true, 'free_shipping']]);
  assert.deepEqual(a.body.next_reward, { reward: 'threshold-10pct', name: '10% off your next order', points: 5000, balance: 640, needed: 4360 });

  // The same customer id in another shop is another account.
  const other = await proxy('account', '1001', { query: { shop: OTHER_SHOP } });
  assert.equal(other.body.balance, 120);

  // 1002's coupon is 1002's: shown to 1002, never to 1001.
  const c2 = await proxy('coupons', '1002');
  assert.equal(c2.status, 200);
  assert.equal(c2.body.coupons.length, 1);
  assert.deepEqual([c2.body.coupons[0].reward, c2.body.coupons[0].status, c2.body.coupons[0].type, c2.body.coupons[0].value], ['threshold-10pct', 'issued', 'percent', '10']);
  assert.match(c2.body.coupons[0].code, /^LOY-/);
  assert.deepEqual((await proxy('coupons', '1001')).body.coupons, []);
  const a2 = await proxy('account', '1002');
  assert.equal(a2.body.balance, 1125);
  assert.deepEqual(a2.body.coupons.map((c) => c.code), [c2.body.coupons[0].code]);
});

test('proxy: reading the account of a customer who never earned answers zeros and opens no account', async () => {
  const count = async () => Number((await store.db.query("SELECT count(*)::int AS n FROM accounts WHERE customer = '5555'")).rows[0].n);
  const a = await proxy('account', '5555');
  assert.equal(a.status, 200);
  assert.deepEqual([a.body.balance, a.body.pending, a.body.coupons, a.body.next_expiry], [0, 0, [], null]);
  assert.equal(a.body.next_reward.needed, 5000);
  assert.equal(a.body.catalogue[0].affordable, false);
  assert.deepEqual((await proxy('history', '5555')).body, { entries: [], next: null });
  // Redeeming with nothing is answered, not written.
  const r = await proxy('redeem', '5555', { method: 'POST', body: { reward: 'free-ship' } });
  assert.equal(r.body.redeemed, false);
  assert.match(r.body.reason, /not enough points/);
  assert.equal(await count(), 0);
});

test('proxy: redeem a catalogue reward: a coupon, points taken once even when retried', async () => {
  const key = { 'idempotency-key': 'click-1' };
  const r = await proxy('redeem', '1001', { method: 'POST', body: { reward: 'free-ship' }, headers: key });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.redeemed, true);
  assert.equal(r.body.coupon.type, 'free_shipping');
  assert.equal(r.body.coupon.status, 'issued');
  assert.equal(r.body.account.balance, 340);
  // The retry (a double click, a lost answer) gives the same coupon and takes nothing more.
  const again = await proxy('redeem', '1001', { method: 'POST', body: { reward: 'free-ship' }, headers: key });
  assert.equal(again.body.duplicate, true);
  assert.equal(again.body.coupon.code, r.body.coupon.code);
  assert.equal(again.body.account.balance, 340);
  // The coupon is in the customer's list and in the ledger history.
  assert.ok((await proxy('coupons', '1001')).body.coupons.some((c) => c.code === r.body.coupon.code && c.status === 'issued'));
  const h = await proxy('history', '1001', { query: { limit: '1' } });
  assert.deepEqual([h.body.entries[0].type, h.body.entries[0].points, h.body.entries[0].coupon], ['redeem', -300, r.body.coupon.code]);
  assert.ok(h.body.next);
  const older = await proxy('history', '1001', { query: { cursor: h.body.next } });
  assert.deepEqual(older.body.entries.map((e) => [e.type, e.points]), [['earn', 640]]);
  // A threshold reward is not in the catalogue; an unknown one neither; a bad key is refused.
  refused(await proxy('redeem', '1001', { method: 'POST', body: { reward: 'threshold-10pct' } }), 404, 'unknown_reward', 'reward');
  refused(await proxy('redeem', '1001', { method: 'POST', body: { reward: 'nope' } }), 404, 'unknown_reward');
  refused(await proxy('redeem', '1001', { method: 'POST', body: { reward: 'free-ship' }, headers: { 'idempotency-key': 'no spaces' } }), 400, 'invalid_request', 'idempotency-key');
  refused(await proxy('redeem', '1001', { method: 'POST', body: { reward: 'free-ship', points: 1 } }), 400, 'invalid_request', 'points');
  // Not enough points left for a second one (340 - 300 = 40 < 300 after it).
  await proxy('redeem', '1001', { method: 'POST', body: { reward: 'free-ship' } });
  const broke = await proxy('redeem', '1001', { method: 'POST', body: { reward: 'free-ship' } });
  assert.equal(broke.body.redeemed, false);
  assert.match(broke.body.reason, /not enough points: free-ship needs 300, the balance is 40/);
});

test('proxy: quote a cart for this customer: points and their own coupons', async () => {
  const cart = { currency: 'EUR', at: '2026-12-06T12:00:00+01:00', lines: [{ id: 'a', quantity: 2, unit_price: '60.00' }] };
  const q = await proxy('quote', '1002', { method: 'POST', body: { cart } });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  assert.equal(q.body.points, 1200);
  const code = (await proxy('coupons', '1002')).body.coupons[0].code;
  assert.deepEqual(q.body.coupons.map((c) => [c.code, c.usable, c.discount]), [[code, true, '12.00']]);
  // Another customer's quote has no coupon of 1002.
  assert.deepEqual((await proxy('quote', '5555', { method: 'POST', body: { cart } })).body.coupons, []);
  refused(await proxy('quote', '1002', { method: 'POST', body: { cart: { ...cart, lines: [{ id: 'a', quantity: '2', unit_price: '60.00' }] } } }), 400, 'invalid_request', 'cart.lines[0].quantity');
});

test('preferences: locale and opt-outs, newsletter earns once, the birthday is entered once', async () => {
  // A birthday that is not today in the shop's zone (on the day itself it would earn at once).
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: program.timezone, month: '2-digit', day: '2-digit' }).format(new Date());
  const BDAY = today === '03-14' ? '03-15' : '03-14';
  assert.deepEqual((await proxy('preferences', '1002')).body, { locale: null, opt_out: [], birthday: null, newsletter: false });
  const put = await proxy('preferences', '1002', { method: 'PUT', body: { locale: 'nb-NO', opt_out: ['sms'], newsletter: true, birthday: BDAY } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual([put.body.locale, put.body.opt_out, put.body.birthday, put.body.newsletter], ['nb-NO', ['sms'], BDAY, true]);
  const byAction = Object.fromEntries(put.body.actions.map((a) => [a.action, a]));
  assert.equal(byAction.newsletter.earned, 50);
  assert.equal(byAction.birthday.earned, 0); // not the birthday today: recorded, earns on the day
  assert.match(byAction.birthday.reason, new RegExp(`is not the birthday ${BDAY}`));
  assert.equal((await proxy('account', '1002')).body.balance, 1125 + 50);
  // The notification contact is what the dispatcher reads.
  const { rows } = await store.db.query('SELECT locale, opt_out, marketing FROM notify_contacts WHERE program = $1 AND customer = $2', [shopifyShop.id, '1002']);
  assert.deepEqual(rows[0], { locale: 'nb-NO', opt_out: ['sms'], marketing: true });
  // The birthday is the canonical event the engine knows.
  const ev = await store.db.query("SELECT body FROM events WHERE program = $1 AND body->>'action' = 'birthday'", [shopifyShop.id]);
  assert.deepEqual(ev.rows.map((r) => [r.body.type, r.body.customer, r.body.ref]), [['action.completed', '1002', BDAY]]);

  // Entered once: the same day again is fine, another day is refused, nothing written.
  assert.equal((await proxy('preferences', '1002', { method: 'PUT', body: { birthday: BDAY } })).status, 200);
  refused(await proxy('preferences', '1002', { method: 'PUT', body: { birthday: '12-06', locale: 'en' } }), 409, 'birthday_set', 'birthday');
  assert.equal((await proxy('preferences', '1002')).body.locale, 'nb-NO');
  refused(await proxy('preferences', '1001', { method: 'PUT', body: { birthday: '02-30' } }), 400, 'invalid_request', 'birthday');
  refused(await proxy('preferences', '1001', { method: 'PUT', body: { opt_out: ['webhook'] } }), 400, 'invalid_request');
  // Newsletter off and on again earns nothing more.
  await proxy('preferences', '1002', { method: 'PUT', body: { newsletter: false, opt_out: [] } });
  const back = await proxy('preferences', '1002', { method: 'PUT', body: { newsletter: true } });
  assert.deepEqual(back.body.opt_out, []);
  assert.equal((await proxy('account', '1002')).body.balance, 1125 + 50);
});

test('actions: a social follow earns once a day; an action the program does not reward opens nothing', async () => {
  const first = await proxy('actions', '1002', { method: 'POST', body: { action: 'social_follow' } });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.earned, 20);
  const balance = first.body.account.balance;
  const second = await proxy('actions', '1002', { method: 'POST', body: { action: 'social_follow' } });
  assert.equal(second.body.duplicate, true);
  assert.equal(second.body.account.balance, balance);
  refused(await readsNothing(() => proxy('actions', '7777', { method: 'POST', body: { action: 'social_share' } })), 404, 'unknown_action', 'action');
  refused(await proxy('actions', '1002', { method: 'POST', body: { action: 'birthday' } }), 400, 'invalid_request', 'action');
  refused(await proxy('actions', '1002', { method: 'POST', body: { action: 'referral' } }), 400, 'invalid_request');
});

test('referral: a personal code and link that only this shop can read back', async () => {
  const r = await proxy('referral', '1001');
  assert.equal(r.status, 200);
  assert.equal(r.body.enabled, true);
  assert.equal(r.body.referrer_points, 500);
  assert.equal(r.body.link, `https://${SHOP}/?ref=${encodeURIComponent(r.body.code)}`);
  const secret = shops.codeSecret(shopifyShop.id);
  assert.equal(r.body.code, referralCode(secret, '1001'));
  assert.equal(referrerOf(secret, r.body.code), '1001');
  assert.equal(referrerOf(shops.codeSecret(otherShop.id), r.body.code), null);
  // Another customer's id with this customer's MAC is not a code.
  const [, mac] = r.body.code.split('.');
  assert.equal(referrerOf(secret, `${Buffer.from('1002').toString('base64url')}.${mac}`), null);
  assert.equal(referrerOf(secret, 'garbage'), null);
});

// A signed Shopify orders/paid for `customer` (2 x 24.50 of merchandise: 490 points).
async function shopifyOrder(id, customer) {
  const body = JSON.stringify(sampleShopifyOrder({ id, customer, currency: 'EUR' }));
  const res = await fetch(`${backend}/webhooks/shopify`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/paid', 'x-shopify-webhook-id': `wh-${id}`, 'x-shopify-hmac-sha256': sign(API_SECRET, body), 'x-shopify-shop-domain': SHOP },
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}
const claim = (customer, body) => proxy('referral/claim', customer, { method: 'POST', body });

test('referral claim: the friend is referred (welcome gift), and their first order, a signed webhook, pays the referrer', async () => {
  const { code } = (await proxy('referral', '3001')).body;
  assert.equal((await proxy('account', '3001')).body.balance, 0);
  const r = await claim('4001', { code });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.credited, true);
  assert.equal(r.body.reason, undefined);
  // The friend's ledger names the referrer; the friend's reward is in their account.
  assert.equal((await store.account(shopifyShop.id, '4001')).referred_by, '3001');
  assert.deepEqual(r.body.account.coupons.map((c) => [c.reward, c.status]), [['free-ship', 'issued']]);
  assert.deepEqual((await proxy('coupons', '4001')).body.coupons.map((c) => c.reward), ['free-ship']);
  const { rows } = await store.db.query("SELECT event_id, body FROM events WHERE program = $1 AND body->>'action' = 'referral'", [shopifyShop.id]);
  assert.deepEqual(rows.map((e) => [e.event_id, e.body.customer, e.body.ref]), [['storefront:referral:4001', '4001', '3001']]);

  // Claimed again (a retry, another tab, another friend's link): the same event, nothing more.
  for (const again of [code, referralCode(shops.codeSecret(shopifyShop.id), '3002')]) {
    const second = await claim('4001', { code: again });
    assert.equal(second.status, 200);
    assert.deepEqual([second.body.credited, second.body.duplicate], [false, true]);
  }
  assert.equal((await store.account(shopifyShop.id, '4001')).referred_by, '3001');
  assert.equal((await proxy('account', '3002')).body.balance, 0);

  // The friend's first order: the friend earns for it, the referrer gets the referral points.
  const placed = await shopifyOrder('880001', '4001');
  assert.equal(placed.results[0].customer, '4001');
  assert.equal((await proxy('account', '4001')).body.balance, 490);
  assert.equal((await proxy('account', '3001')).body.balance, 500);
  const [entry] = (await proxy('history', '3001')).body.entries;
  assert.deepEqual([entry.type, entry.points, entry.reason], ['earn', 500, "referral: 4001's first order"]);
  assert.equal((await store.account(shopifyShop.id, '4001')).referred_by ?? null, null);
  // The friend's second order pays the referrer nothing more.
  await shopifyOrder('880002', '4001');
  assert.equal((await proxy('account', '4001')).body.balance, 980);
  assert.equal((await proxy('account', '3001')).body.balance, 500);
});

test('referral claim: a forged code, another shop\'s code, self-referral and an existing customer credit nothing', async () => {
  const secret = shops.codeSecret(shopifyShop.id);
  const code = referralCode(secret, '3101');
  // Not this shop's codes: 400 naming `code`, before any customer data is read.
  const forged = `${Buffer.from('3101').toString('base64url')}.${'A'.repeat(16)}`;
  const otherShops = referralCode(shops.codeSecret(otherShop.id), '3101');
  for (const bad of [forged, otherShops, 'garbage', `${code}x`]) {
    refused(await readsNothing(() => claim('4101', { code: bad })), 400, 'invalid_code', 'code');
  }
  // The other shop's own code is good there, for that shop's customer of the same id.
  const there = await proxy('referral/claim', '4101', { method: 'POST', body: { code: otherShops }, query: { shop: OTHER_SHOP } });
  assert.equal(there.body.credited, true, JSON.stringify(there.body));
  assert.equal((await store.account(shopifyShop.id, '4101')), null);
  refused(await claim('4101', {}), 400, 'invalid_request');
  refused(await claim('4101', { code, ref: '3101' }), 400, 'invalid_request');

  // Self-referral and a customer who already ordered: answered with the engine's reason.
  const self = await claim('3101', { code });
  assert.deepEqual([self.status, self.body.credited], [200, false]);
  assert.match(self.body.reason, /self-referral/);
  const customer = await claim('1001', { code });
  assert.deepEqual([customer.status, customer.body.credited], [200, false]);
  assert.match(customer.body.reason, /already a customer/);
  assert.equal((await store.account(shopifyShop.id, '1001')).referred_by ?? null, null);

  // The friend is only the customer Shopify signed: naming another is refused, unsigned is 401.
  refused(await readsNothing(() => claim('4102', { code, customer: '4103' })), 403, 'forbidden_customer', 'customer');
  refused(await readsNothing(() => call(`/proxy/loyalty/referral/claim?${proxyQuery({ logged_in_customer_id: '4102' }, 'not-the-app-secret')}`, { method: 'POST', body: { code } })), 401, 'bad_signature');
  refused(await readsNothing(() => claim('', { code })), 401, 'not_logged_in');
  assert.equal(await store.account(shopifyShop.id, '4103'), null);
});

test('referral claim: with a customer token (WooCommerce), for that shop\'s codes only', async () => {
  const secret = shops.codeSecret(wooShop.id);
  const at = (customer, code) => call('/storefront/referral/claim', { method: 'POST', headers: bearer(wooToken(customer)), body: { code } });
  refused(await readsNothing(() => at('w-9', referralCode(shops.codeSecret(shopifyShop.id), 'w-7'))), 400, 'invalid_code', 'code');
  refused(await readsNothing(() => call('/storefront/referral/claim', { method: 'POST', body: { code: referralCode(secret, 'w-7') } })), 401, 'bad_token');
  const r = await at('w-9', referralCode(secret, 'w-7'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.credited, true);
  assert.equal((await store.account(wooShop.id, 'w-9')).referred_by, 'w-7');
});

// --- customer tokens ----------------------------------------------------------------------

test('token: a valid customer token shows that customer of that shop', async () => {
  const a = await call('/storefront/account', { headers: bearer(wooToken('w-7')) });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.deepEqual([a.body.customer, a.body.balance], ['w-7', 990]);
  const q = await call('/storefront/quote', { method: 'POST', headers: bearer(wooToken('w-7')), body: { cart: { currency: 'EUR', lines: [{ id: 'a', quantity: 1, unit_price: '10.00' }] } } });
  assert.equal(q.body.points, 100);
});

test('token: forged, expired, other-shop, unknown-shop and missing tokens are 401 and read nothing', async () => {
  const at = (headers) => readsNothing(() => call('/storefront/account', { headers }));
  refused(await at(bearer(wooToken('w-7', { secret: 'forged-secret-0123456789abcdef' }))), 401, 'bad_token', 'token');
  refused(await at(bearer(wooToken('w-7', { exp: inMinutes(-1) }))), 401, 'bad_token', 'token.exp');
  // Signed by the second shop (with its own secret) but claiming the first.
  refused(await at(bearer(wooToken('w-7', { secret: WOO2_SECRET }))), 401, 'bad_token');
  refused(await at(bearer(wooToken('w-7', { shop: 'woocommerce:nowhere.example' }))), 401, 'bad_token');
  refused(await at(bearer('not-a-token')), 401, 'bad_token');
  refused(await at({}), 401, 'bad_token', 'authorization');
  // A Shopify shop has no token secret: its customers come through the proxy only.
  refused(await at(bearer(signToken({ shop: shopifyShop.id, customer: '1001', exp: inMinutes(5) }, WOO_SECRET))), 401, 'bad_token');
  // The second shop's own token works for its own customers.
  assert.equal((await call('/storefront/account', { headers: bearer(wooToken('x', { shop: woo2Shop.id, secret: WOO2_SECRET })) })).status, 200);
  // And a valid token cannot name someone else.
  refused(await readsNothing(() => call('/storefront/redeem', { method: 'POST', headers: bearer(wooToken('w-7')), body: { reward: 'free-ship', customer_id: 'w-8' } })), 403, 'forbidden_customer');
});

test('token: routes mounted inside the storefront get the vouched-for customer, behind the same checks', async () => {
  const me = await call('/storefront/whoami', { method: 'POST', headers: bearer(wooToken('w-7')), body: {} });
  assert.deepEqual(me.body, { shop: wooShop.id, customer: 'w-7' });
  refused(await call('/storefront/whoami', { method: 'POST', body: {} }), 401, 'bad_token');
  refused(await call('/storefront/whoami', { method: 'POST', headers: bearer(wooToken('w-7')), body: { customer: 'w-8' } }), 403, 'forbidden_customer');
});

test('token: CORS lets the shop\'s own origin read, and no other', async () => {
  const preflight = (origin) => fetch(`${backend}/storefront/account`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  const ok = await preflight(shopOrigin);
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), shopOrigin);
  assert.match(ok.headers.get('access-control-allow-headers'), /authorization/);
  assert.equal(ok.headers.get('access-control-allow-credentials'), null);
  const evil = await preflight('https://evil.example');
  assert.equal(evil.status, 403);
  assert.equal(evil.headers.get('access-control-allow-origin'), null);

  const mine = await call('/storefront/account', { headers: { ...bearer(wooToken('w-7')), origin: shopOrigin } });
  assert.equal(mine.status, 200);
  assert.equal(mine.headers.get('access-control-allow-origin'), shopOrigin);
  // The first shop's token used from the second shop's page.
  refused(await call('/storefront/account', { headers: { ...bearer(wooToken('w-7')), origin: 'https://second.example' } }), 403, 'origin_mismatch');
  const stranger = await call('/storefront/account', { headers: { ...bearer(wooToken('w-7')), origin: 'https://evil.example' } });
  assert.equal(stranger.headers.get('access-control-allow-origin'), null);
});

// --- the widget in Chromium ---------------------------------------------------------------

test('<loyalty-balance> from the theme bundle shows the balance through base + customer-token, and through the App Proxy', async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${shopOrigin}/`);
  await page.waitForFunction(() => customElements.get('loyalty-balance'));
  const token = wooToken('w-7');
  const shown = await page.evaluate(async ({ base, token }) => {
    const el = document.createElement('loyalty-balance');
    el.setAttribute('base', base);
    el.setAttribute('customer-token', token);
    const loaded = new Promise((resolve) => el.addEventListener('account', resolve, { once: true }));
    document.querySelector('main').replaceChildren(el);
    await loaded;
    await el.updateComplete;
    return { balance: el.shadowRoot.querySelector('#balance').textContent, progress: el.shadowRoot.querySelector('#progress').textContent };
  }, { base: `${backend}/storefront`, token });
  assert.equal(shown.balance, fmt.format(990));
  assert.match(shown.progress, /4,010 points to 10% off your next order/);
  // Redeem from the box: a coupon code, the balance down by the reward, the server agreeing.
  await page.click('loyalty-balance >> #catalogue li[data-reward="free-ship"] button');
  await page.waitForSelector('loyalty-balance >> #message');
  const message = await page.textContent('loyalty-balance >> #message');
  assert.equal(await page.textContent('loyalty-balance >> #balance'), fmt.format(690));
  const after = (await call('/storefront/account', { headers: bearer(wooToken('w-7')) })).body;
  assert.equal(after.balance, 690);
  const code = after.coupons.find((c) => c.reward === 'free-ship').code;
  assert.equal(message, `Your code: ${code}`);
  assert.ok(await page.isVisible(`loyalty-balance >> #coupons code:text("${code}")`));
  await page.locator('loyalty-balance').screenshot({ path: join(artifacts, 'storefront-token-redeem.png') });

  // On Shopify: base is the shop's /apps/loyalty, and Shopify's proxy signs in whoever the
  // shop's session says. Nobody logged in: the box shows the refusal, no numbers.
  async function boxAt(base) {
    await page.evaluate((base) => {
      const el = document.createElement('loyalty-balance');
      el.setAttribute('base', base);
      document.querySelector('main').replaceChildren(el);
    }, base);
    // Either the account or the refusal is shown.
    await page.waitForFunction(() => document.querySelector('loyalty-balance').shadowRoot?.querySelector('#balance, .err'));
    return page.evaluate(() => {
      const root = document.querySelector('loyalty-balance').shadowRoot;
      return { balance: root.querySelector('#balance')?.textContent ?? null, error: root.querySelector('.err')?.textContent ?? null };
    });
  }
  assert.deepEqual(await boxAt('/apps/loyalty'), { balance: null, error: 'no customer is logged in to the shop' });
  await page.context().addCookies([{ name: 'customer', value: '1002', url: shopOrigin }]);
  const expected = (await proxy('account', '1002')).body.balance;
  assert.deepEqual(await boxAt('/apps/loyalty'), { balance: fmt.format(expected), error: null });

  // The cart preview runs the wasm in the browser from the same bundle, with the server's numbers.
  const cart = { currency: 'EUR', at: '2026-12-06T12:00:00+01:00', lines: [{ id: 'a', quantity: 3, unit_price: '49.90', discount: '5.00' }] };
  const server = (await proxy('quote', '1002', { method: 'POST', body: { cart } })).body;
  const local = await page.evaluate(async ({ program, cart }) => {
    const el = document.querySelector('loyalty-balance');
    const quoted = new Promise((resolve) => el.addEventListener('quote', (e) => resolve(e.detail), { once: true }));
    el.program = program;
    el.cart = cart;
    return quoted;
  }, { program: { ...program, id: shopifyShop.id }, cart });
  // Points alike; the coupons are the server's to list (the browser holds no account state).
  assert.equal(local.points, server.points);
  assert.equal(local.points, 1447);
  assert.equal(await page.textContent('loyalty-balance >> #quote-points'), fmt.format(local.points));
  assert.deepEqual(errors, []);
  await page.close();
});

test('the theme\'s app embed: a guest lands on a referral link, signs in, and the referral is credited through the App Proxy', async () => {
  const schema = JSON.parse(/\{% schema %\}([\s\S]*?)\{% endschema %\}/.exec(embedSource)[1]);
  assert.deepEqual([schema.target, schema.javascript], ['body', 'loyalty-widget.js']);
  browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const claims = [];
  page.on('request', (r) => r.url().includes('/referral/claim') && claims.push(r.postDataJSON()));
  const { code, link } = (await proxy('referral', '3201')).body;
  // The link's path and query on the stand-in shop; nobody is signed in yet.
  await page.goto(`${shopOrigin}${new URL(link).pathname}${new URL(link).search}`);
  await page.waitForFunction(() => localStorage.getItem('loyalty-referral'));
  assert.equal(await page.locator('loyalty-referral:not([base])').count(), 1);
  assert.deepEqual(claims, []);
  // Signed in (the shop's session), any page: the embed claims once and forgets the code.
  await context.addCookies([{ name: 'customer', value: '4201', url: shopOrigin }]);
  const answered = page.waitForEvent('response', (r) => r.url().includes('/apps/loyalty/referral/claim'));
  await page.goto(`${shopOrigin}/collections/all`);
  const answer = await (await answered).json();
  assert.equal(answer.credited, true, JSON.stringify(answer));
  assert.equal(await page.evaluate(() => localStorage.getItem('loyalty-referral')), null);
  assert.equal((await store.account(shopifyShop.id, '4201')).referred_by, '3201');
  await page.goto(`${shopOrigin}/`);
  assert.deepEqual(claims, [{ code }]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('any identify will do: one ledger on the memory store (an npm import) serves what needs no SQL', async () => {
  const { createLoyalty } = await import('../../js/loyalty.js');
  const { openMemoryStore } = await import('../../js/stores/memory.js');
  const memory = openMemoryStore();
  const loyalty = createLoyalty({ program: { ...program, id: 'solo' }, store: memory, secret: 's' });
  await loyalty.handle(order('m1', 'm-1', '30.00'));
  const solo = Fastify();
  // The host's own session decides who is calling; here, a header the host trusts.
  solo.register(storefrontRoutes, { prefix: '/me', identify: async (request) => ({ loyalty, store: memory, shopId: 'solo', customer: request.headers['x-host-customer'] }) });
  const get = async (url) => { const r = await solo.inject({ url, headers: { 'x-host-customer': 'm-1' } }); return { status: r.statusCode, body: r.json() }; };
  assert.equal((await get('/me/account')).body.balance, 300);
  assert.deepEqual((await get('/me/coupons')).body, { coupons: [] });
  refused(await get('/me/preferences'), 404, 'not_supported');
  // No secret given: no referral code to hand out.
  refused(await get('/me/referral'), 404, 'not_supported');
  await solo.close();
  await loyalty.close();
});
