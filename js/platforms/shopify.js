// Shopify webhooks -> canonical events (see DESIGN.md "Events").
// Event ids come from the order and its transitions, never from the delivery, so
// redeliveries and the same order seen through two topics dedupe in the ledger.
import { parseBody, badPayload, idString, isUnsafeInteger } from './json.js';
import { sum, subtract, scaleOf } from './amounts.js';
import { verifyHmac, secretList, headerValue } from './signature.js';
import { ignored, object, list, decimalString, count, time, currency } from './fields.js';

const EARN_TOPICS = ['orders/create', 'orders/paid'];
const PAID = new Set(['paid', 'partially_paid']);
const GID = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)$/;

export function createShopifyAdapter({ secrets, earnOn = 'orders/paid' } = {}) {
  const keys = secretList(secrets);
  if (!EARN_TOPICS.includes(earnOn)) throw new TypeError(`earnOn: expected one of ${EARN_TOPICS.join(', ')}`);
  return {
    verify: (headers, rawBody) => verifyHmac(rawBody, headers?.['x-shopify-hmac-sha256'], keys),
    toEvents: (headers, rawBody) => toEvents(headers ?? {}, rawBody, earnOn),
  };
}

function toEvents(headers, rawBody, earnOn) {
  const topic = headerValue(headers, 'x-shopify-topic');
  if (!topic) throw badPayload('x-shopify-topic', 'header missing');
  const body = object(parseBody(rawBody), 'body');
  const deliveryId = headerValue(headers, 'x-shopify-webhook-id') ?? null;
  const ids = idReader(body);
  const events = (list) => ({ kind: 'events', events: list, deliveryId });

  switch (topic) {
    case 'customers/redact':
      return { kind: 'redact', customer: idString(body.customer?.id, 'customer.id') };
    case 'customers/data_request':
      return { kind: 'data_request', customer: idString(body.customer?.id, 'customer.id') };
    case 'shop/redact':
      return { kind: 'shop_redact' };
    case 'orders/create':
    case 'orders/paid':
      return topic === earnOn ? placed(body, ids, topic, events) : ignored('topic not handled');
    case 'orders/cancelled':
      return cancelled(body, ids, events);
    case 'refunds/create':
      return refunded(body, ids, events);
    default:
      return ignored('topic not handled');
  }
}

function placed(order, ids, topic, events) {
  const id = ids.of(order, '');
  if (order.cancelled_at) return ignored('order cancelled');
  // orders/paid also fires for partially paid orders; anything else (pending, voided) is not a purchase yet.
  if (topic === 'orders/paid' && !PAID.has(order.financial_status)) return ignored(`financial_status ${order.financial_status}`);
  const customer = customerOf(order, ids);
  if (!customer) return ignored('guest order');

  // The tax amount is always present and formatted in the shop currency's decimals,
  // so it sets the decimals of sums that may be empty (shipping, discounts).
  const tax = shopMoney(order.total_tax_set, 'total_tax_set');
  const scale = scaleOf(tax);
  const lines = list(order.line_items, 'line_items').map((li, i) => lineOf(li, `line_items[${i}]`, ids));
  const shippingLines = list(order.shipping_lines ?? [], 'shipping_lines')
    .map((s, i) => [s, `shipping_lines[${i}]`])
    .filter(([s]) => s.is_removed !== true); // removed by an order edit: not charged
  const shippingGross = sum(shippingLines.map(([s, p]) => shopMoney(s.price_set, `${p}.price_set`)), scale);
  const shippingOff = sum(shippingLines.flatMap(([s, p]) => allocations(s, p)), scale);

  return events([{
    id: `shopify:order:${id}:placed`,
    type: 'order.placed',
    at: time(order.processed_at ?? order.created_at, 'processed_at'),
    customer,
    order: {
      id,
      currency: currency(order.currency),
      lines,
      shipping: subtract(shippingGross, shippingOff),
      tax,
      taxes_included: order.taxes_included === true,
      coupon_codes: (order.discount_codes ?? []).map((d) => d?.code).filter((c) => typeof c === 'string' && c !== ''),
    },
  }]);
}

