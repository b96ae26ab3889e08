// Shopify app pieces against the local stand-in (tests/js/standins/shopify.js), over real
// sockets: OAuth install, session tokens, App Proxy signatures, store sync of coupons and
// webhooks, throttling, and the theme block.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { Liquid } from 'liquidjs';
import { startShopifyStandin, signProxyQuery, signSessionToken, signAdminQuery, STANDIN_API_VERSION } from './standins/shopify.js';
import { createShopifyApp, SHOPIFY_API_VERSION, adminUrl } from '../../js/platforms/shopify-app.js';
import { shopifyAuthRoutes, verifySessionToken, verifyProxyQuery } from '../../js/server/shopify-auth.js';
import { createShopifyAdmin, discountInput } from '../../js/platforms/shopify-admin.js';
import { StoreApiError } from '../../js/platforms/store-error.js';

const API_KEY = 'test-api-key';
const API_SECRET = 'test-api-secret';
const SHOP = 'loyalty-test.myshopify.com';
const BROWSER = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36' };
const DAY = 86_400_000;

let standin;
let shopify;
let app;
let appUrl;
const installs = [];
const libraryLog = [];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  standin = await startShopifyStandin({ apiKey: API_KEY, apiSecret: API_SECRET, defaultShop: SHOP, allowedRedirects: [`${appUrl}/shopify/auth/callback`] });
  shopify = createShopifyApp({
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: appUrl,
    SCOPES: 'read_discounts,write_discounts',
    SHOPIFY_ADMIN_ORIGIN: standin.adminOrigin,
  }, { log: (severity, message) => libraryLog.push({ severity, message }) });
  app = Fastify();
  app.register(shopifyAuthRoutes, {
    prefix: '/shopify',
    shopify,
    onInstalled: async (install) => {
      installs.push(install);
    },
    onSessionToken: async ({ shop, user }) => ({ shop, user, ok: true }),
  });
  await app.listen({ port, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await standin?.close();
});

const cookieHeader = (res) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

function coupon(over = {}) {
  const issued = Date.UTC(2026, 11, 6, 12);
  return { code: `LOY-${Math.random().toString(36).slice(2, 6).toUpperCase()}-TEST`, reward: 'threshold-10pct', type: 'percent', value: '10', min_order: 10000, points: 5000, issued_at: issued, expires_at: issued + 30 * DAY - 1, status: 'issued', ...over };
}

function admin(shop = SHOP) {
  return createShopifyAdmin({ shopify, shop, accessToken: standin.issueToken(shop) });
}

// --- configuration ----------------------------------------------------------------

test('the app pins Admin API 2026-07, the stand-in serves the same version, and the admin origin is rewritten', () => {
  assert.equal(SHOPIFY_API_VERSION, '2026-07');
  assert.equal(STANDIN_API_VERSION, SHOPIFY_API_VERSION);
  assert.equal(adminUrl(`https://${SHOP}/admin/oauth/authorize?a=1`), `${standin.url}/shops/${SHOP}/admin/oauth/authorize?a=1`);
  assert.equal(adminUrl('https://example.com/x'), 'https://example.com/x', 'only shop domains are rewritten');
  assert.throws(() => createShopifyApp({ SHOPIFY_API_KEY: 'k', SHOPIFY_APP_URL: appUrl }), /SHOPIFY_API_SECRET: missing/);
  assert.throws(() => createShopifyApp({ SHOPIFY_API_KEY: 'k', SHOPIFY_API_SECRET: 's', SHOPIFY_APP_URL: appUrl, SHOPIFY_ADMIN_ORIGIN: 'http://127.0.0.1:1/{shop}' }), /one admin origin per process/);
});

// --- OAuth ----------------------------------------------------------------------------

