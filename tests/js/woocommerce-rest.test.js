// The WooCommerce store-sync client and store connection against a local stand-in of the
// store's REST API (tests/js/standins/woocommerce.js) on a real socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startWooStandin } from './standins/woocommerce.js';
import { createWooRestClient, couponTerms, localDateTime, siteZone, storeUrl } from '../../js/platforms/woocommerce-rest.js';
import { connectWooStore, WOO_TOPICS } from '../../js/platforms/woocommerce-connect.js';
import { StoreApiError, storeFailure } from '../../js/platforms/store-error.js';
import { storeSyncProvider } from '../../js/shops/store-sync.js';
import { notifyStore } from '../../js/notify/store.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { testDatabases } from './databases.js';
import { createWooAdapter } from '../../js/platforms/woocommerce.js';
import { FIXTURES } from './fixtures.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { signCustomerToken, verifyCustomerToken, tokenShop, MAX_TOKEN_LIFETIME_MS } from '../../js/platforms/customer-token.js';

const HOOK_URL = 'https://loyalty.example/webhooks/woocommerce/shop-1';
let store;
let woo;

before(async () => {
  store = await startWooStandin({ timezone: 'Europe/Oslo', currency: 'EUR', decimals: 2 });
  woo = createWooRestClient({ url: store.url, key: store.key, secret: store.secret, timeoutMs: 10_000 });
});
after(() => store.close());

// A coupon as the engine emits it in a coupon.issued effect (CONTRACT.md).
function engineCoupon(over = {}) {
  return {
    code: `LOY-${Math.random().toString(36).slice(2, 6).toUpperCase()}-TEST`, reward: 'threshold-10pct', type: 'percent', value: '10',
    min_order: 10000, points: 5000, issued_at: Date.parse('2026-11-05T10:00:00Z'),
    expires_at: Date.parse('2026-12-05T23:59:59.999+01:00'), status: 'active', ...over,
  };
}
const opts = { email: 'ann@example.com', individualUse: true, timezone: 'Europe/Oslo', decimals: 2, customer: '42' };
const storeCoupon = (code) => store.coupons().find((c) => c.code === code.toLowerCase());

test('storeSettings reads currency and decimals from settings/general and the zone from the WordPress index', async () => {
  assert.deepEqual(await woo.storeSettings(), { currency: 'EUR', price_decimals: 2, timezone: 'Europe/Oslo', home: store.url });
  // system_status has the money settings too, but no site zone: default_timezone is PHP's (UTC).
  const { body: status } = await woo.call('GET', '/system_status');
  assert.deepEqual([status.settings.currency, status.settings.number_of_decimals, status.environment.default_timezone], ['EUR', 2, 'UTC']);
  const manual = await startWooStandin({ timezone: '', gmtOffset: '5.5', currency: 'JPY', decimals: 0 });
  try {
    const c = createWooRestClient({ url: manual.url, key: manual.key, secret: manual.secret });
    assert.deepEqual(await c.storeSettings(), { currency: 'JPY', price_decimals: 0, timezone: '+05:30', home: manual.url });
  } finally {
    await manual.close();
  }
  const closed = await startWooStandin({ closedIndex: true });
  try {
    const c = createWooRestClient({ url: closed.url, key: closed.key, secret: closed.secret });
    await assert.rejects(c.storeSettings(), (e) => e.permanent && /pass `timezone`/.test(e.message) && !/consumer key/.test(e.message));
    assert.equal((await c.storeSettings({ timezone: 'America/New_York' })).timezone, 'America/New_York');
    await assert.rejects(c.storeSettings({ timezone: 'Mars/Olympus' }), /timezone: unknown time zone/);
    const shop = await connectWooStore({ url: closed.url, key: closed.key, secret: closed.secret, webhookUrl: HOOK_URL, timezone: 'Europe/Oslo' });
    assert.equal(shop.timezone, 'Europe/Oslo');
  } finally {
    await closed.close();
  }
  assert.equal(siteZone('', '-3'), '-03:00');
  assert.equal(siteZone('', '0'), 'UTC');
  assert.equal(siteZone('', '5.75'), '+05:45');
});