function lineOf(li, path, ids) {
  const unit_price = shopMoney(li.price_set, `${path}.price_set`);
  return {
    id: ids.of(li, path),
    sku: typeof li.sku === 'string' && li.sku !== '' ? li.sku : null,
    product_id: li.product_id == null ? null : ids.plain(li.product_id, `${path}.product_id`),
    categories: typeof li.product_type === 'string' && li.product_type !== '' ? [li.product_type] : [],
    quantity: count(li.quantity, `${path}.quantity`, 1),
    unit_price,
    // NOT total_discount: it reads "0.00" while code and automatic allocations exist.
    discount: sum(allocations(li, path), scaleOf(unit_price)),
  };
}

function allocations(item, path) {
  return list(item.discount_allocations ?? [], `${path}.discount_allocations`)
    .map((d, j) => shopMoney(d.amount_set, `${path}.discount_allocations[${j}].amount_set`));
}

function cancelled(order, ids, events) {
  const id = ids.of(order, '');
  const customer = customerOf(order, ids);
  if (!customer) return ignored('guest order');
  // Embedded refunds are not replayed here: the cancel reverses the whole order.
  return events([{
    id: `shopify:order:${id}:cancelled`,
    type: 'order.cancelled',
    at: time(order.cancelled_at ?? order.updated_at, 'cancelled_at'),
    customer,
    order_id: id,
  }]);
}

function refunded(refund, ids, events) {
  const id = ids.of(refund, '');
  const order_id = ids.plain(refund.order_id, 'order_id');
  const lines = list(refund.refund_line_items ?? [], 'refund_line_items')
    .map((r, i) => {
      const path = `refund_line_items[${i}]`;
      const gid = gidOf(r.line_item);
      return { id: gid ?? ids.plain(r.line_item_id, `${path}.line_item_id`), quantity: count(r.quantity, `${path}.quantity`, 0) };
    })
    .filter((l) => l.quantity > 0);
  const event = {
    id: `shopify:refund:${id}`,
    type: 'order.refunded',
    at: time(refund.processed_at ?? refund.created_at, 'processed_at'),
  };
  const customer = customerOf(refund, ids); // refunds/create carries none today
  if (customer) event.customer = customer;
  event.order_id = order_id;
  if (lines.length > 0) {
    // Lines win over transactions: the engine reverses exactly what those units earned.
    event.lines = lines;
  } else {
    const paid = list(refund.transactions ?? [], 'transactions')
      .map((t, i) => [t, `transactions[${i}].amount`])
      .filter(([t]) => t.kind === 'refund' && t.status === 'success');
    if (paid.length === 0) return ignored('nothing refunded');
    event.amount = sum(paid.map(([t, p]) => decimalString(t.amount, p)));
  }
  return events([event]);
}

// --- ids -------------------------------------------------------------------------

// A body whose numeric ids disagree with their admin_graphql_api_id went through a
// lossy relay (JSON.parse + stringify). Then the gid is the truth, and a big id
// without a gid is unrecoverable: better a loud bad_payload than crediting a wrong order.
function idReader(body) {
  const lossy = hasRoundedIds(body);
  const plain = (value, path) => {
    const id = idString(value, path);
    if (lossy && isUnsafeInteger(id)) {
      throw badPayload(path, `${id} was rounded by a relay (numeric ids disagree with admin_graphql_api_id) and has no gid to recover it from`);
    }
    return id;
  };
  const of = (obj, path) => gidOf(obj) ?? plain(obj?.id, path ? `${path}.id` : 'id');
  return { of, plain };
}

function gidOf(obj) {
  const gid = obj && typeof obj.admin_graphql_api_id === 'string' ? GID.exec(obj.admin_graphql_api_id) : null;
  return gid ? gid[1] : undefined;
}

function hasRoundedIds(node) {
  if (Array.isArray(node)) return node.some(hasRoundedIds);
  if (!node || typeof node !== 'object') return false;
  const gid = gidOf(node);
  if (gid !== undefined && node.id != null && String(node.id) !== gid) return true;
  return Object.values(node).some(hasRoundedIds);
}

function customerOf(obj, ids) {
  const c = obj.customer;
  if (!c || typeof c !== 'object' || (c.id == null && !gidOf(c))) return null;
  return ids.of(c, 'customer');
}

function shopMoney(set, path) {
  return decimalString(set?.shop_money?.amount, `${path}.shop_money.amount`);
}