test('OAuth: /auth -> authorize -> callback installs with an offline token the Admin API accepts', async () => {
  const begin = await fetch(`${appUrl}/shopify/auth?shop=${SHOP}`, { redirect: 'manual', headers: BROWSER });
  assert.equal(begin.status, 302);
  const authorize = new URL(begin.headers.get('location'));
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${standin.url}/shops/${SHOP}/admin/oauth/authorize`);
  assert.equal(authorize.searchParams.get('client_id'), API_KEY);
  assert.equal(authorize.searchParams.get('scope'), 'write_discounts', 'the library drops read_ scopes a write_ scope implies');
  assert.equal(authorize.searchParams.get('redirect_uri'), `${appUrl}/shopify/auth/callback`);
  assert.equal(authorize.searchParams.get('grant_options[]'), '', 'offline: no per-user grant');
  const state = authorize.searchParams.get('state');
  assert.match(state, /^[0-9a-f]{32,}$/);
  const cookies = cookieHeader(begin);
  assert.match(cookies, /shopify_app_state=[0-9a-f]+; shopify_app_state\.sig=/);

  const approved = await fetch(authorize, { redirect: 'manual' });
  assert.equal(approved.status, 302);
  const callback = new URL(approved.headers.get('location'));
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('shop'), SHOP);

  const done = await fetch(callback, { redirect: 'manual', headers: { ...BROWSER, cookie: cookies } });
  assert.equal(done.status, 302, await done.clone().text());
  assert.equal(done.headers.get('location'), `https://admin.shopify.com/store/loyalty-test/apps/${API_KEY}`);
  const install = installs.at(-1);
  assert.equal(install.shop, SHOP);
  assert.match(install.accessToken, /^shpat_[0-9a-f]{32}$/);
  assert.equal(install.scope, 'write_discounts');

  // The token works against the Admin API through the library's client.
  const sync = createShopifyAdmin({ shopify, shop: SHOP, accessToken: install.accessToken });
  assert.deepEqual(await sync.deactivateCoupon('NO-SUCH-CODE'), { id: null, done: true });

  // The code was single-use: replaying the same callback fails at the token exchange.
  const replay = await fetch(callback, { redirect: 'manual', headers: { ...BROWSER, cookie: cookies } });
  assert.equal(replay.status, 400);
  assert.equal((await replay.json()).error.code, 'oauth_code_refused');
  assert.equal(installs.length, 1);
});

test('OAuth: a forged hmac, a wrong state or a missing state cookie is refused and nothing is installed', async () => {
  const begin = await fetch(`${appUrl}/shopify/auth?shop=${SHOP}`, { redirect: 'manual', headers: BROWSER });
  const cookies = cookieHeader(begin);
  const approved = await fetch(begin.headers.get('location'), { redirect: 'manual' });
  const callback = new URL(approved.headers.get('location'));
  const count = installs.length;

  const forged = new URL(callback);
  forged.searchParams.set('hmac', signAdminQuery('not-the-secret', Object.fromEntries(forged.searchParams)));
  const r1 = await fetch(forged, { redirect: 'manual', headers: { ...BROWSER, cookie: cookies } });
  assert.equal(r1.status, 401);
  assert.equal((await r1.json()).error.code, 'bad_signature');

  const tampered = new URL(callback);
  tampered.searchParams.set('shop', 'other-shop.myshopify.com'); // hmac no longer covers the query
  const r2 = await fetch(tampered, { redirect: 'manual', headers: { ...BROWSER, cookie: cookies } });
  assert.equal(r2.status, 401);

  const r3 = await fetch(callback, { redirect: 'manual', headers: BROWSER });
  assert.equal(r3.status, 400);
  assert.equal((await r3.json()).error.code, 'oauth_state_missing');

  const wrongState = new URL(callback);
  wrongState.searchParams.set('state', 'a'.repeat(64));
  wrongState.searchParams.set('hmac', signAdminQuery(API_SECRET, Object.fromEntries(wrongState.searchParams)));
  const r4 = await fetch(wrongState, { redirect: 'manual', headers: { ...BROWSER, cookie: cookies } });
  assert.equal(r4.status, 401, 'a correctly signed callback for another OAuth attempt fails the state check');

  const elsewhere = new URL(begin.headers.get('location'));
  elsewhere.searchParams.set('redirect_uri', 'https://evil.example.com/callback');
  assert.equal((await fetch(elsewhere, { redirect: 'manual' })).status, 400, 'the stand-in, like Shopify, only redirects to allowed URLs');

  assert.equal(installs.length, count);
  assert.ok(libraryLog.some((l) => /Invalid OAuth callback/.test(l.message)), 'the library reports through the log option');
  const bad = await fetch(`${appUrl}/shopify/auth?shop=evil.example.com`, { redirect: 'manual', headers: BROWSER });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.path, 'shop');
});

// --- session tokens and proxy signatures --------------------------------------------

