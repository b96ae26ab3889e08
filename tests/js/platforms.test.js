// Platform adapters against every real fixture in shared/fixtures.
// Expected events are written out in full: ids exact beyond 2^53, amounts as strings.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { createShopifyAdapter } from '../../js/platforms/shopify.js';
import { createWooAdapter } from '../../js/platforms/woocommerce.js';
import { parseBody } from '../../js/platforms/json.js';
import { sum, subtract, abs, splitUnitPrice } from '../../js/platforms/amounts.js';
import { verifyHmac, wpSpecialcharsDecode } from '../../js/platforms/signature.js';
import { FIXTURES } from './fixtures.js';

// The mapped delivery without what rides along (the topic and the customer's contact).
const core = ({ contact, topic, ...rest }) => rest;

const DIR = FIXTURES;
const raw = (name) => readFileSync(`${DIR}/${name}`, 'utf8');

// Envelopes {headers, body, topic}: re-serialise the body losslessly, so the numbers
// stay exactly as stored (rounded ones included).
function envelope(name) {
  const env = losslessParse(raw(name));
  return { headers: env.headers, body: losslessStringify(env.body) };
}

// Edit a raw body without losing big ids.
function edit(text, fn) {
  const doc = losslessParse(text);
  fn(doc);
  return losslessStringify(doc);
}

// Independent of amounts.js: minor units by string surgery.
function units(amount, scale) {
  const [int, frac = ''] = amount.split('.');
  return BigInt(int + frac.padEnd(scale, '0'));
}
function netOfLines(order, scale) {
  return order.lines.reduce((acc, l) => acc + units(l.unit_price, scale) * BigInt(l.quantity) - units(l.discount, scale), 0n);
}

function throwsBadPayload(fn, fieldPattern) {
  assert.throws(fn, (e) => e.code === 'bad_payload' && fieldPattern.test(e.message));
}

const SHOP = { 'x-shopify-webhook-id': 'wh-1' };
const shopify = createShopifyAdapter({ secrets: ['s3cret'], earnOn: 'orders/create' });
const shopifyPaid = createShopifyAdapter({ secrets: ['s3cret'] }); // default earnOn orders/paid
const woo = createWooAdapter({ secrets: ['s3cret'] });

const uncancel = (text) => edit(text, (o) => { o.cancelled_at = null; o.financial_status = 'paid'; });

test('every fixture file is covered by a test below', () => {
  const covered = new Set([
    'README.md', 'hmac_vectors.json',
    'shopify_customers_redact_official_docs_2026-07.json',
    'shopify_order_rest_real_JPY_zero_decimal_with_tax.json',
    'shopify_orders_cancelled_hookdeck_2024-10_envelope_PRECISION_LOST.json',
    'shopify_orders_cancelled_real_HKD_with_refund.json',
    'shopify_orders_create_cli_sample_kanvas_compact.json',
    'shopify_orders_create_hookdeck_2024-10_envelope_PRECISION_LOST.json',
    'shopify_orders_create_official_docs_2026-07.json',
    'shopify_orders_create_real_AUD_gst_shipping.json',
    'shopify_orders_create_real_HKD_fixed_code_plus_automatic_discount_with_customer.json',
    'shopify_refunds_create_hookdeck_2024-10_envelope_PRECISION_LOST.json',
    'shopify_refunds_create_official_docs_2026-07.json',
    'woocommerce_customer_official_docs_v3.json',
    'woocommerce_order_official_docs_v3_723_with_refunds.json',
    'woocommerce_order_official_docs_v3_727_created.json',
    'woocommerce_order_updated_real_RUB_100pct_coupon_n8n_envelope.json',
    'woocommerce_order_updated_real_RUB_raw_body_reconstructed.json',
    'woocommerce_refund_official_docs_v3_724_with_line_item.json',
    'woocommerce_refund_official_docs_v3_726_amount_only.json',
  ]);
  assert.deepEqual(readdirSync(DIR).filter((f) => !covered.has(f)), []);
});

describe('json', () => {
  test('integers beyond 2^53 come out as exact strings, others as numbers', () => {
    const v = parseBody(Buffer.from('{"id": 820982911946154508, "small": 42, "price": 9.5, "neg": -9007199254740993}'));
    assert.deepEqual(v, { id: '820982911946154508', small: 42, price: 9.5, neg: '-9007199254740993' });
  });
  test('malformed JSON throws bad_payload naming the body', () => {
    throwsBadPayload(() => parseBody('{"id": 1,'), /^body: invalid JSON/);
  });
});

