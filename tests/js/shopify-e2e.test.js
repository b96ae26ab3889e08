// The loop in a Shopify store, end to end, against the local Shopify stand-in over real
// HTTP (tests/js/standins/shopify.js): install by OAuth -> webhook subscriptions ->
// signed orders/paid until the threshold -> one discount in the store with exactly the
// coupon's terms -> an order with the code marks it used -> a tick past another coupon's
// expiry deactivates it -> a crash between the ledger commit and the Admin call still
// gives one discount -> app/uninstalled stops calls -> shop/redact removes that shop's rows
// and no other's. On PGlite, and on PostgreSQL when DATABASE_URL is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShopifyStandin, signProxyQuery, signSessionToken } from './standins/shopify.js';
import { serverConfig } from '../../js/server/config.js';
import { serve } from '../../js/server/serve.js';
import { sampleShopifyOrder } from '../../js/server/demo.js';
import { testDatabases, DATABASE_URL } from './databases.js';
import { smtpSink } from './smtp-sink.js';
import { launch } from './fixtures/component-page.js';

const API_KEY = 'e2e-api-key';
const API_SECRET = 'e2e-api-secret-0123456789';
const BROWSER = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36' };
const scratch = mkdtempSync(join(tmpdir(), 'loyalty-shopify-e2e-'));
const dbs = testDatabases('shopify_e2e');
let standin;
let smtp;
let port;

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

before(async () => {
  port = await freePort();
  smtp = await smtpSink();
  standin = await startShopifyStandin({ apiKey: API_KEY, apiSecret: API_SECRET, defaultShop: 'default.myshopify.com', currency: 'EUR', allowedRedirects: [`http://127.0.0.1:${port}/shopify/auth/callback`] });
});
after(async () => {
  await standin?.close();
  await smtp?.close();
  rmSync(scratch, { recursive: true, force: true });
});