test('session tokens: a good one names shop and user; forged, expired, wrong audience or mismatched iss are refused', async () => {
  const good = signSessionToken(API_SECRET, { apiKey: API_KEY, shop: SHOP, user: '7' });
  assert.deepEqual(await verifySessionToken(shopify, `Bearer ${good}`), { shop: SHOP, user: '7' });

  const refused = async (token, path) => {
    await assert.rejects(verifySessionToken(shopify, `Bearer ${token}`), (err) => err.code === 'bad_session_token' && err.statusCode === 401 && (!path || err.path === path));
  };
  await refused(signSessionToken('forged-secret', { apiKey: API_KEY, shop: SHOP }));
  await refused(signSessionToken(API_SECRET, { apiKey: API_KEY, shop: SHOP, now: Math.floor(Date.now() / 1000) - 3600 }));
  await refused(signSessionToken(API_SECRET, { apiKey: 'another-app', shop: SHOP }));
  await refused(signSessionToken(API_SECRET, { apiKey: API_KEY, shop: SHOP, iss: 'https://other-shop.myshopify.com/admin' }), 'iss');
  await refused(signSessionToken(API_SECRET, { apiKey: API_KEY, shop: SHOP, dest: 'https://evil.example.com' }), 'dest');
  await assert.rejects(verifySessionToken(shopify, undefined), { code: 'bad_session_token', path: 'authorization' });

  const res = await fetch(`${appUrl}/shopify/auth/session`, { headers: { authorization: `Bearer ${good}` } });
  assert.deepEqual(await res.json(), { shop: SHOP, user: '7', ok: true });
  const no = await fetch(`${appUrl}/shopify/auth/session`, { headers: { authorization: 'Bearer x.y.z' } });
  assert.equal(no.status, 401);
});

test('App Proxy: a signed query gives shop and customer; a forged, stale or unsigned one is refused', async () => {
  const query = { shop: SHOP, logged_in_customer_id: '6543210987', path_prefix: '/apps/loyalty', timestamp: String(Math.floor(Date.now() / 1000)) };
  const signed = { ...query, signature: signProxyQuery(API_SECRET, query) };
  assert.deepEqual(await verifyProxyQuery(shopify, signed), { shop: SHOP, customer: '6543210987' });

  const guest = { ...query, logged_in_customer_id: '' };
  assert.deepEqual(await verifyProxyQuery(shopify, { ...guest, signature: signProxyQuery(API_SECRET, guest) }), { shop: SHOP, customer: null });

  // Repeated keys arrive as arrays and are signed comma-joined.
  const multi = { ...query, extra: ['1', '2'] };
  assert.equal((await verifyProxyQuery(shopify, { ...multi, signature: signProxyQuery(API_SECRET, multi) })).customer, '6543210987');

  const refused = (q, path) => assert.rejects(verifyProxyQuery(shopify, q), (err) => err.code === 'bad_signature' && err.statusCode === 401 && err.path === path);
  await refused({ ...query, signature: signProxyQuery('forged-secret', query) }, 'signature');
  await refused({ ...signed, logged_in_customer_id: '1' }, 'signature'); // another customer, same signature
  const stale = { ...query, timestamp: String(Math.floor(Date.now() / 1000) - 3600) };
  await refused({ ...stale, signature: signProxyQuery(API_SECRET, stale) }, 'timestamp');
  await refused(query, 'signature');
  const { timestamp: _t, ...noTime } = query;
  await refused({ ...noTime, signature: signProxyQuery(API_SECRET, noTime) }, 'timestamp');
});

// --- store sync: coupons ----------------------------------------------------------

test('ensureCoupon: a percent coupon becomes one code discount with exactly its terms', async () => {
  const sync = admin();
  const c = coupon({ value: '12.5', min_order: 10000 });
  const out = await sync.ensureCoupon(c, { customer: '6543210987', currency: 'EUR', combinesWith: { order: false, product: true, shipping: true } });
  assert.equal(out.created, true);
  assert.match(out.id, /^gid:\/\/shopify\/DiscountCodeNode\/\d+$/);
  const d = standin.discount(c.code);
  assert.equal(d.id, out.id);
  assert.equal(d.kind, 'basic');
  assert.equal(d.status, 'ACTIVE');
  assert.deepEqual(d.input, {
    title: `Loyalty reward threshold-10pct (${c.code})`,
    code: c.code,
    startsAt: '2026-12-06T12:00:00.000Z',
    endsAt: '2027-01-05T11:59:59.999Z',
    usageLimit: 1,
    appliesOncePerCustomer: true,
    context: { customers: { add: ['gid://shopify/Customer/6543210987'] } },
    combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
    minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: '100.00' } },
    customerGets: { value: { percentage: 0.125 }, items: { all: true } },
  });
  // Again: found by code, nothing created.
  assert.deepEqual(await sync.ensureCoupon(c, { customer: '6543210987', currency: 'EUR' }), { id: out.id, created: false });
  assert.equal(standin.discounts().filter((code) => code === c.code).length, 1);
});