describe('amounts', () => {
  test('sum keeps the widest decimals, JPY stays integral', () => {
    assert.equal(sum(['3.20', '5.00']), '8.20');
    assert.equal(sum(['14090', '229']), '14319');
    assert.equal(sum([], 2), '0.00');
    assert.equal(sum([], 0), '0');
    assert.equal(sum(['0.1', '0.2']), '0.3'); // a float would give 0.30000000000000004
  });
  test('subtract and abs are exact, including signs', () => {
    assert.equal(subtract('1450.00', '0.00'), '1450.00');
    assert.equal(subtract('1.00', '1.25'), '-0.25');
    assert.equal(subtract('20.00', '20'), '0.00');
    assert.equal(abs('-10.00'), '10.00');
    assert.equal(abs('9.00'), '9.00');
  });
  test('splitUnitPrice rounds the unit price up and reports the excess', () => {
    assert.deepEqual(splitUnitPrice('10.00', 3, 2), { unit_price: '3.34', extra: '0.02' });
    assert.deepEqual(splitUnitPrice('6.00', 2, 2), { unit_price: '3.00', extra: '0.00' });
    assert.deepEqual(splitUnitPrice('100', 3, 0), { unit_price: '34', extra: '2' });
    assert.deepEqual(splitUnitPrice('0.00', 4, 2), { unit_price: '0.00', extra: '0.00' });
  });
  test('malformed amounts are bad_payload', () => {
    throwsBadPayload(() => sum(['1.2.3'], 0, 'x.amount'), /^x\.amount: not a decimal string/);
    throwsBadPayload(() => sum([12.5], 0, 'x.amount'), /^x\.amount: not a decimal string/);
  });
});

describe('signatures (hmac_vectors.json)', () => {
  const { vectors } = JSON.parse(raw('hmac_vectors.json'));
  const make = { shopify: createShopifyAdapter, woocommerce: createWooAdapter };
  const header = { shopify: 'x-shopify-hmac-sha256', woocommerce: 'x-wc-webhook-signature' };
  assert.ok(vectors.length >= 2);

  for (const v of vectors) {
    test(`${v.id}: right secret verifies; changed byte, wrong secret fail; previous secret verifies`, () => {
      const headers = { [header[v.platform]]: v.expected_signature };
      const body = Buffer.from(v.body, 'utf8');
      assert.equal(make[v.platform]({ secrets: [v.secret] }).verify(headers, body), true);
      assert.equal(make[v.platform]({ secrets: [v.secret] }).verify(headers, v.body), true); // string body too
      const changed = Buffer.from(body);
      changed[0] ^= 0x01;
      assert.equal(make[v.platform]({ secrets: [v.secret] }).verify(headers, changed), false);
      assert.equal(make[v.platform]({ secrets: [`${v.secret}x`] }).verify(headers, body), false);
      // During rotation the old secret sits after the new one and must still verify.
      assert.equal(make[v.platform]({ secrets: ['the-new-secret', v.secret] }).verify(headers, body), true);
      assert.equal(make[v.platform]({ secrets: [v.secret] }).verify({}, body), false); // no header
      const flipped = v.expected_signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      assert.equal(make[v.platform]({ secrets: [v.secret] }).verify({ [header[v.platform]]: flipped }, body), false);
    });
  }

  test('WooCommerce signs with the HTML-entity-decoded secret', () => {
    const body = raw('woocommerce_order_updated_real_RUB_raw_body_reconstructed.json');
    const sig = createHmac('sha256', `a&b'"<x>`).update(body).digest('base64');
    const headers = { 'x-wc-webhook-signature': sig };
    assert.equal(createWooAdapter({ secrets: ['a&amp;b&#039;&quot;&lt;x&gt;'] }).verify(headers, body), true);
    assert.equal(createWooAdapter({ secrets: [`a&b'"<x>`] }).verify(headers, body), true);
    assert.equal(wpSpecialcharsDecode('&amp;lt; &#39; &#x27; &#X22; &#0038;'), `&lt; ' ' " &`);
  });

  test('signatures cover the raw bytes: the re-serialised RUB body does not verify', () => {
    const body = raw('woocommerce_order_updated_real_RUB_raw_body_reconstructed.json');
    const sig = createHmac('sha256', 'k').update(body).digest('base64');
    assert.equal(verifyHmac(Buffer.from(body), sig, ['k']), true);
    assert.equal(verifyHmac(JSON.stringify(JSON.parse(body)), sig, ['k']), false);
  });

  test('adapters refuse to start without secrets', () => {
    assert.throws(() => createShopifyAdapter({ secrets: [] }), TypeError);
    assert.throws(() => createWooAdapter({}), TypeError);
    assert.throws(() => createShopifyAdapter({ secrets: ['x'], earnOn: 'orders/updated' }), TypeError);
  });
});