// The seed program: 10 points per EUR, 5000 points give a 10% coupon (min 100.00, 30 days).
const programFile = join(scratch, 'seed.json');
writeFileSync(programFile, JSON.stringify({ ...JSON.parse((await import('node:fs')).readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8')) }));

async function start(where, extra = {}) {
  const env = {
    ...extra,
    LOYALTY_TOKEN: 'e2e-token', LOYALTY_SECRET: 'e2e-coupon-secret',
    SHOPIFY_API_KEY: API_KEY, SHOPIFY_API_SECRET: API_SECRET, SHOPIFY_APP_URL: `http://127.0.0.1:${port}`,
    SCOPES: 'write_discounts,read_orders,read_customers', SHOPIFY_ADMIN_ORIGIN: standin.adminOrigin,
    // Shopify delivers to https only: behind a tunnel in production, posted directly here.
    SHOPIFY_WEBHOOK_URL: 'https://loyalty.example.com/webhooks/shopify',
    LOYALTY_ENCRYPTION_KEY: where.key, NOTIFY_SECONDS: '0', LOYALTY_TICK_SECONDS: '0',
    SMTP_URL: smtp.url, MAIL_FROM: 'rewards@shop.example',
    ...(where.databaseUrl ? { DATABASE_URL: where.databaseUrl } : {}),
  };
  const config = { ...serverConfig({ program: programFile, data: where.dataDir, port }, env), env };
  return serve(config, { logger: false });
}

const cookieHeader = (res) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

/** The merchant clicks "install": /shopify/auth -> Shopify's authorize -> our callback. */
async function install(base, shop) {
  const begin = await fetch(`${base}/shopify/auth?shop=${shop}`, { redirect: 'manual', headers: BROWSER });
  assert.equal(begin.status, 302, await begin.clone().text());
  const approved = await fetch(begin.headers.get('location'), { redirect: 'manual' });
  const done = await fetch(approved.headers.get('location'), { redirect: 'manual', headers: { ...BROWSER, cookie: cookieHeader(begin) } });
  assert.equal(done.status, 302, await done.clone().text());
}

const sign = (body) => createHmac('sha256', API_SECRET).update(body).digest('base64');
let deliveries = 0;
async function webhook(base, shop, topic, body) {
  const raw = Buffer.from(JSON.stringify(body));
  return fetch(`${base}/webhooks/shopify`, {
    method: 'POST', body: raw,
    headers: { 'content-type': 'application/json', 'x-shopify-topic': topic, 'x-shopify-shop-domain': shop, 'x-shopify-webhook-id': `d-${deliveries++}`, 'x-shopify-hmac-sha256': sign(raw) },
  });
}
const paid = (id, customer, amount, at, codes = []) => ({
  ...sampleShopifyOrder({ id, customer, currency: 'EUR', at }),
  customer: { id: Number(customer), admin_graphql_api_id: `gid://shopify/Customer/${customer}`, email: `c${customer}@example.no`, first_name: 'Kari' },
  customer_locale: 'nb',
  discount_codes: codes.map((code) => ({ code, amount: '0.00', type: 'percentage' })),
  line_items: [{ id: Number(`${id}1`), admin_graphql_api_id: `gid://shopify/LineItem/${id}1`, product_id: 1, sku: 'X', quantity: 1, price: amount,
    price_set: { shop_money: { amount, currency_code: 'EUR' } }, total_discount: '0.00', discount_allocations: [] }],
});

const backends = { pglite: async () => ({ dataDir: await dbs.pgliteDir(), key: randomBytes(32).toString('base64') }) };
if (DATABASE_URL) backends.postgres = async () => ({ databaseUrl: await dbs.postgresUrl(), dataDir: join(scratch, 'unused'), key: randomBytes(32).toString('base64') });

for (const [name, where] of Object.entries(backends)) {
  test(`${name}: install, earn, a real discount in the store, used, expired, crash-safe, uninstalled, redacted`, async () => {
    // Shops of their own per backend: the stand-in outlives both runs.
    const SHOP = `${name}-store.myshopify.com`;
    const OTHER = `${name}-other.myshopify.com`;
    const place = await where();
    let server = await start(place);
    const base = server.url;
    try {
      // Install: the token is stored sealed, the subscriptions registered once.
      await install(base, SHOP);
      await install(base, OTHER);
      const shop = await server.registry.byDomain('shopify', SHOP);
      assert.match(shop.secrets.access_token, /^shpat_/);
      const { rows: [sealed] } = await server.store.db.query('SELECT secrets FROM shops WHERE id = $1', [shop.id]);
      assert.ok(!sealed.secrets.includes(shop.secrets.access_token), 'the token is encrypted at rest');
      assert.deepEqual(standin.subscriptions(SHOP).map((s) => s.topic).sort(),
        ['APP_UNINSTALLED', 'CUSTOMERS_CREATE', 'CUSTOMERS_UPDATE', 'ORDERS_CANCELLED', 'ORDERS_PAID', 'REFUNDS_CREATE']);
      await install(base, SHOP); // a reinstall registers nothing twice
      assert.equal(standin.subscriptions(SHOP).length, 6);

      // The customer signs up in the store: their address, name, language and consent are kept.
      let res = await webhook(base, SHOP, 'customers/create', {
        id: 7001, admin_graphql_api_id: 'gid://shopify/Customer/7001', email: 'c7001@example.no', first_name: 'Kari', locale: 'nb',
        created_at: '2026-11-30T10:00:00+01:00', updated_at: '2026-11-30T10:00:00+01:00', email_marketing_consent: { state: 'subscribed' },
      });
      assert.equal(res.status, 200, await res.text());
      const { rows: [contact] } = await server.store.db.query('SELECT email, name, locale, marketing FROM notify_contacts WHERE program = $1 AND customer = $2', [shop.id, '7001']);
      assert.deepEqual(contact, { email: 'c7001@example.no', name: 'Kari', locale: 'nb', marketing: true });

      // Orders until the threshold: 300 + 250 EUR = 5500 points -> one 10% coupon.
      for (const [id, amount] of [['1001', '300.00'], ['1002', '250.00']]) {
        const res = await webhook(base, SHOP, 'orders/paid', paid(id, '7001', amount, '2026-12-01T10:00:00+01:00'));
        assert.equal(res.status, 200, await res.text());
      }
      // The same order for the other shop lands in the other shop's ledger only.
      assert.equal((await webhook(base, OTHER, 'orders/paid', paid('1001', '7001', '300.00', '2026-12-01T10:00:00+01:00'))).status, 200);
      let loyalty = server.registry.loyalty(await server.registry.get(shop.id));
      // Each installed shop's admin, inside the Shopify admin: its session token reaches its
      // own ledger only (the same customer id in the other shop is another account).
      const session = (domain) => ({ authorization: `Bearer ${signSessionToken(API_SECRET, { apiKey: API_KEY, shop: domain })}`, 'content-type': 'application/json' });
      let seen = await fetch(`${base}/api/customers/7001`, { headers: session(OTHER) });
      assert.equal(seen.status, 200, await seen.clone().text());
      assert.equal((await seen.json()).balance, 3000);
      seen = await fetch(`${base}/api/customers/7001/adjust`, { method: 'POST', headers: session(OTHER), body: JSON.stringify({ points: 5, reason: 'goodwill', by: 'anyone' }) });
      assert.equal(seen.status, 200, await seen.clone().text());
      assert.equal((await seen.json()).account.balance, 3005);
      seen = await fetch(`${base}/api/customers/7001`, { headers: session(SHOP) });
      assert.equal((await seen.json()).balance, 500, 'the other shop\'s grant did not touch this one');
      seen = await fetch(`${base}/api/customers/7001`, { headers: session('never-installed.myshopify.com') });
      assert.equal(seen.status, 401);
      if (name === 'pglite') {
        // The admin page as the Shopify admin frames it: App Bridge (stood in for: Shopify's
        // CDN cannot be reached) hands out session tokens; the page finds the other shop's
        // customer by id, with the balance of that shop's ledger.
        const page0 = await fetch(`${base}/admin?shop=${OTHER}&host=x`);
        assert.match(page0.headers.get('content-security-policy'), new RegExp(`frame-ancestors https://${OTHER} https://admin.shopify.com`));
        assert.match(await page0.text(), /app-bridge\.js/);
        const browser = await launch();
        try {
          const page = await browser.newPage();
          await page.route('https://cdn.shopify.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
          const jwt = signSessionToken(API_SECRET, { apiKey: API_KEY, shop: OTHER, expiresIn: 600 });
          await page.addInitScript((token) => { window.shopify = { idToken: async () => token }; }, jwt);
          await page.goto(`${base}/admin?shop=${OTHER}&host=x`);
          await page.fill('loyalty-admin >> #q', '7001');
          await page.click('loyalty-admin >> #search button[type=submit]');
          await page.waitForSelector('loyalty-admin >> #account[data-customer="7001"]');
          assert.match(await page.textContent('loyalty-admin >> #account'), /3,?005/);
        } finally {
          await browser.close();
        }
      }
      const account = await loyalty.account('7001');
      assert.equal(account.balance, 500);
      const [coupon] = account.coupons;
      // A crash before the Admin call: the server stops with the outbox not yet delivered.
      await server.close();
      server = await start(place);
      loyalty = server.registry.loyalty(await server.registry.get(shop.id));
      // The create times out after Shopify committed it (the look-up before it passes): the
      // retry finds the code and creates nothing.
      const creates = () => standin.calls().filter((x) => x.fields?.includes('discountCodeBasicCreate') && x.shop === SHOP).length;
      standin.failNext(undefined);
      standin.failNext({ kind: 'drop-after-commit' });
      await server.workers.dispatcher(shop.id).drain();
      assert.deepEqual(standin.discounts(SHOP), [coupon.code], 'Shopify did create it, though the answer was lost');
      await server.store.db.query("UPDATE outbox SET next_attempt_at = now() - interval '1 second' WHERE status = 'pending'");
      await server.workers.dispatcher(shop.id).drain();
      assert.deepEqual(standin.discounts(SHOP), [coupon.code], 'exactly one discount, however often it was tried');
      assert.equal(creates(), 1);
      const d = standin.discount(coupon.code, SHOP);
      assert.equal(d.kind, 'basic');
      assert.equal(d.input.customerGets.value.percentage, 0.1);
      assert.equal(d.input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal, '100.00');
      assert.ok(d.input.endsAt && coupon.expires_at);
      assert.equal(Date.parse(d.input.endsAt), Date.parse(coupon.expires_at));
      assert.equal(d.input.usageLimit, 1);
      assert.equal(d.input.appliesOncePerCustomer, true);
      assert.deepEqual(d.input.context.customers.add, ['gid://shopify/Customer/7001']);
      const { rows: [synced] } = await server.store.db.query('SELECT store_id, sync_status FROM coupons WHERE program = $1 AND code = $2', [shop.id, coupon.code]);
      assert.deepEqual(synced, { store_id: d.id, sync_status: 'synced' });
      assert.deepEqual(standin.discounts(OTHER), [], 'the other shop got none: it has no coupon');

      // The storefront, through Shopify's App Proxy: the customer sees only their own account.
      const proxy = (params) => {
        const q = { shop: SHOP, path_prefix: '/apps/loyalty', timestamp: String(Math.floor(Date.now() / 1000)), ...params };
        q.signature = signProxyQuery(API_SECRET, q);
        return fetch(`${base}/proxy/loyalty/account?${new URLSearchParams(q)}`);
      };
      let page = await proxy({ logged_in_customer_id: '7001' });
      assert.equal(page.status, 200, await page.clone().text());
      assert.deepEqual((await page.json()).coupons.map((c) => c.code), [coupon.code]);
      page = await proxy({ logged_in_customer_id: '7001', customer: '7002' });
      assert.equal(page.status, 403, 'another customer named in the query');
      page = await proxy({});
      assert.equal(page.status, 401, 'nobody logged in');
      const forged = new URLSearchParams({ shop: SHOP, logged_in_customer_id: '7001', timestamp: String(Math.floor(Date.now() / 1000)), signature: '0'.repeat(64) });
      assert.equal((await fetch(`${base}/proxy/loyalty/account?${forged}`)).status, 401, 'a forged signature');

      // The reward email reached the address the store gave, in the customer's language, with the code.
      const mail = smtp.accepted.find((m) => m.envelope.includes('c7001@example.no') && m.text?.includes(coupon.code));
      assert.ok(mail, `a reward email with ${coupon.code}`);
      assert.match(mail.subject, /Belønningen din er klar/);

      // The customer types the code at checkout; the order carries it: used, in that apply.
      res = await webhook(base, SHOP, 'orders/paid', paid('1003', '7001', '120.00', '2026-12-05T10:00:00+01:00', [coupon.code]));
      assert.equal(res.status, 200, await res.text());
      assert.equal((await loyalty.account('7001')).coupons.find((c) => c.code === coupon.code).status, 'used');

      // Another coupon, never used: a tick past its expiry deactivates it in the store.
      await webhook(base, SHOP, 'orders/paid', paid('1004', '7002', '500.00', '2026-12-05T10:00:00+01:00'));
      const [unused] = (await loyalty.account('7002')).coupons;
      await server.workers.dispatcher(shop.id).drain();
      assert.equal(standin.discount(unused.code, SHOP).deactivated, false);
      await loyalty.tick(new Date(Date.parse(unused.expires_at) + 1000));
      await server.workers.dispatcher(shop.id).drain();
      assert.equal(standin.discount(unused.code, SHOP).deactivated, true);

      // Uninstalled: no further call reaches the store.
      res = await webhook(base, SHOP, 'app/uninstalled', { id: 1, name: 'e2e', domain: 'e2e.example', myshopify_domain: SHOP });
      assert.equal(res.status, 200, await res.text());
      const calls = standin.calls().length;
      await loyalty.adjust('7003', { points: 6000, reason: 'goodwill', by: 'owner' }); // issues a coupon
      await server.workers.refresh();
      await server.store.db.query("UPDATE outbox SET next_attempt_at = now() - interval '1 second' WHERE status = 'pending'");
      const stale = server.workers.dispatcher(shop.id);
      assert.equal(stale, null, 'the uninstalled shop has no running dispatcher');
      assert.equal(standin.calls().length, calls);

      // shop/redact: that shop's rows go, the other shop's stay.
      res = await webhook(base, SHOP, 'shop/redact', { shop_id: 1, shop_domain: SHOP });
      assert.equal(res.status, 200, await res.text());
      const count = async (program) => (await server.store.db.query('SELECT (SELECT count(*) FROM events WHERE program = $1)::int + (SELECT count(*) FROM accounts WHERE program = $1)::int AS n', [program])).rows[0].n;
      assert.equal(await count(shop.id), 0);
      const other = await server.registry.byDomain('shopify', OTHER);
      assert.ok((await count(other.id)) > 0, 'the other shop keeps its ledger');
      assert.equal(await server.registry.byDomain('shopify', SHOP), null);
    } finally {
      await server.close();
    }
  });
}

test('the admin embedded in Shopify: a session token of the admin\'s own shop signs in; another shop\'s, an expired or another app\'s does not', async () => {
  const place = await backends.pglite();
  const server = await start(place, { SHOPIFY_SECRETS: API_SECRET, SHOPIFY_SHOP_DOMAIN: 'embedded.myshopify.com' });
  const get = (jwt) => fetch(`${server.url}/api/customers?limit=5`, { headers: { authorization: `Bearer ${jwt}` } });
  try {
    let res = await get(signSessionToken(API_SECRET, { apiKey: API_KEY, shop: 'embedded.myshopify.com' }));
    assert.equal(res.status, 200, await res.text());
    res = await get(signSessionToken(API_SECRET, { apiKey: API_KEY, shop: 'someone-else.myshopify.com' }));
    assert.equal(res.status, 401, 'another shop\'s session');
    res = await get(signSessionToken(API_SECRET, { apiKey: API_KEY, shop: 'embedded.myshopify.com', expiresIn: -120 }));
    assert.equal(res.status, 401, 'expired');
    res = await get(signSessionToken(API_SECRET, { apiKey: 'another-app', shop: 'embedded.myshopify.com' }));
    assert.equal(res.status, 401, 'another app (aud)');
    res = await get(signSessionToken('not-the-secret-0123456789', { apiKey: API_KEY, shop: 'embedded.myshopify.com' }));
    assert.equal(res.status, 401, 'forged signature');
  } finally {
    await server.close();
  }
});