test('ensureCoupon: fixed amounts and minimums are exact in the currency\'s decimals (EUR, JPY, KWD)', async () => {
  const sync = admin();
  const eur = coupon({ type: 'fixed', value: '5.5', min_order: 2999 });
  await sync.ensureCoupon(eur, { customerGid: 'gid://shopify/Customer/11', currency: 'EUR' });
  const e = standin.discount(eur.code).input;
  assert.deepEqual(e.customerGets, { value: { discountAmount: { amount: '5.50', appliesOnEachItem: false } }, items: { all: true } });
  assert.deepEqual(e.minimumRequirement, { subtotal: { greaterThanOrEqualToSubtotal: '29.99' } });
  assert.deepEqual(e.context, { customers: { add: ['gid://shopify/Customer/11'] } });

  const jpy = coupon({ type: 'fixed', value: '500', min_order: 14090 });
  await sync.ensureCoupon(jpy, { customer: '12', currency: 'JPY' });
  assert.equal(standin.discount(jpy.code).input.customerGets.value.discountAmount.amount, '500');
  assert.equal(standin.discount(jpy.code).input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal, '14090');

  const kwd = coupon({ type: 'fixed', value: '1.25', min_order: 10500 });
  await sync.ensureCoupon(kwd, { customer: '13', currency: 'KWD' });
  assert.equal(standin.discount(kwd.code).input.customerGets.value.discountAmount.amount, '1.250');
  assert.equal(standin.discount(kwd.code).input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal, '10.500');

  // Never rounded: more decimals than the currency has is refused before any call.
  await assert.rejects(sync.ensureCoupon(coupon({ type: 'fixed', value: '5.5' }), { customer: '1', currency: 'JPY' }), (err) => err instanceof StoreApiError && err.permanent && /coupon\.value: more than 0 decimals/.test(err.message));
  await assert.rejects(sync.ensureCoupon(coupon({ min_order: 10.5 }), { customer: '1', currency: 'EUR' }), /coupon\.min_order/);
});

test('ensureCoupon takes the coupon.issued effect as the engine emits it today (decimal min_order, ISO expiry, no issued_at)', async () => {
  const sync = admin();
  // From `npx loyalty replay --program presets/seed.json --events tests/scenarios/seed.jsonl`.
  const effect = { type: 'coupon.issued', customer: '2002', reward: 'threshold-10pct', points: 5000, coupon: { code: `LOY-MMJW-AJD1-${Date.now() % 10000}`, type: 'percent', value: '10', min_order: '100.00', expires_at: '2027-12-05T23:59:59.999+01:00', status: 'issued', reward: 'threshold-10pct' } };
  const outboxAt = Date.UTC(2026, 11, 6, 9, 30);
  await sync.ensureCoupon(effect.coupon, { customer: effect.customer, currency: 'EUR', issuedAt: outboxAt });
  const d = standin.discount(effect.coupon.code).input;
  assert.equal(d.startsAt, '2026-12-06T09:30:00.000Z');
  assert.equal(d.endsAt, '2027-12-05T22:59:59.999Z', 'the same instant as the engine\'s local end of day');
  assert.deepEqual(d.minimumRequirement, { subtotal: { greaterThanOrEqualToSubtotal: '100.00' } });
  assert.deepEqual(d.customerGets.value, { percentage: 0.1 });
  await assert.rejects(sync.ensureCoupon({ ...effect.coupon, code: 'LOY-LOCAL', expires_at: '2027-12-05T23:59:59' }, { customer: '2002', currency: 'EUR' }), (err) => err.details.field === 'coupon.expires_at');
  await assert.rejects(sync.ensureCoupon({ ...effect.coupon, code: 'LOY-JPY', min_order: '100.50' }, { customer: '2002', currency: 'JPY' }), (err) => err.details.field === 'coupon.min_order');
});