describe('Shopify', () => {
  const HKD = 'shopify_orders_create_real_HKD_fixed_code_plus_automatic_discount_with_customer.json';
  const hkdPlaced = {
    id: 'shopify:order:6200360403244:placed',
    type: 'order.placed',
    at: '2025-01-23T22:16:37-05:00',
    customer: '8658316394796',
    order: {
      id: '6200360403244',
      currency: 'HKD',
      lines: [
        { id: '15518818468140', sku: null, product_id: '9782123692332', categories: [], quantity: 1, unit_price: '99.00', discount: '8.20' },
        { id: '15518818500908', sku: null, product_id: '9797441945900', categories: [], quantity: 1, unit_price: '100.00', discount: '3.40' },
        { id: '15518818533676', sku: null, product_id: '9799208534316', categories: [], quantity: 1, unit_price: '100.00', discount: '3.40' },
      ],
      shipping: '20.00',
      tax: '0.00',
      taxes_included: false,
      coupon_codes: ['0124C'],
    },
  };

  test('HKD: code 3.20/3.40/3.40 plus automatic 5.00 from allocations; 299 - 15 + 20 = 304', () => {
    const r = shopify.toEvents({ ...SHOP, 'x-shopify-topic': 'orders/create' }, raw(HKD));
    assert.deepEqual(core(r), { kind: 'events', events: [hkdPlaced], deliveryId: 'wh-1' });
    const { order } = r.events[0];
    assert.equal(netOfLines(order, 2), 28400n);
    assert.equal(netOfLines(order, 2) + units(order.shipping, 2) + units(order.tax, 2), 30400n);
  });

  test('earnOn: orders/paid maps to the same event id; the other topic is ignored', () => {
    const body = raw(HKD);
    assert.deepEqual(shopifyPaid.toEvents({ 'x-shopify-topic': 'orders/paid' }, body).events, [hkdPlaced]);
    assert.deepEqual(shopifyPaid.toEvents({ 'x-shopify-topic': 'orders/create' }, body), { kind: 'ignored', reason: 'topic not handled' });
    assert.deepEqual(shopify.toEvents({ 'x-shopify-topic': 'orders/paid' }, body), { kind: 'ignored', reason: 'topic not handled' });
    const pending = edit(body, (o) => { o.financial_status = 'pending'; });
    assert.deepEqual(shopifyPaid.toEvents({ 'x-shopify-topic': 'orders/paid' }, pending), { kind: 'ignored', reason: 'financial_status pending' });
    // Partially paid earns nothing yet: orders/paid comes again when it is paid in full.
    const partial = edit(body, (o) => { o.financial_status = 'partially_paid'; });
    assert.deepEqual(shopifyPaid.toEvents({ 'x-shopify-topic': 'orders/paid' }, partial), { kind: 'ignored', reason: 'financial_status partially_paid' });
  });

  test('product_type becomes the line category; shipping discounts are netted', () => {
    const body = edit(raw(HKD), (o) => {
      o.line_items[1].product_type = 'Snowboards';
      o.shipping_lines[0].discount_allocations = [{ amount_set: { shop_money: { amount: '5.50', currency_code: 'HKD' } } }];
    });
    const { order } = shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, body).events[0];
    assert.deepEqual(order.lines.map((l) => l.categories), [[], ['Snowboards'], []]);
    assert.equal(order.shipping, '14.50');
  });

  test('AUD: 44.95 + GST 4.50 + shipping 10.00 = 59.45', () => {
    const r = shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, raw('shopify_orders_create_real_AUD_gst_shipping.json'));
    assert.deepEqual(core(r), {
      kind: 'events',
      deliveryId: null,
      events: [{
        id: 'shopify:order:2998557704341:placed',
        type: 'order.placed',
        at: '2020-12-27T08:23:56+11:00',
        customer: '4206822293653',
        order: {
          id: '2998557704341',
          currency: 'AUD',
          lines: [{ id: '6456927060117', sku: null, product_id: '6122640146581', categories: [], quantity: 1, unit_price: '44.95', discount: '0.00' }],
          shipping: '10.00',
          tax: '4.50',
          taxes_included: false,
          coupon_codes: [],
        },
      }],
    });
    const { order } = r.events[0];
    assert.equal(netOfLines(order, 2) + units(order.shipping, 2) + units(order.tax, 2), 5945n);
  });

  test('JPY: guest order is ignored; with a customer, 14090 + tax 229 with no decimals', () => {
    const body = raw('shopify_order_rest_real_JPY_zero_decimal_with_tax.json');
    assert.deepEqual(shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, body), { kind: 'ignored', reason: 'guest order' });
    const withCustomer = edit(body, (o) => { o.customer = { id: 77, admin_graphql_api_id: 'gid://shopify/Customer/77' }; });
    const r = shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, withCustomer);
    assert.deepEqual(r.events, [{
      id: 'shopify:order:4216042061977:placed',
      type: 'order.placed',
      at: '2021-11-19T18:44:45+09:00',
      customer: '77',
      order: {
        id: '4216042061977',
        currency: 'JPY',
        lines: [
          { id: '10806457958553', sku: '7801P1XS000000', product_id: '7130427162777', categories: [], quantity: 2, unit_price: '5900', discount: '0' },
          { id: '10806457991321', sku: '6401MI1S000000', product_id: '7130449739929', categories: [], quantity: 1, unit_price: '2290', discount: '0' },
        ],
        shipping: '0',
        tax: '229',
        taxes_included: false,
        coupon_codes: [],
      },
    }]);
    assert.equal(netOfLines(r.events[0].order, 0), 14090n);
  });

  // Shopify's templates are cancelled + voided orders: ignored as such, and mapped
  // exactly (big ids) once un-cancelled.
  const bigOrderCustomer = '115310627314723954';
  test('official orders/create sample (BIGINT): ignored as cancelled; exact ids once un-cancelled', () => {
    const body = raw('shopify_orders_create_official_docs_2026-07.json');
    assert.deepEqual(shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, body), { kind: 'ignored', reason: 'order cancelled' });
    const line = (id, sku, product_id, unit_price) => ({ id, sku, product_id, categories: [], quantity: 1, unit_price, discount: '0.00' });
    assert.deepEqual(shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, uncancel(body)).events, [{
      id: 'shopify:order:820982911946154508:placed',
      type: 'order.placed',
      at: '2021-12-31T19:00:00-05:00',
      customer: bigOrderCustomer,
      order: {
        id: '820982911946154508',
        currency: 'USD',
        lines: [
          line('487817672276298554', 'SKU2006-001', '788032119674292922', '89.99'),
          line('789012345678901234', 'LENS-PROTECT-2YR', null, '19.99'),
          line('890123456789012345', 'CASE-LEATHER-PREM', null, '24.99'),
          line('976318377106520349', 'SKU2006-020', '788032119674292922', '159.99'),
          line('315789986012684393', 'SKU2006-035', '788032119674292922', '119.99'),
        ],
        // The template's discounted_price says 0.00 with no allocation: we follow allocations.
        shipping: '10.00',
        tax: '0.00',
        taxes_included: false,
        coupon_codes: [],
      },
    }]);
  });

  test('CLI compact sample (BIGINT): exact ids from the raw body', () => {
    const body = raw('shopify_orders_create_cli_sample_kanvas_compact.json');
    assert.deepEqual(shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, body), { kind: 'ignored', reason: 'order cancelled' });
    const [event] = shopify.toEvents({ 'x-shopify-topic': 'orders/create' }, uncancel(body)).events;
    assert.deepEqual(event, {
      id: 'shopify:order:820982911946154508:placed',
      type: 'order.placed',
      at: '2024-06-26T12:33:21-04:00',
      customer: bigOrderCustomer,
      order: {
        id: '820982911946154508',
        currency: 'USD',
        lines: [
          { id: '866550311766439020', sku: null, product_id: '9313716535612', categories: [], quantity: 1, unit_price: '885.95', discount: '0.00' },
          { id: '141249953214522974', sku: null, product_id: '9313716601148', categories: [], quantity: 1, unit_price: '699.95', discount: '0.00' },
        ],
        shipping: '10.00',
        tax: '0.00',
        taxes_included: false,
        coupon_codes: [],
      },
    });
    assert.equal(netOfLines(event.order, 2), 158590n);
  });

  test('PRECISION_LOST orders/create envelope: ids recovered from admin_graphql_api_id', () => {
    const { headers, body } = envelope('shopify_orders_create_hookdeck_2024-10_envelope_PRECISION_LOST.json');
    assert.match(body, /"id":820982911946154500,/); // the rounded value really is in the body
    assert.deepEqual(shopify.toEvents(headers, body), { kind: 'ignored', reason: 'order cancelled' });
    const r = shopify.toEvents(headers, uncancel(body));
    const line = (id) => ({ id, sku: 'IPOD2008PINK', product_id: '632910392', categories: [], quantity: 1, unit_price: '199.00', discount: '0.00' });
    assert.deepEqual(core(r), {
      kind: 'events',
      deliveryId: '8a95126f-859a-4db9-b8f1-350e299e9ea0',
      events: [{
        id: 'shopify:order:820982911946154508:placed',
        type: 'order.placed',
        at: '2021-12-31T19:00:00-05:00',
        customer: bigOrderCustomer,
        order: {
          id: '820982911946154508',
          currency: 'USD',
          lines: [line('866550311766439020'), line('141249953214522974')],
          shipping: '10.00',
          tax: '0.00',
          taxes_included: false,
          coupon_codes: [],
        },
      }],
    });
  });

  test('PRECISION_LOST orders/cancelled envelope: order.cancelled with recovered ids', () => {
    const { headers, body } = envelope('shopify_orders_cancelled_hookdeck_2024-10_envelope_PRECISION_LOST.json');
    assert.deepEqual(core(shopify.toEvents(headers, body)), {
      kind: 'events',
      deliveryId: '489eb7a0-7c94-4ea2-b7be-db3531ef5cb7',
      events: [{
        id: 'shopify:order:820982911946154508:cancelled',
        type: 'order.cancelled',
        at: '2021-12-31T19:00:00-05:00',
        customer: bigOrderCustomer,
        order_id: '820982911946154508',
      }],
    });
  });

  test('PRECISION_LOST refunds/create envelope: rounded order_id has no gid -> bad_payload, not a wrong order', () => {
    const { headers, body } = envelope('shopify_refunds_create_hookdeck_2024-10_envelope_PRECISION_LOST.json');
    throwsBadPayload(() => shopify.toEvents(headers, body), /^order_id: 820982911946154500 was rounded/);
    // In a body known to be lossy, no big id without a gid is trusted, even a correct one.
    const exact = body.replace('"order_id":820982911946154500', '"order_id":820982911946154508');
    throwsBadPayload(() => shopify.toEvents(headers, exact), /^order_id: 820982911946154508 was rounded/);
    // A safe-integer order_id cannot have been rounded: refund and line ids come from their gids.
    const safe = body.replace('"order_id":820982911946154500', '"order_id":450789469');
    assert.deepEqual(shopify.toEvents(headers, safe).events, [{
      id: 'shopify:refund:890088186047892319',
      type: 'order.refunded',
      at: '2021-12-31T19:00:00-05:00',
      order_id: '450789469',
      lines: [{ id: '866550311766439020', quantity: 1 }, { id: '141249953214522974', quantity: 1 }],
    }]);
  });

  test('HKD orders/cancelled with an embedded refund: just order.cancelled', () => {
    const r = shopify.toEvents({ 'x-shopify-topic': 'orders/cancelled' }, raw('shopify_orders_cancelled_real_HKD_with_refund.json'));
    assert.deepEqual(r.events, [{
      id: 'shopify:order:6198821716268:cancelled',
      type: 'order.cancelled',
      at: '2025-01-23T21:57:18-05:00',
      customer: '8658316394796',
      order_id: '6198821716268',
    }]);
  });

  test('official refunds/create sample: refund lines win over transactions; no customer', () => {
    const body = raw('shopify_refunds_create_official_docs_2026-07.json');
    const r = shopify.toEvents({ 'x-shopify-topic': 'refunds/create' }, body);
    assert.deepEqual(r.events, [{
      id: 'shopify:refund:890088186047892319',
      type: 'order.refunded',
      at: '2021-12-31T19:00:00-05:00',
      order_id: '820982911946154508',
      lines: [
        { id: '487817672276298554', quantity: 1 },
        { id: '789012345678901234', quantity: 1 },
        { id: '890123456789012345', quantity: 1 },
        { id: '976318377106520349', quantity: 1 },
        { id: '315789986012684393', quantity: 1 },
      ],
    }]);
    assert.equal('customer' in r.events[0], false);
    // Without lines: the successful refund transactions' amount strings, 75.00 + 10.00.
    const amountOnly = edit(body, (o) => { o.refund_line_items = []; });
    assert.equal(shopify.toEvents({ 'x-shopify-topic': 'refunds/create' }, amountOnly).events[0].amount, '85.00');
    const oneFailed = edit(amountOnly, (o) => { o.transactions[1].status = 'failure'; });
    assert.equal(shopify.toEvents({ 'x-shopify-topic': 'refunds/create' }, oneFailed).events[0].amount, '75.00');
    const nothing = edit(amountOnly, (o) => { o.transactions = []; });
    assert.deepEqual(shopify.toEvents({ 'x-shopify-topic': 'refunds/create' }, nothing), { kind: 'ignored', reason: 'nothing refunded' });
  });

  test('compliance topics', () => {
    const body = raw('shopify_customers_redact_official_docs_2026-07.json');
    assert.deepEqual(core(shopify.toEvents({ 'x-shopify-topic': 'customers/redact' }, body)), { kind: 'redact', customer: '191167', deliveryId: null });
    assert.deepEqual(core(shopify.toEvents({ 'x-shopify-topic': 'customers/data_request' }, JSON.stringify({ ...JSON.parse(body), orders_requested: [1], data_request: { id: 9 } }))), { kind: 'data_request', customer: '191167', deliveryId: null });
    assert.deepEqual(core(shopify.toEvents({ 'x-shopify-topic': 'shop/redact' }, '{"shop_id":954889,"shop_domain":"x.myshopify.com"}')), { kind: 'shop_redact', deliveryId: null });
  });

  test('other topics are ignored; a missing topic header is bad_payload', () => {
    assert.deepEqual(shopify.toEvents({ 'x-shopify-topic': 'products/create' }, '{"id":1}'), { kind: 'ignored', reason: 'topic not handled' });
    throwsBadPayload(() => shopify.toEvents({}, raw(HKD)), /^x-shopify-topic: header missing/);
  });

  test('malformed payloads throw bad_payload naming the field', () => {
    const h = { 'x-shopify-topic': 'orders/create' };
    throwsBadPayload(() => shopify.toEvents(h, '{"id": 1, '), /^body: invalid JSON/);
    throwsBadPayload(() => shopify.toEvents(h, '[1]'), /^body: not a JSON object/);
    const noId = edit(raw(HKD), (o) => { delete o.id; delete o.admin_graphql_api_id; });
    throwsBadPayload(() => shopify.toEvents(h, noId), /^id: missing/);
    const numberPrice = edit(raw(HKD), (o) => { o.line_items[0].price_set.shop_money.amount = 99; });
    throwsBadPayload(() => shopify.toEvents(h, numberPrice), /^line_items\[0\]\.price_set\.shop_money\.amount: not a decimal string/);
    const noLines = edit(raw(HKD), (o) => { delete o.line_items; });
    throwsBadPayload(() => shopify.toEvents(h, noLines), /^line_items: missing/);
    const badTime = edit(raw(HKD), (o) => { o.processed_at = '2025-01-23 22:16:37'; });
    throwsBadPayload(() => shopify.toEvents(h, badTime), /^processed_at: not RFC 3339/);
    const noRefundOrder = edit(raw('shopify_refunds_create_official_docs_2026-07.json'), (o) => { delete o.order_id; });
    throwsBadPayload(() => shopify.toEvents({ 'x-shopify-topic': 'refunds/create' }, noRefundOrder), /^order_id: missing/);
  });
});

