// WooCommerce webhooks -> canonical events (see DESIGN.md "Events").
// WooCommerce builds the payload at delivery time (the order's current state) and
// has no refund topic, so one order.updated can carry the purchase and its refunds;
// ids derived from the order and refund ids make every re-send dedupe.
import { parseBody, badPayload, idString } from './json.js';
import { sum, subtract, abs, scaleOf, splitUnitPrice } from './amounts.js';
import { verifyHmac, secretList, headerValue, wpSpecialcharsDecode } from './signature.js';
import { ignored, object, list, decimalString, count, gmtTime, currency } from './fields.js';

const ORDER_TOPICS = new Set(['order.created', 'order.updated']);
const CUSTOMER_TOPICS = new Set(['customer.created', 'customer.updated']);
const PING = /^webhook_id=\d+$/;

// The HMAC covers the body, not the topic header: a body signed for one topic can be
// re-posted under another. So each topic's body must have that topic's shape. Negative marks
// only for orders: their own fields are read (and named when missing) by fromOrder.
const isCustomer = (b) => b.id != null && 'email' in b && ('username' in b || 'role' in b) && !('line_items' in b) && !('status' in b) && !('order_key' in b);
const isOrder = (b) => !('username' in b) && !('role' in b) && !('refunded_by' in b);
const SHAPES = {
  'order.created': isOrder,
  'order.updated': isOrder,
  'customer.created': isCustomer,
  'customer.updated': isCustomer,
};

export function createWooAdapter({ secrets, paidStatuses = ['processing', 'completed'] } = {}) {
  // WooCommerce signs with wp_specialchars_decode($secret, ENT_QUOTES).
  const keys = secretList(secrets, wpSpecialcharsDecode);
  const paid = new Set(paidStatuses);
  return {
    // The creation ping is sent UNSIGNED and must get a 200, or WooCommerce reports the
    // delivery URL as failing. It carries nothing but the webhook id, so accepting it is harmless.
    verify: (headers, rawBody) => isPing(rawBody) || verifyHmac(rawBody, headers?.['x-wc-webhook-signature'], keys),
    toEvents: (headers, rawBody) => toEvents(headers ?? {}, rawBody, paid),
  };
}

function isPing(rawBody) {
  const text = Buffer.isBuffer(rawBody) ? rawBody.toString('latin1') : String(rawBody ?? '');
  return PING.test(text.trim());
}

function toEvents(headers, rawBody, paid) {
  if (isPing(rawBody)) return { kind: 'ping' };
  const topic = headerValue(headers, 'x-wc-webhook-topic');
  if (topic && !SHAPES[topic]) return ignored('topic not handled');
  const body = object(parseBody(rawBody), 'body');
  if (topic && !SHAPES[topic](body)) throw badPayload('body', `does not have the shape of a ${topic} payload`);
  // Dedupe is by event id: WooCommerce's X-WC-Webhook-Delivery-ID is new on every attempt.
  const events = (list) => ({ kind: 'events', events: list, deliveryId: null, topic: topic ?? null, contact: orderContact(body) });
  if (CUSTOMER_TOPICS.has(topic)) return fromCustomer(body, topic);
  if (ORDER_TOPICS.has(topic) || (!topic && 'status' in body)) return fromOrder(body, paid, events);
  // No topic: a refund object from the REST API (/orders/<id>/refunds/<id>), e.g. a CLI import.
  if ('amount' in body && 'refunded_by' in body) return fromRefundObject(body, events);
  throw badPayload('x-wc-webhook-topic', 'header missing and the body is neither an order nor a refund');
}

const text = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

// Where to reach the customer: a WooCommerce coupon is restricted to an email address, and
// reward emails need one too. Orders carry the billing address; a guest (customer_id 0) has no account.
function orderContact(order) {
  const customer = order.customer_id == null ? '0' : String(order.customer_id);
  if (!/^[1-9]\d*$/.test(customer) || !order.billing || typeof order.billing !== 'object') return null;
  return withoutNulls({ customer, email: text(order.billing.email), name: text(order.billing.first_name) });
}

// WooCommerce has no locale field; a plugin (or WordPress' user `locale`) may leave one in meta.
function metaLocale(meta) {
  const value = Array.isArray(meta) ? meta.find((m) => m?.key === 'locale' || m?.key === '_locale')?.value : undefined;
  return typeof value === 'string' && /^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/.test(value) ? value.replace('_', '-') : null;
}

const withoutNulls = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v != null));

// customer.created is the `signup` way to earn (the engine skips it without such a rule);
// both topics keep the contact current.
function fromCustomer(body, topic) {
  const customer = idString(body.id, 'id');
  const contact = withoutNulls({
    customer,
    email: text(body.email) ?? text(body.billing?.email),
    name: text(body.first_name) ?? text(body.billing?.first_name),
    locale: metaLocale(body.meta_data),
  });
  const events = topic === 'customer.created'
    ? [{ id: `woo:customer:${customer}:signup`, type: 'action.completed', at: gmtTime(body.date_created_gmt, 'date_created_gmt'), customer, action: 'signup', ref: customer }]
    : [];
  return { kind: 'events', events, deliveryId: null, topic, contact };
}