test('connect registers the four webhooks once, even when connecting twice', async () => {
  const first = await connectWooStore({ url: store.url, key: store.key, secret: store.secret, webhookUrl: HOOK_URL });
  assert.equal(first.currency, 'EUR');
  assert.equal(first.decimals, 2);
  assert.equal(first.timezone, 'Europe/Oslo');
  assert.match(first.webhookSecret, /^[0-9a-f]{64}$/);
  assert.deepEqual(first.webhooks.map((w) => [w.topic, w.created]), WOO_TOPICS.map((t) => [t, true]));

  // WooCommerce disables a webhook after repeated delivery failures: connecting again revives it.
  store.setWebhookStatus(first.webhooks[0].id, 'disabled');
  const second = await connectWooStore({ url: store.url, key: store.key, secret: store.secret, webhookUrl: HOOK_URL, webhookSecret: 'rotated-secret-0123456789' });
  assert.deepEqual(second.webhooks.map((w) => [w.topic, w.id, w.created]), first.webhooks.map((w) => [w.topic, w.id, false]));
  const hooks = store.webhooks().filter((w) => w.delivery_url === HOOK_URL);
  assert.equal(hooks.length, 4);
  assert.deepEqual(hooks.map((w) => w.topic).sort(), [...WOO_TOPICS].sort());
  for (const w of hooks) {
    assert.equal(w.status, 'active');
    assert.equal(w.secret, 'rotated-secret-0123456789');
    assert.equal(w.api_version, 'wp_api_v3');
  }
});

test('registerWebhooks removes duplicates it finds and leaves other URLs alone', async () => {
  const url = 'https://loyalty.example/webhooks/woocommerce/dup';
  const call = (body) => woo.call('POST', '/webhooks', { body });
  await call({ topic: 'order.created', delivery_url: url, secret: 'x'.repeat(20) });
  await call({ topic: 'order.created', delivery_url: url, secret: 'y'.repeat(20) });
  await call({ topic: 'order.created', delivery_url: 'https://elsewhere.example/hook', secret: 'z'.repeat(20) });
  const result = await woo.registerWebhooks(url, ['order.created'], 's'.repeat(32));
  assert.equal(result[0].created, false);
  const { body: hook } = await woo.call('GET', `/webhooks/${result[0].id}`);
  assert.deepEqual([hook.topic, hook.resource, hook.event, hook.status, hook.name, 'secret' in hook], ['order.created', 'order', 'created', 'active', 'Loyalty: order.created', false]);
  assert.equal(store.webhooks().filter((w) => w.delivery_url === url).length, 1);
  assert.equal(store.webhooks().filter((w) => w.delivery_url === 'https://elsewhere.example/hook').length, 1);
  await assert.rejects(woo.registerWebhooks(url, ['order.created']), /secret: the webhook secret is required/);
});

test('ensureCoupon creates exactly one coupon with exactly the terms (percent, minimum, expiry, email)', async () => {
  const coupon = engineCoupon();
  const res = await woo.ensureCoupon(coupon, opts);
  assert.equal(res.created, true);
  assert.equal(typeof res.id, 'string');
  const c = storeCoupon(coupon.code);
  assert.equal(c.discount_type, 'percent');
  assert.equal(c.amount, '10');
  assert.equal(c.minimum_amount, '100.00'); // 10000 minor units at 2 decimals
  assert.equal(c.usage_limit, 1);
  assert.equal(c.usage_limit_per_user, 1);
  assert.deepEqual(c.email_restrictions, ['ann@example.com']);
  assert.equal(c.individual_use, true);
  assert.equal(c.free_shipping, false);
  // The expiry instant, to the second, read by the store in its own zone.
  assert.equal(c.date_expires, Math.floor(coupon.expires_at / 1000) * 1000);
  assert.equal(c.view.date_expires, '2026-12-05T23:59:59');
  assert.equal(c.view.date_expires_gmt, '2026-12-05T22:59:59');

  // Nothing else is set: no product limits, sale-item exclusions or maximum spend.
  const sent = JSON.parse(store.requests.findLast((r) => r.method === 'POST' && r.path === '/wp-json/wc/v3/coupons').body);
  assert.deepEqual(Object.keys(sent).sort(), ['amount', 'code', 'date_expires', 'description', 'discount_type', 'email_restrictions',
    'free_shipping', 'individual_use', 'meta_data', 'minimum_amount', 'usage_limit', 'usage_limit_per_user']);
  assert.deepEqual([c.product_ids, c.exclude_sale_items, c.maximum_amount, c.limit_usage_to_x_items], [[], false, '', 0]);
  assert.equal(c.view.code, coupon.code.toLowerCase(), 'WooCommerce keeps codes lower-case');

  const again = await woo.ensureCoupon(coupon, opts);
  assert.deepEqual(again, { id: res.id, created: false });
  assert.equal(store.coupons().filter((x) => x.code === coupon.code.toLowerCase()).length, 1);
});