describe('WooCommerce', () => {
  const W723 = 'woocommerce_order_official_docs_v3_723_with_refunds.json';
  const W727 = 'woocommerce_order_official_docs_v3_727_created.json';
  const updated = { 'x-wc-webhook-topic': 'order.updated' };

  test('727: guest (customer_id 0) is ignored; with a customer, 18.00 + tax 1.35 + shipping 10.00 = 29.35', () => {
    const body = raw(W727);
    assert.deepEqual(woo.toEvents({ 'x-wc-webhook-topic': 'order.created' }, body), { kind: 'ignored', reason: 'guest order' });
    const r = woo.toEvents({ 'x-wc-webhook-topic': 'order.created' }, edit(body, (o) => { o.customer_id = 5; }));
    assert.deepEqual(r.contact, { customer: '5', email: 'john.doe@example.com', name: 'John' }, 'billing.email and billing.first_name');
    assert.equal(r.topic, 'order.created');
    assert.deepEqual(core(r), {
      kind: 'events',
      deliveryId: null,
      events: [{
        id: 'woo:order:727:placed',
        type: 'order.placed',
        at: '2017-03-22T19:28:08Z',
        customer: '5',
        order: {
          id: '727',
          currency: 'USD',
          lines: [
            { id: '315', sku: null, product_id: '93', categories: [], quantity: 2, unit_price: '3.00', discount: '0.00' },
            { id: '316', sku: 'Bar3', product_id: '22', categories: [], quantity: 1, unit_price: '12.00', discount: '0.00' },
          ],
          shipping: '10.00',
          tax: '1.35',
          taxes_included: false,
          coupon_codes: [],
        },
      }],
    });
    const { order } = r.events[0];
    assert.equal(netOfLines(order, 2), 1800n);
    assert.equal(netOfLines(order, 2) + units(order.tax, 2) + units(order.shipping, 2), 2935n);
  });

  const placed723 = {
    id: 'woo:order:723:placed',
    type: 'order.placed',
    at: '2017-03-21T19:16:00Z', // date_paid_gmt is null: date_created_gmt
    customer: '26',
    order: {
      id: '723',
      currency: 'USD',
      lines: [
        { id: '311', sku: null, product_id: '87', categories: [], quantity: 1, unit_price: '9.00', discount: '0.00' },
        { id: '313', sku: null, product_id: '34', categories: [], quantity: 1, unit_price: '20.00', discount: '0.00' },
      ],
      shipping: '10.00',
      tax: '0.00',
      taxes_included: false,
      coupon_codes: [],
    },
  };
  const refund723 = (id, amount) => ({
    id: `woo:refund:${id}`, type: 'order.refunded', at: '2017-03-21T19:54:51Z', customer: '26', order_id: '723', amount,
  });

  test('723: order.placed plus one amount refund per refunds entry (-10.00, -9.00), oldest first', () => {
    const r = woo.toEvents(updated, raw(W723));
    assert.deepEqual(core(r), { kind: 'events', deliveryId: null, events: [placed723, refund723('724', '9.00'), refund723('726', '10.00')] });
    assert.equal(netOfLines(r.events[0].order, 2) + units(r.events[0].order.shipping, 2), 3900n); // total "39.00"
  });

  test('723 statuses: pending/on-hold ignored, cancelled and refunded reverse the order', () => {
    const body = raw(W723);
    const withStatus = (status) => woo.toEvents(updated, edit(body, (o) => { o.status = status; }));
    assert.deepEqual(withStatus('pending'), { kind: 'ignored', reason: 'status pending' });
    assert.deepEqual(withStatus('on-hold'), { kind: 'ignored', reason: 'status on-hold' });
    assert.deepEqual(withStatus('processing').events[0], placed723);
    const reversal = (suffix) => [{ id: `woo:order:723:${suffix}`, type: 'order.cancelled', at: '2017-03-21T19:54:51Z', customer: '26', order_id: '723' }];
    assert.deepEqual(withStatus('cancelled').events, reversal('cancelled'));
    assert.deepEqual(withStatus('refunded').events, reversal('refunded'));
    // paidStatuses is configurable: a shop that earns only on completed orders.
    const strict = createWooAdapter({ secrets: ['s'], paidStatuses: ['completed'] });
    assert.deepEqual(strict.toEvents(updated, edit(body, (o) => { o.status = 'processing'; })), { kind: 'ignored', reason: 'status processing' });
  });

  test('a subtotal that does not divide by quantity: unit price rounded up, excess added to discount', () => {
    const body = edit(raw(W723), (o) => { o.line_items[0].quantity = 7; o.line_items[0].total = '8.50'; });
    const [line] = woo.toEvents(updated, body).events[0].order.lines;
    // 9.00 / 7 = 1.2857...: 1.29 * 7 = 9.03, so the discount is 0.50 + 0.03 and the net stays 8.50.
    assert.deepEqual(line, { id: '311', sku: null, product_id: '87', categories: [], quantity: 7, unit_price: '1.29', discount: '0.53' });
    assert.equal(units(line.unit_price, 2) * 7n - units(line.discount, 2), 850n);
  });

  const rub3080 = {
    id: 'woo:order:3080:placed',
    type: 'order.placed',
    at: '2025-10-22T02:25:54Z',
    customer: '1377',
    order: {
      id: '3080',
      currency: 'RUB',
      lines: [{ id: '469', sku: 'NH-PRO', product_id: '15', categories: [], quantity: 1, unit_price: '1450.00', discount: '1450.00' }],
      shipping: '0.00',
      tax: '0.00',
      taxes_included: false,
      coupon_codes: ['maombi start'],
    },
  };

  test('RUB n8n envelope: 100% coupon, total 0.00, headers as delivered', () => {
    const { headers, body } = envelope('woocommerce_order_updated_real_RUB_100pct_coupon_n8n_envelope.json');
    assert.equal(headers['x-wc-webhook-topic'], 'order.updated');
    const r = woo.toEvents(headers, body);
    assert.deepEqual(core(r), { kind: 'events', deliveryId: null, events: [rub3080] });
    assert.equal(netOfLines(r.events[0].order, 2), 0n);
  });

  test('RUB raw body as WooCommerce serialises it (escaped slashes, \\u escapes): same event', () => {
    const body = Buffer.from(raw('woocommerce_order_updated_real_RUB_raw_body_reconstructed.json'), 'utf8');
    assert.deepEqual(woo.toEvents(updated, body).events, [rub3080]);
  });

  test('REST refund objects (no topic): 724 by line item, 726 by amount; same ids as the order\'s refunds array', () => {
    assert.deepEqual(woo.toEvents({}, raw('woocommerce_refund_official_docs_v3_724_with_line_item.json')).events, [{
      id: 'woo:refund:724', type: 'order.refunded', at: '2017-03-21T19:55:37Z', order_id: '723', lines: [{ id: '311', quantity: 1 }],
    }]);
    assert.deepEqual(woo.toEvents({}, raw('woocommerce_refund_official_docs_v3_726_amount_only.json')).events, [{
      id: 'woo:refund:726', type: 'order.refunded', at: '2017-03-21T20:07:11Z', order_id: '723', amount: '10.00',
    }]);
  });

  test('customer.created: the contact (email, first name, locale from meta) and the signup action; customer.updated: the contact only', () => {
    const body = raw('woocommerce_customer_official_docs_v3.json');
    const contact = { customer: '25', email: 'john.doe@example.com', name: 'John' };
    assert.deepEqual(woo.toEvents({ 'x-wc-webhook-topic': 'customer.created' }, body), {
      kind: 'events', deliveryId: null, topic: 'customer.created', contact,
      events: [{ id: 'woo:customer:25:signup', type: 'action.completed', at: '2017-03-21T19:09:28Z', customer: '25', action: 'signup', ref: '25' }],
    });
    const withLocale = edit(body, (c) => { c.meta_data = [{ id: 1, key: 'locale', value: 'nb_NO' }]; });
    assert.deepEqual(woo.toEvents({ 'x-wc-webhook-topic': 'customer.updated' }, withLocale), {
      kind: 'events', deliveryId: null, topic: 'customer.updated', contact: { ...contact, locale: 'nb-NO' }, events: [],
    });
    throwsBadPayload(() => woo.toEvents({}, body), /^x-wc-webhook-topic: header missing/);
    assert.deepEqual(woo.toEvents({ 'x-wc-webhook-topic': 'coupon.updated' }, body), { kind: 'ignored', reason: 'topic not handled' });
  });

  test('the topic header and the body must agree: an order is not a customer, nor the reverse', () => {
    throwsBadPayload(() => woo.toEvents({ 'x-wc-webhook-topic': 'customer.created' }, raw(W723)), /^body: does not have the shape of a customer\.created payload/);
    throwsBadPayload(() => woo.toEvents({ 'x-wc-webhook-topic': 'customer.updated' }, raw(W723)), /^body: does not have the shape of a customer\.updated payload/);
    throwsBadPayload(() => woo.toEvents(updated, raw('woocommerce_customer_official_docs_v3.json')), /^body: does not have the shape of a order\.updated payload/);
    throwsBadPayload(() => woo.toEvents(updated, raw('woocommerce_refund_official_docs_v3_724_with_line_item.json')), /^body: does not have the shape/);
  });

  test('coupon codes are kept as WooCommerce sends them (lowercased by it; the engine compares case-insensitively)', () => {
    const body = edit(raw(W723), (o) => { o.coupon_lines = [{ id: 1, code: 'loy-abcd-efgh' }, { id: 2, code: '' }]; });
    assert.deepEqual(woo.toEvents(updated, body).events[0].order.coupon_codes, ['loy-abcd-efgh']);
  });

  test('creation ping: webhook_id=12 is a ping, accepted unsigned', () => {
    assert.deepEqual(woo.toEvents({}, 'webhook_id=12'), { kind: 'ping' });
    assert.deepEqual(woo.toEvents({}, Buffer.from('webhook_id=12')), { kind: 'ping' });
    assert.equal(woo.verify({}, 'webhook_id=12'), true);
    assert.equal(woo.verify({}, 'webhook_id=12&x=1'), false);
    throwsBadPayload(() => woo.toEvents({}, 'webhook_id=abc'), /^body: invalid JSON/);
  });

  test('malformed payloads throw bad_payload naming the field', () => {
    throwsBadPayload(() => woo.toEvents(updated, '{"id": 723'), /^body: invalid JSON/);
    const noId = edit(raw(W723), (o) => { delete o.id; });
    throwsBadPayload(() => woo.toEvents(updated, noId), /^id: missing/);
    const floatOnly = edit(raw(W723), (o) => { delete o.line_items[1].subtotal; });
    throwsBadPayload(() => woo.toEvents(updated, floatOnly), /^line_items\[1\]\.subtotal: missing/);
    const badRefund = edit(raw(W723), (o) => { o.refunds[0].total = -10; });
    throwsBadPayload(() => woo.toEvents(updated, badRefund), /^refunds\[0\]\.total: not a decimal string/);
    const badQty = edit(raw(W723), (o) => { o.line_items[0].quantity = 0; });
    throwsBadPayload(() => woo.toEvents(updated, badQty), /^line_items\[0\]\.quantity: expected an integer >= 1/);
  });
});