function fromOrder(order, paid, events) {
  const id = idString(order.id, 'id');
  const customer = idString(order.customer_id, 'customer_id');
  if (customer === '0') return ignored('guest order');
  const status = typeof order.status === 'string' ? order.status : undefined;
  if (!status) throw badPayload('status', 'missing');

  if (status === 'cancelled' || status === 'refunded') {
    // A full refund reverses like a cancel. Its own id keeps the ledger honest about
    // what happened; the engine ignores a cancel of an order it never saw.
    return events([{
      id: `woo:order:${id}:${status}`,
      type: 'order.cancelled',
      at: gmtTime(order.date_modified_gmt, 'date_modified_gmt'),
      customer,
      order_id: id,
    }]);
  }
  if (!paid.has(status)) return ignored(`status ${status}`);

  const placed = {
    id: `woo:order:${id}:placed`,
    type: 'order.placed',
    at: gmtTime(order.date_paid_gmt ?? order.date_created_gmt, order.date_paid_gmt ? 'date_paid_gmt' : 'date_created_gmt'),
    customer,
    order: {
      id,
      currency: currency(order.currency),
      lines: list(order.line_items, 'line_items').map((li, i) => lineOf(li, `line_items[${i}]`)),
      // shipping_total and total_tax are strings; shipping_total excludes its tax,
      // total_tax includes shipping tax (as Shopify's total_tax does).
      shipping: decimalString(order.shipping_total, 'shipping_total'),
      tax: decimalString(order.total_tax, 'total_tax'),
      // WooCommerce stores line subtotal/total WITHOUT tax even when the shop enters
      // prices with tax (prices_include_tax), so the line amounts never include it.
      taxes_included: false,
      // Codes as they come: WooCommerce lowercases them (wc_format_coupon_code), the engine
      // compares them case-insensitively.
      coupon_codes: (order.coupon_lines ?? []).map((c) => c?.code).filter((c) => typeof c === 'string' && c !== ''),
    },
  };
  // The refunds array is {id, reason|refund, total} with a negative total, newest first:
  // emit them oldest first (by id) as amount refunds.
  const refundsAt = gmtTime(order.date_modified_gmt ?? order.date_created_gmt, 'date_modified_gmt');
  const refunds = list(order.refunds ?? [], 'refunds')
    .map((r, i) => ({
      id: idString(r?.id, `refunds[${i}].id`),
      amount: abs(decimalString(r?.total, `refunds[${i}].total`), `refunds[${i}].total`),
    }))
    .filter((r) => !/^0+(\.0+)?$/.test(r.amount))
    .sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) // numeric order of digit strings
    .map((r) => ({ id: `woo:refund:${r.id}`, type: 'order.refunded', at: refundsAt, customer, order_id: id, amount: r.amount }));
  return events([placed, ...refunds]);
}

// unit_price * quantity must equal the pre-discount line amount exactly. When the
// subtotal does not divide (10.00 / 3), round the unit price up and book the
// difference as discount, so subtotal - discount is still the line's exact total.
function lineOf(li, path) {
  const quantity = count(li.quantity, `${path}.quantity`, 1);
  const subtotal = decimalString(li.subtotal, `${path}.subtotal`); // never the float `price`
  const total = decimalString(li.total, `${path}.total`);
  const scale = Math.max(scaleOf(subtotal), scaleOf(total));
  const { unit_price, extra } = splitUnitPrice(subtotal, quantity, scale, `${path}.subtotal`);
  return {
    id: idString(li.id, `${path}.id`),
    sku: typeof li.sku === 'string' && li.sku !== '' ? li.sku : null,
    product_id: li.product_id ? idString(li.product_id, `${path}.product_id`) : null, // 0 = deleted product
    categories: [], // not in the webhook payload
    quantity,
    unit_price,
    discount: sum([subtract(subtotal, total), extra], scale),
  };
}

function fromRefundObject(refund, events) {
  const id = idString(refund.id, 'id');
  const up = refund._links?.up?.[0]?.href;
  const fromLink = typeof up === 'string' ? /\/orders\/(\d+)\/?$/.exec(up)?.[1] : undefined;
  const order_id = idString(refund.order_id ?? fromLink, 'order_id');
  // Refund line items point back at the order line through meta `_refunded_item_id`
  // and carry negative quantities.
  const lines = list(refund.line_items ?? [], 'line_items').map((li, i) => {
    const ref = (li?.meta_data ?? []).find((m) => m?.key === '_refunded_item_id')?.value;
    const quantity = Math.abs(Number(li?.quantity));
    return ref && Number.isSafeInteger(quantity) && quantity > 0 ? { id: idString(String(ref), `line_items[${i}]._refunded_item_id`), quantity } : null;
  });
  const event = {
    id: `woo:refund:${id}`,
    type: 'order.refunded',
    at: gmtTime(refund.date_created_gmt, 'date_created_gmt'),
    order_id,
  };
  if (lines.length > 0 && lines.every(Boolean)) event.lines = lines;
  else event.amount = abs(decimalString(refund.amount, 'amount'), 'amount');
  return events([event]);
}