test('date_expires is the local wall time of the instant across DST changes', async () => {
  // Europe/Oslo: summer time ends 2026-10-25 and starts 2027-03-28; the coupons are issued in winter.
  const cases = [
    ['2027-03-28T23:59:59.999+02:00', '2027-03-28T23:59:59', '2027-03-28T21:59:59'],
    ['2027-03-28T01:30:00.000+01:00', '2027-03-28T01:30:00', '2027-03-28T00:30:00'],
    ['2026-10-25T02:30:00.000+02:00', '2026-10-25T02:30:00', '2026-10-25T00:30:00'], // first 02:30 (summer)
    ['2027-07-01T00:00:00.000+02:00', '2027-07-01T00:00:00', '2027-06-30T22:00:00'],
  ];
  for (const [instant, local, gmt] of cases) {
    const coupon = engineCoupon({ expires_at: Date.parse(instant) });
    await woo.ensureCoupon(coupon, opts);
    const c = storeCoupon(coupon.code);
    assert.equal(c.view.date_expires, local, instant);
    assert.equal(c.view.date_expires_gmt, gmt, instant);
    assert.equal(c.date_expires, Date.parse(instant) - (Date.parse(instant) % 1000), instant);
    // Sent as the store's wall time with that day's offset.
    const sent = JSON.parse(store.requests.findLast((r) => r.method === 'POST' && r.path === '/wp-json/wc/v3/coupons').body);
    assert.equal(sent.date_expires, `${local}${instant.slice(-6)}`, instant);
  }
  // The second 02:30 of 2026-10-25 (winter time): the offset sent with the wall time names it.
  const late = Date.parse('2026-10-25T02:30:00.000+01:00');
  const second = engineCoupon({ expires_at: late });
  await woo.ensureCoupon(second, opts);
  assert.equal(storeCoupon(second.code).date_expires, late);
  assert.equal(localDateTime(late, 'Europe/Oslo'), '2026-10-25T02:30:00+01:00');
  assert.equal(localDateTime(late, '+05:30'), '2026-10-25T07:00:00+05:30');
  assert.equal(localDateTime(late, '-03:00'), '2026-10-24T22:30:00-03:00');
  assert.equal(localDateTime(late, 'UTC'), '2026-10-25T01:30:00+00:00');

  // A store that reads a bare wall time (no offset) gets the same instants outside the repeated hour.
  const bare = engineCoupon({ expires_at: Date.parse('2027-03-28T23:59:59.999+02:00') });
  await woo.call('POST', '/coupons', { body: { ...couponTerms(bare, opts), date_expires: '2027-03-28T23:59:59' } });
  assert.equal(storeCoupon(bare.code).date_expires, Date.parse('2027-03-28T21:59:59Z'));
});

test('fixed amounts and free shipping keep their exact terms', async () => {
  const fixed = engineCoupon({ type: 'fixed', value: '12.5', min_order: 5005 });
  await woo.ensureCoupon(fixed, { ...opts, individualUse: false });
  const f = storeCoupon(fixed.code);
  assert.equal(f.discount_type, 'fixed_cart');
  assert.equal(f.amount, '12.50');
  assert.equal(f.minimum_amount, '50.05');
  assert.equal(f.individual_use, false);

  const ship = engineCoupon({ type: 'free_shipping', value: undefined, min_order: undefined });
  await woo.ensureCoupon(ship, opts);
  const s = storeCoupon(ship.code);
  assert.equal(s.free_shipping, true);
  assert.equal(s.discount_type, 'fixed_cart');
  assert.equal(s.amount, '0');
  assert.equal(s.minimum_amount, '');

  // Zero-decimal currency: minor units are whole yen.
  assert.equal(couponTerms(engineCoupon({ type: 'fixed', value: '500', min_order: 3000 }), { ...opts, decimals: 0 }).minimum_amount, '3000');
});