test('ensureCoupon: free shipping uses the free-shipping mutation; no expiry means no endsAt; unsupported terms are refused', async () => {
  const sync = admin();
  const c = coupon({ type: 'free_shipping', value: undefined, min_order: undefined, expires_at: undefined });
  const out = await sync.ensureCoupon(c, { customer: '21', currency: 'EUR' });
  assert.equal(out.created, true);
  const d = standin.discount(c.code);
  assert.equal(d.kind, 'free_shipping');
  assert.deepEqual(d.input.destination, { all: true });
  assert.equal(d.input.endsAt, null);
  assert.equal(d.input.minimumRequirement, undefined);
  assert.equal(d.input.usageLimit, 1);
  assert.equal(d.input.appliesOncePerCustomer, true);

  for (const [over, field] of [[{ type: 'free_product' }, 'coupon.type'], [{ max_discount: 2000 }, 'coupon.max_discount'], [{ value: '0' }, 'coupon.value'], [{ value: '101' }, 'coupon.value']]) {
    await assert.rejects(sync.ensureCoupon(coupon(over), { customer: '21', currency: 'EUR' }), (err) => err.permanent && err.details.field === field);
  }
  await assert.rejects(sync.ensureCoupon(coupon(), { customer: 'guest', currency: 'EUR' }), (err) => err.details.field === 'customer');
});

test('ensureCoupon: a timeout after Shopify committed is retried without a second discount', async () => {
  const sync = admin();
  const c = coupon();
  standin.failNext(undefined); // the look-up passes
  standin.failNext({ kind: 'drop-after-commit' }); // the create is applied, the answer lost
  await assert.rejects(sync.ensureCoupon(c, { customer: '31', currency: 'EUR' }), (err) => err instanceof StoreApiError && err.code === 'NETWORK' && !err.permanent);
  assert.ok(standin.discount(c.code), 'Shopify did create it');
  const creates = () => standin.calls().filter((x) => x.fields?.includes('discountCodeBasicCreate') && x.shop === SHOP).length;
  const before = creates();
  const retry = await sync.ensureCoupon(c, { customer: '31', currency: 'EUR' });
  assert.deepEqual(retry, { id: standin.discount(c.code).id, created: false });
  assert.equal(creates(), before, 'the retry looked up and did not create');
  assert.equal(standin.discounts().filter((code) => code === c.code).length, 1);
});

test('ensureCoupon: a request that never answers times out as NETWORK, and the retry finds the code', async () => {
  const sync = createShopifyAdmin({ shopify, shop: SHOP, accessToken: standin.issueToken(SHOP), timeoutMs: 300 });
  const c = coupon({ type: 'free_shipping', value: undefined });
  standin.failNext(undefined);
  standin.failNext({ kind: 'hang-after-commit' });
  const started = Date.now();
  await assert.rejects(sync.ensureCoupon(c, { customer: '35', currency: 'EUR' }), (err) => err.code === 'NETWORK' && !err.permanent);
  assert.ok(Date.now() - started < 5000);
  assert.equal((await sync.ensureCoupon(c, { customer: '35', currency: 'EUR' })).created, false);
});

test('ensureCoupon: a code that exists as someone else\'s discount is a permanent conflict, not a success', async () => {
  const sync = admin();
  const c = coupon();
  await sync.ensureCoupon(c, { customer: '36', currency: 'EUR' });
  await assert.rejects(sync.ensureCoupon(c, { customer: '37', currency: 'EUR' }), (err) => err.code === 'CODE_CONFLICT' && err.permanent);
  await assert.rejects(sync.ensureCoupon({ ...c, type: 'free_shipping' }, { customer: '36', currency: 'EUR' }), (err) => err.code === 'CODE_CONFLICT');
});

test('ensureCoupon: userErrors are permanent and carry Shopify\'s errors', async () => {
  const sync = admin();
  const c = coupon({ expires_at: Date.UTC(2026, 0, 1) }); // ends before it starts
  await assert.rejects(sync.ensureCoupon(c, { customer: '41', currency: 'EUR' }), (err) => {
    assert.ok(err instanceof StoreApiError);
    assert.equal(err.permanent, true);
    assert.equal(err.code, 'END_DATE_BEFORE_START_DATE');
    assert.deepEqual(err.details.userErrors[0].field, ['basicCodeDiscount', 'endsAt']);
    return true;
  });
  assert.equal(standin.discount(c.code), null);
});

