// The demo: a few customers with balances on first start, a signed sample Shopify order,
// and what to open. Event ids are fixed, so seeding twice changes nothing.
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const DAY = 86_400_000;

// The demo's owner operator: printed in the banner, created only by `npm start`'s demo seed
// (demo mode refuses to run beside production settings, js/server/config.js).
export const DEMO_OWNER = { name: 'owner', password: 'demo-owner-password' };

/** Creates the demo owner operator of `shop` unless the shop has operators. Returns true when it did. */
export async function seedDemoOwner(db, shop) {
  const { createOperator, countOperators } = await import('./operators.js');
  if (!db || (await countOperators(db, shop)) > 0) return false;
  await createOperator(db, shop, { ...DEMO_OWNER, role: 'owner', display_name: 'Demo owner', by: 'demo' });
  return true;
}

function order(id, customer, at, currency, lines) {
  return {
    id: `demo:${id}:placed`, type: 'order.placed', at, customer,
    order: { id, currency, lines, shipping: '4.90', tax: '0.00', taxes_included: true, coupon_codes: [] },
  };
}
const line = (id, sku, quantity, unit_price) => ({ id, sku, product_id: null, categories: [], quantity, unit_price, discount: '0.00' });

/** Seeds demo-1..3 unless demo-1 exists. Returns true when it seeded. */
export async function seedDemo(loyalty, now = new Date()) {
  if (await loyalty.account('demo-1')) return false;
  const cur = loyalty.program.currency;
  const at = (daysAgo) => new Date(now.getTime() - daysAgo * DAY).toISOString();
  const results = await loyalty.handleMany([
    order('demo-1001', 'demo-1', at(40), cur, [line('l1', 'MUG', 2, '14.75'), line('l2', 'COAT', 1, '360.00')]),
    order('demo-1002', 'demo-1', at(12), cur, [line('l1', 'BOOTS', 1, '180.00')]),
    order('demo-1003', 'demo-2', at(20), cur, [line('l1', 'SCARF', 1, '129.90')]),
    order('demo-1004', 'demo-3', at(5), cur, [line('l1', 'SOCKS', 3, '15.00')]),
    { id: 'demo:welcome:demo-3', type: 'points.adjusted', at: at(5), customer: 'demo-3', points: 100, reason: 'welcome bonus', by: 'demo' },
  ]);
  const failed = results.filter((r) => r.error);
  if (failed.length) throw new Error(`demo seed failed: ${JSON.stringify(failed[0].error)}`);
  return true;
}

/** A Shopify orders/paid body in the program currency, as Shopify shapes it. */
export function sampleShopifyOrder({ id = String(Date.now()), customer = 'demo-2', currency = 'EUR', at = new Date().toISOString() } = {}) {
  const money = (amount) => ({ shop_money: { amount, currency_code: currency }, presentment_money: { amount, currency_code: currency } });
  return {
    id: Number(id), admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#${id.slice(-4)}`,
    created_at: at, processed_at: at, currency, financial_status: 'paid', cancelled_at: null, taxes_included: false,
    customer: { id: customer, email: 'customer@example.com' },
    discount_codes: [],
    line_items: [
      { id: 1, admin_graphql_api_id: `gid://shopify/LineItem/${id}1`, product_id: 1, sku: 'TEE', product_type: 'apparel',
        quantity: 2, price: '24.50', price_set: money('24.50'), total_discount: '0.00', discount_allocations: [] },
    ],
    shipping_lines: [{ id: 1, price: '4.90', price_set: money('4.90'), discount_allocations: [] }],
    total_tax: '0.00', total_tax_set: money('0.00'), total_price: '53.90',
  };
}

export const sign = (secret, body) => createHmac('sha256', secret).update(body).digest('base64');

/** Writes the sample body into the data folder and returns the banner to print. */
export function demoBanner({ url, config }) {
  // Not inside the data folder: that is PGlite's PGDATA.
  const dir = join(tmpdir(), 'loyalty-demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'sample-shopify-order.json');
  const body = JSON.stringify(sampleShopifyOrder({ id: '5550001', currency: JSON.parse(config.program).currency }));
  writeFileSync(file, body);
  const secret = config.shopifySecrets[0];
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    '',
    `loyalty backend listening on ${url}  (store: ${config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`})`,
    '',
    'The admin panel (customers, the program editor with preview and publish, audit log):',
    `  ${url}/admin   sign in as operator ${DEMO_OWNER.name}, password ${DEMO_OWNER.password} (demo only), or with the token ${config.token}`,
    '',
    'Open:',
    `  curl -H ${q(`Authorization: Bearer ${config.token}`)} ${url}/api/customers/demo-1`,
    `  curl -H ${q(`Authorization: Bearer ${config.token}`)} ${url}/api/customers/demo-1/history`,
    `  ${url}/openapi.json     ${url}/health`,
    '',
    'Send a signed sample Shopify order (orders/paid, customer demo-2, +490 points once, however often you send it):',
    `  curl -sS -X POST ${url}/webhooks/shopify -H 'Content-Type: application/json' -H 'X-Shopify-Topic: orders/paid' -H "X-Shopify-Webhook-Id: $(date +%s%N)" -H "X-Shopify-Hmac-Sha256: $(openssl dgst -sha256 -hmac ${q(secret)} -binary ${q(file)} | base64)" --data-binary @${q(file)}`,
    'or a new order each time:',
    `  node js/cli/loyalty.js send-sample --url ${url}${config.demo ? '' : ' --secret $SHOPIFY_SECRET'}`,
    '',
  ].join('\n');
}