test('terms the client refuses are a permanent invalid_input naming the field, as the Shopify client\'s are', () => {
  const cases = [
    [engineCoupon({ type: 'fixed', value: '1.005' }), opts, 'coupon.value', /more than 2 decimals/],
    [engineCoupon({ type: 'fixed', value: 12.5 }), opts, 'coupon.value', /not a non-negative decimal string/],
    [engineCoupon({ value: '0' }), opts, 'coupon.value', /not a percentage/],
    [engineCoupon({ value: '101' }), opts, 'coupon.value', /not a percentage/],
    [engineCoupon({ max_discount: 2000 }), opts, 'coupon.max_discount', /no maximum discount/],
    [engineCoupon({ type: 'free_product' }), opts, 'coupon.type', /no WooCommerce coupon/],
    [engineCoupon({ code: ' ' }), opts, 'coupon.code', /non-empty/],
    [engineCoupon({ min_order: 100.5 }), opts, 'coupon.min_order', /integer minor units/],
    [engineCoupon({ expires_at: '2026-12-05' }), opts, 'coupon.expires_at', /epoch milliseconds/],
    [engineCoupon(), { ...opts, email: undefined }, 'email', /email is required/],
    [engineCoupon(), { ...opts, timezone: undefined }, 'timezone', /time zone is required/],
    [engineCoupon(), { ...opts, timezone: 'Mars/Olympus' }, 'timezone', /unknown time zone/],
    [engineCoupon(), { ...opts, decimals: 2.5 }, 'decimals', /currency's decimals/],
    [null, opts, 'coupon', /coupon object/],
  ];
  for (const [coupon, options, field, problem] of cases) {
    assert.throws(() => couponTerms(coupon, options), (e) => e instanceof StoreApiError && e.code === 'invalid_input' && e.permanent === true
      && e.details.field === field && e.message.startsWith(`${field}: `) && problem.test(e.message), `${field} ${problem}`);
  }
});

test('storeFailure: a store error as the CLI and the admin API both show it', async () => {
  const view = (e) => [e.statusCode, e.code, e.path, e.message];
  const wrong = createWooRestClient({ url: store.url, key: store.key, secret: 'cs_wrong' });
  const refused = storeFailure(await wrong.storeSettings().then(() => null, (e) => e));
  assert.deepEqual(view(refused).slice(0, 3), [400, 'store_refused', 'key']);
  assert.match(refused.message, /^key: WooCommerce GET \/settings\/general: the store refused consumer key ck_…cdef: Consumer secret is invalid\./);
  assert.ok(!refused.message.includes('cs_wrong'));
  assert.deepEqual(view(storeFailure(await woo.storeSettings({ timezone: 'Mars/Olympus' }).then(() => null, (e) => e))),
    [400, 'invalid_request', 'timezone', 'timezone: unknown time zone "Mars/Olympus"']);
  const gone = createWooRestClient({ url: 'http://127.0.0.1:9', key: store.key, secret: store.secret, timeoutMs: 2000 });
  const down = storeFailure(await gone.storeSettings().then(() => null, (e) => e));
  assert.deepEqual(view(down).slice(0, 3), [502, 'store_error', 'url']);
  assert.match(down.message, /^url: WooCommerce GET \/settings\/general: network error/);
});

test('store sync: a coupon the client refuses is a dead letter at once, its text naming the field; nothing reaches the store', async () => {
  const dbs = testDatabases('woo-sync');
  const db = await openPgliteStore({ dataDir: await dbs.pgliteDir() });
  try {
    const shop = {
      id: 'shop-w', platform: 'woocommerce', status: 'installed', domain: store.url, program: { currency: 'EUR', timezone: 'Europe/Oslo' },
      settings: { url: store.url, timezone: 'Europe/Oslo', individual_use: false }, secrets: { consumer_key: store.key, consumer_secret: store.secret },
    };
    await notifyStore(db.db).putContact(shop.id, '42', { email: 'ann@example.com' });
    const coupon = engineCoupon({ type: 'fixed', value: '12.345' });
    await db.db.query("INSERT INTO coupons (program, code, customer, reward, status, data) VALUES ($1, $2, '42', 'r', 'issued', '{}')", [shop.id, coupon.code]);
    const before = store.requests.length;
    const err = await storeSyncProvider({ shop, db: db.db }).send({ type: 'coupon.issued', customer: '42', coupon }).then(() => null, (e) => e);
    assert.ok(err instanceof StoreApiError, String(err));
    assert.equal(err.permanent, true, 'no retry mends it');
    assert.match(err.message, /^invalid_input: coupon\.value: more than 2 decimals for this currency \(12\.345\)/);
    assert.equal(store.requests.length, before, 'refused before any call');
    const { rows: [row] } = await db.db.query('SELECT sync_status, sync_error FROM coupons WHERE program = $1 AND code = $2', [shop.id, coupon.code]);
    assert.equal(row.sync_status, 'failed');
    assert.match(row.sync_error, /coupon\.value/);
  } finally {
    await db.close();
  }
});

test('a retry after a timeout that committed creates no second coupon', async () => {
  const coupon = engineCoupon();
  store.hangAfterCommit('POST', '/wp-json/wc/v3/coupons');
  const impatient = createWooRestClient({ url: store.url, key: store.key, secret: store.secret, timeoutMs: 1000 });
  const err = await impatient.ensureCoupon(coupon, opts).then(() => null, (e) => e);
  assert.ok(err instanceof StoreApiError, String(err));
  assert.equal(err.code, 'timeout');
  assert.equal(err.status, null);
  assert.equal(err.permanent, false);
  assert.ok(err.retryAfterMs > 0);
  assert.equal(store.coupons().filter((c) => c.code === coupon.code.toLowerCase()).length, 1, 'the store committed it');

  const retry = await woo.ensureCoupon(coupon, opts);
  assert.equal(retry.created, false);
  assert.equal(store.coupons().filter((c) => c.code === coupon.code.toLowerCase()).length, 1);
});

test('a code the store already has: ours is adopted, a merchant\'s is refused', async () => {
  // Lost race: the lookup saw nothing, the POST answers code_already_exists.
  const coupon = engineCoupon();
  let raced = false;
  const racing = createWooRestClient({
    url: store.url, key: store.key, secret: store.secret,
    fetch: async (url, init) => {
      if (init.method === 'GET' && String(url).includes('code=') && !raced) {
        raced = true;
        await woo.ensureCoupon(coupon, opts); // the other worker wins
        return new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } });
      }
      return fetch(url, init);
    },
  });
  assert.equal((await racing.ensureCoupon(coupon, opts)).created, false);
  assert.equal(store.coupons().filter((c) => c.code === coupon.code.toLowerCase()).length, 1);

  store.addMerchantCoupon('SUMMER-SALE');
  const err = await woo.ensureCoupon(engineCoupon({ code: 'summer-sale' }), opts).then(() => null, (e) => e);
  assert.equal(err.code, 'woocommerce_rest_coupon_code_already_exists');
  assert.equal(err.permanent, true);
  await assert.rejects(woo.deactivateCoupon('SUMMER-SALE'), /not created by loyalty-engine/);
  assert.ok(storeCoupon('summer-sale'), 'the merchant coupon is untouched');
});