test('deactivateCoupon ends the code now; absent or already ended is done without a call', async () => {
  const sync = admin();
  const c = coupon();
  const { id } = await sync.ensureCoupon(c, { customer: '51', currency: 'EUR' });
  assert.deepEqual(await sync.deactivateCoupon(c.code), { id, done: true });
  const d = standin.discount(c.code);
  assert.equal(d.status, 'EXPIRED');
  assert.equal(d.deactivated, true);
  const deactivations = () => standin.calls().filter((x) => x.fields?.includes('discountCodeDeactivate')).length;
  const n = deactivations();
  assert.deepEqual(await sync.deactivateCoupon(c.code.toLowerCase()), { id, done: true }, 'codes are case-insensitive at Shopify');
  assert.equal(deactivations(), n);
  assert.deepEqual(await sync.deactivateCoupon('LOY-NONE'), { id: null, done: true });
});

// --- webhooks -----------------------------------------------------------------------

test('registerWebhooks subscribes each topic once, even when called again', async () => {
  const shop = 'webhooks-test.myshopify.com';
  const sync = admin(shop);
  const url = 'https://loyalty.example.com/webhooks/shopify';
  const first = await sync.registerWebhooks(url, ['orders/paid', 'orders/cancelled', 'refunds/create', 'app/uninstalled']);
  assert.deepEqual(first.map((w) => [w.topic, w.created]), [['ORDERS_PAID', true], ['ORDERS_CANCELLED', true], ['REFUNDS_CREATE', true], ['APP_UNINSTALLED', true]]);
  const again = await sync.registerWebhooks(url, ['ORDERS_PAID', 'orders/cancelled', 'refunds/create', 'app/uninstalled']);
  assert.deepEqual(again.map((w) => [w.topic, w.created]), [['ORDERS_PAID', false], ['ORDERS_CANCELLED', false], ['REFUNDS_CREATE', false], ['APP_UNINSTALLED', false]]);
  assert.deepEqual(again.map((w) => w.id), first.map((w) => w.id));
  const subs = standin.subscriptions(shop);
  assert.equal(subs.length, 4);
  assert.ok(subs.every((s) => s.uri === url && s.format === 'JSON'));
  await assert.rejects(sync.registerWebhooks('http://insecure.example.com/x', ['orders/paid']), (err) => err.details.field === 'callbackUrl');
  // Privacy topics are not subscribable through the API at Shopify either.
  await assert.rejects(sync.registerWebhooks(url, ['customers/redact']), (err) => err.permanent && err.code === 'INVALID_VARIABLE');
});

// --- throttling and HTTP failures --------------------------------------------------

test('THROTTLED and 429 give a retryable StoreApiError with retryAfterMs; a 500 is retryable, a bad token is not', async () => {
  const shop = 'throttle-test.myshopify.com';
  const sync = admin(shop);

  standin.failNext({ kind: 'throttled', available: 0 });
  const throttled = await sync.deactivateCoupon('ANY').catch((e) => e);
  assert.ok(throttled instanceof StoreApiError);
  assert.equal(throttled.code, 'THROTTLED');
  assert.equal(throttled.permanent, false);
  assert.ok(throttled.retryAfterMs >= 20 && throttled.retryAfterMs <= 1000, `retryAfterMs ${throttled.retryAfterMs}`);
  assert.equal(throttled.details.cost.throttleStatus.restoreRate, 100);

  // The bucket is remembered: the next call waits instead of spending a request.
  const calls = standin.calls().length;
  const early = await sync.deactivateCoupon('ANY').catch((e) => e);
  assert.equal(early.code, 'THROTTLED');
  assert.equal(standin.calls().length, calls, 'no request sent while the bucket refills');
  await new Promise((r) => setTimeout(r, early.retryAfterMs + 50));
  assert.deepEqual(await sync.deactivateCoupon('ANY'), { id: null, done: true });

  standin.failNext({ kind: '429', retryAfter: 2.5 });
  const limited = await sync.deactivateCoupon('ANY').catch((e) => e);
  assert.equal(limited.code, 'THROTTLED');
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterMs, 2500);
  assert.equal(limited.permanent, false);

  standin.failNext({ kind: '500' });
  const down = await sync.deactivateCoupon('ANY').catch((e) => e);
  assert.equal(down.status, 500);
  assert.equal(down.permanent, false);

  const stranger = createShopifyAdmin({ shopify, shop, accessToken: 'shpat_revoked' });
  const denied = await stranger.deactivateCoupon('ANY').catch((e) => e);
  assert.equal(denied.status, 401);
  assert.equal(denied.permanent, true);
});