test('deactivateCoupon deletes (or expires) the code and is idempotent', async () => {
  const coupon = engineCoupon();
  const { id } = await woo.ensureCoupon(coupon, opts);
  assert.deepEqual(await woo.deactivateCoupon(coupon.code), { id, done: true });
  assert.equal(storeCoupon(coupon.code), undefined);
  assert.deepEqual(await woo.deactivateCoupon(coupon.code), { id: null, done: true });

  const kept = engineCoupon();
  await woo.ensureCoupon(kept, opts);
  const now = Date.parse('2026-11-20T12:00:00Z');
  await woo.deactivateCoupon(kept.code, { mode: 'expire', timezone: 'Europe/Oslo', now });
  assert.equal(storeCoupon(kept.code).date_expires, now);
});

test('bad keys: a 401 whose message names the key', async () => {
  const wrongSecret = connectWooStore({ url: store.url, key: store.key, secret: 'cs_wrong', webhookUrl: HOOK_URL });
  await assert.rejects(wrongSecret, (e) => e instanceof StoreApiError && e.status === 401 && e.permanent
    && e.code === 'woocommerce_rest_authentication_error' && e.message.includes('ck_…cdef') && /Consumer secret is invalid/.test(e.message));
  const unknownKey = connectWooStore({ url: store.url, key: 'ck_unknown_key_00000000', secret: store.secret, webhookUrl: HOOK_URL });
  await assert.rejects(unknownKey, (e) => e.status === 401 && e.code === 'woocommerce_rest_cannot_view' && e.message.includes('ck_…0000'));
  const readOnly = await startWooStandin({ permissions: 'read' });
  try {
    const err = await connectWooStore({ url: readOnly.url, key: readOnly.key, secret: readOnly.secret, webhookUrl: HOOK_URL }).then(() => null, (e) => e);
    assert.equal(err.code, 'woocommerce_rest_authentication_error');
    assert.match(err.message, /does not have write permissions.*Read\/Write/);
    assert.equal(readOnly.webhooks().length, 0);
  } finally {
    await readOnly.close();
  }
  assert.throws(() => storeUrl('http://shop.example'), /must use https/);
  assert.equal(storeUrl('https://shop.example/store/'), 'https://shop.example/store');
});

test('the stand-in refuses what WooCommerce would refuse or silently drop', async () => {
  const post = (body) => woo.call('POST', '/coupons', { body }).then(() => null, (e) => e);
  let err = await post({ code: 'enum-check', discount_type: 'percentage', amount: '5' });
  assert.equal(err.code, 'rest_invalid_param');
  assert.equal(err.status, 400);
  assert.equal(err.details.data.params.discount_type, 'discount_type is not one of percent, fixed_cart, and fixed_product.');
  assert.equal(err.permanent, true);

  err = await post({ code: 'type-check', amount: 5, usage_limit: 'once' });
  assert.deepEqual(err.details.data.params, { amount: 'amount is not of type string.', usage_limit: 'usage_limit is not of type integer.' });

  err = await post({ code: 'unknown-field', amount: '5', expiry_date: '2026-12-01' });
  assert.equal(err.code, 'standin_unknown_field');
  assert.match(err.details.data.params.expiry_date, /not a property of the shop_coupon schema/);

  err = await post({ code: 'gmt-field', amount: '5', date_expires_gmt: '2026-12-01T00:00:00' });
  assert.match(err.details.data.params.date_expires_gmt, /no set_date_expires_gmt/);

  err = await post({ amount: '5' });
  assert.equal(err.code, 'rest_missing_callback_param');

  err = await woo.call('POST', '/webhooks', { body: { topic: 'order.paid', delivery_url: HOOK_URL } }).then(() => null, (e) => e);
  assert.equal(err.code, 'woocommerce_rest_shop_webhook_invalid_topic');

  err = await woo.call('GET', '/coupons/999999').then(() => null, (e) => e);
  assert.equal(err.code, 'woocommerce_rest_shop_coupon_invalid_id');
  assert.equal(err.status, 404);

  // Query parameters, as WordPress checks the route's declared args: WooCommerce's own error shape.
  const get = (path, query) => woo.call('GET', path, { query }).then(() => null, (e) => e);
  for (const [path, query, param, message] of [
    ['/coupons', { per_page: 101 }, 'per_page', 'per_page must be between 1 (inclusive) and 100 (inclusive)'],
    ['/coupons', { per_page: 0 }, 'per_page', 'per_page must be between 1 (inclusive) and 100 (inclusive)'],
    ['/webhooks', { per_page: 'all' }, 'per_page', 'per_page is not of type integer.'],
    ['/webhooks', { page: 0 }, 'page', 'page must be greater than or equal to 1'],
    ['/webhooks', { status: 'paused', orderby: 'name' }, 'orderby', 'orderby is not one of date, id, and title.'],
  ]) {
    err = await get(path, query);
    assert.ok(err instanceof StoreApiError, `${path} ${JSON.stringify(query)}`);
    assert.deepEqual([err.status, err.code, err.permanent], [400, 'rest_invalid_param', true]);
    assert.deepEqual(err.details, { code: 'rest_invalid_param', message: `Invalid parameter(s): ${param}`, data: { status: 400, params: { [param]: message } } });
  }
  assert.equal((await woo.call('GET', '/coupons', { query: { per_page: 100, page: 1, code: 'nothing-here' } })).body.length, 0, 'the client\'s own queries pass');
  const hook = (await woo.call('POST', '/webhooks', { body: { name: 'q', topic: 'order.created', delivery_url: HOOK_URL, secret: 's', status: 'active' } })).body;
  err = await woo.call('DELETE', `/webhooks/${hook.id}`, { query: { force: 'yes' } }).then(() => null, (e) => e);
  assert.deepEqual([err.status, err.code, err.details.data.params], [400, 'rest_invalid_param', { force: 'force is not of type boolean.' }]);
  assert.ok(store.webhooks().some((w) => w.id === hook.id), 'a refused DELETE deletes nothing');
  await woo.call('DELETE', `/webhooks/${hook.id}`, { query: { force: 'true' } });
  err = await get('/coupons', { per_pgae: 5 });
  assert.equal(err.code, 'standin_unknown_field', 'a misspelt parameter WordPress would ignore');
  assert.match(err.details.data.params.per_pgae, /not a parameter of this route/);

  // Mirroring WooCommerce instead: the unknown field is dropped without a word.
  const lax = await startWooStandin({ unknownFields: 'ignore' });
  try {
    const c = createWooRestClient({ url: lax.url, key: lax.key, secret: lax.secret });
    await c.call('POST', '/coupons', { body: { code: 'lax', amount: '5', expiry_date: '2026-12-01', date_expires_gmt: '2026-12-01T00:00:00' } });
    assert.equal(lax.coupons()[0].date_expires, null);
    assert.equal((await c.call('GET', '/coupons', { query: { per_pgae: 5 } })).body.length, 1, 'an undeclared query parameter is ignored');
    await assert.rejects(c.call('GET', '/coupons', { query: { per_page: 500 } }), { code: 'rest_invalid_param' });
  } finally {
    await lax.close();
  }
});