// --- the stand-in holds Shopify's schema -------------------------------------------

test('the stand-in refuses a document with a field or input Shopify does not have', async () => {
  const post = (query, variables) => fetch(`${standin.url}/shops/${SHOP}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': standin.issueToken(SHOP) },
    body: JSON.stringify({ query, variables }),
  }).then((r) => r.json());

  const field = await post('query($c: String!) { codeDiscountNodeByCode(code: $c) { id codeDiscount { ... on DiscountCodeBasic { maxDiscount } } } }', { c: 'X' });
  assert.equal(field.data, undefined);
  assert.equal(field.errors[0].message, "Field 'maxDiscount' doesn't exist on type 'DiscountCodeBasic'");
  assert.equal(field.errors[0].extensions.code, 'undefinedField');

  // customerSelection is gone from our transcription (deprecated); a misspelt input field fails too.
  const input = discountInput(coupon(), { customer: '1', currency: 'EUR' }).input;
  const create = 'mutation($d: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $d) { userErrors { message } } }';
  const bad = await post(create, { d: { ...input, usesPerCustomer: 1 } });
  assert.equal(bad.data, undefined);
  assert.match(bad.errors[0].message, /usesPerCustomer/);
  assert.equal(bad.errors[0].extensions.code, 'INVALID_VARIABLE');
  const wrongType = await post(create, { d: { ...input, minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: 'ten' } } } });
  assert.match(wrongType.errors[0].message, /Invalid decimal/);

  // The documents the client sends are all valid (every call so far got through validation).
  assert.deepEqual(standin.calls().filter((c) => c.refused && c.shop === SHOP && !/maxDiscount/.test(c.refused.join())), []);
});

// --- the theme block -------------------------------------------------------------

test('the theme block renders <loyalty-balance> on the App Proxy path for a customer, a sign-in link for a guest', async () => {
  const source = readFileSync(new URL('../../js/platforms/shopify-theme/blocks/loyalty-balance.liquid', import.meta.url), 'utf8');
  const schema = JSON.parse(/\{% schema %\}([\s\S]*?)\{% endschema %\}/.exec(source)[1]);
  assert.equal(schema.target, 'section');
  const engine = new Liquid();
  engine.registerTag('schema', { parse(token, remain) { this.tokens = []; let t; while ((t = remain.shift()) && !(t.name === 'endschema')) this.tokens.push(t); }, render() { return ''; } });
  const defaults = Object.fromEntries(schema.settings.map((s) => [s.id, s.default]));
  const ctx = { block: { settings: defaults, shopify_attributes: 'data-block-id="b1"' }, request: { locale: { iso_code: 'nb' } }, shop: { currency: 'NOK' }, cart: { currency: { iso_code: 'NOK' } }, routes: { account_login_url: '/account/login' } };
  const html = await engine.parseAndRender(source, { ...ctx, customer: { id: 6543210987 } });
  // No customer id in the page: the App Proxy names the customer, signed by Shopify.
  assert.match(html, /<loyalty-balance\s+base="\/apps\/loyalty"\s+locale="nb"\s+currency="NOK"\s*><\/loyalty-balance>/);
  assert.ok(!html.includes('6543210987'));
  const guest = await engine.parseAndRender(source, ctx);
  assert.doesNotMatch(guest, /<loyalty-balance/);
  assert.match(guest, /href="\/account\/login">Sign in to see your points</);
  const toml = readFileSync(new URL('../../js/platforms/shopify-theme/shopify.extension.toml', import.meta.url), 'utf8');
  assert.match(toml, /^type = "theme"$/m);
});

test('the stand-in enforces access scopes as Shopify does: a token without write_discounts creates nothing', async () => {
  const sync = createShopifyAdmin({ shopify, shop: SHOP, accessToken: standin.issueToken(SHOP, 'read_orders') });
  const c = coupon();
  await assert.rejects(sync.ensureCoupon(c, { customer: '31', currency: 'EUR' }), (err) => err instanceof StoreApiError && err.permanent && /ACCESS_DENIED|Access denied/.test(`${err.code} ${err.message}`));
  assert.equal(standin.discount(c.code), null);
});