test('customer tokens: signed, verified, and refused when forged, expired or for another shop', () => {
  const secret = 'token-secret-0123456789';
  const now = Date.parse('2026-12-06T12:00:00Z');
  const token = signCustomerToken({ shop: 'shop-1', customer: '42', expiresAt: now + 15 * 60_000 }, secret, { now });
  assert.deepEqual(verifyCustomerToken(token, secret, { now, shop: 'shop-1' }), { shop: 'shop-1', customer: '42', expiresAt: now + 15 * 60_000 });
  assert.deepEqual(verifyCustomerToken(token, ['new-secret-0123456789', secret], { now }).customer, '42');
  assert.equal(tokenShop(token), 'shop-1');
  assert.equal(tokenShop('garbage'), null);
  assert.equal(tokenShop(undefined), null);

  const refused = (t, s = secret, o = { now }) => {
    try {
      verifyCustomerToken(t, s, o);
    } catch (e) {
      assert.equal(e.code, 'bad_token');
      return e.path;
    }
    assert.fail('accepted');
  };
  const [payload, sig] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ shop: 'shop-1', customer: '43', exp: Math.floor(now / 1000) + 600 })).toString('base64url');
  assert.equal(refused(`${forged}.${sig}`), 'token');
  assert.equal(refused(`${payload}.${sig.slice(0, -2)}AA`), 'token');
  assert.equal(refused(token, 'another-secret-0123456'), 'token');
  assert.equal(refused(token, secret, { now: now + 15 * 60_000 }), 'token.exp');
  assert.equal(refused(token, secret, { now, shop: 'shop-2' }), 'token.shop');
  assert.equal(refused('nonsense'), 'token');
  assert.equal(refused(`${payload}.${sig}.x`), 'token');
  // A token signed (elsewhere) for a day is refused: lifetimes are bounded.
  const long = Buffer.from(JSON.stringify({ shop: 'shop-1', customer: '42', exp: Math.floor(now / 1000) + 86_400 })).toString('base64url');
  assert.equal(refused(`${long}.${createHmac('sha256', secret).update(long).digest('base64url')}`), 'token.exp');
  assert.throws(() => signCustomerToken({ shop: 'shop-1', customer: '42', expiresAt: now + MAX_TOKEN_LIFETIME_MS + 1000 }, secret, { now }), /more than 1 hour/);
  assert.throws(() => signCustomerToken({ shop: 'shop-1', customer: 42, expiresAt: now + 1000 }, secret, { now }), /customer/);
  assert.throws(() => signCustomerToken({ shop: 'shop-1', customer: '42', expiresAt: now + 1000 }, 'short', { now }), /at least 16/);
});

test('429 and 5xx are retryable with Retry-After; other 4xx and non-JSON answers are permanent', async () => {
  const answer = (status, body, headers = {}) => createWooRestClient({
    url: 'https://shop.example', key: 'ck_test_key_12345678', secret: 'cs_x',
    fetch: async () => new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } }),
  });
  let err = await answer(503, '{"code":"internal_server_error","message":"Down","data":{"status":503}}', { 'retry-after': '120' }).findCoupon('x').catch((e) => e);
  assert.deepEqual([err.code, err.status, err.permanent, err.retryAfterMs], ['internal_server_error', 503, false, 120_000]);
  err = await answer(429, 'Too Many Requests', {}).findCoupon('x').catch((e) => e);
  assert.deepEqual([err.code, err.permanent, err.retryAfterMs], ['http_429', false, 30_000]);
  err = await answer(400, '{"code":"rest_invalid_param","message":"Invalid parameter(s): amount","data":{"status":400,"params":{"amount":"amount is not of type string."}}}').findCoupon('x').catch((e) => e);
  assert.deepEqual([err.code, err.permanent, err.retryAfterMs], ['rest_invalid_param', true, undefined]);
  assert.match(err.message, /amount is not of type string/);
  err = await answer(301, '', { location: 'https://www.shop.example/wp-json/wc/v3/coupons' }).ensureCoupon(engineCoupon(), opts).catch((e) => e);
  assert.deepEqual([err.code, err.permanent], ['http_301', true]);
  assert.match(err.message, /redirects \(301\) to https:\/\/www\.shop\.example/);
  err = await answer(200, '<!doctype html><p>Hello world</p>').findCoupon('x').catch((e) => e);
  assert.deepEqual([err.code, err.permanent], ['not_json', true]);
});

test('deliveries after connect are signed with the secret connect set, and a revived webhook delivers again', async () => {
  const received = [];
  let answer = 200;
  let adapter;
  const backend = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const ok = adapter.verify(req.headers, raw);
      received.push({ ok, topic: req.headers['x-wc-webhook-topic'], source: req.headers['x-wc-webhook-source'], events: ok ? adapter.toEvents(req.headers, raw) : null });
      res.writeHead(ok ? answer : 401).end();
    });
  });
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  try {
    const hookUrl = `http://127.0.0.1:${backend.address().port}/webhooks/woocommerce/shop-9`;
    const shop = await connectWooStore({ url: store.url, key: store.key, secret: store.secret, webhookUrl: hookUrl });
    adapter = createWooAdapter({ secrets: [shop.webhookSecret] });
    const order = { ...JSON.parse(readFileSync(join(FIXTURES, 'woocommerce_order_official_docs_v3_727_created.json'), 'utf8')), customer_id: 42 };
    assert.deepEqual((await store.deliver('order.created', order, { only: hookUrl })).map((d) => d.status), [200]);
    assert.equal(received[0].ok, true);
    assert.equal(received[0].events.events[0].id, 'woo:order:727:placed');
    // The shop is found by X-WC-Webhook-Source (home_url('/')): connect's `domain` is that URL.
    assert.equal(received[0].source.replace(/\/+$/, ''), shop.domain);

    // The backend down: WooCommerce disables the webhook past 5 failures; connecting again revives it.
    answer = 503;
    for (let i = 0; i < 7; i++) await store.deliver('order.updated', order, { only: hookUrl });
    const updated = store.webhooks().find((w) => w.delivery_url === hookUrl && w.topic === 'order.updated');
    assert.equal(updated.status, 'disabled');
    answer = 200;
    const again = await connectWooStore({ url: store.url, key: store.key, secret: store.secret, webhookUrl: hookUrl, webhookSecret: shop.webhookSecret });
    assert.ok(again.webhooks.every((w) => !w.created));
    received.length = 0;
    assert.deepEqual((await store.deliver('order.updated', order, { only: hookUrl })).map((d) => d.status), [200]);
    assert.equal(received[0].ok, true);
  } finally {
    backend.close();
  }
});
