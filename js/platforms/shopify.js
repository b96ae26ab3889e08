// Shopify webhooks -> canonical events (see DESIGN.md "Events").
// Event ids come from the order and its transitions, never from the delivery, so
// redeliveries and the same order seen through two topics dedupe in the ledger.
import { parseBody, badPayload, idString, isUnsafeInteger } from './json.js';
import { sum, subtract, scaleOf } from './amounts.js';
import { verifyHmac, secretList, headerValue } from './signature.js';
import { ignored, object, list, decimalString, count, time, currency } from './fields.js';

const EARN_TOPICS = ['orders/create', 'orders/paid'];
// Only a fully paid order earns: orders/paid fires again when a partially paid one is paid
// in full, so earning on partially_paid would credit money not received.
const PAID = new Set(['paid']);
const GID = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)$/;

/**
 * @param {{secrets: string[]|string, earnOn?: string, shopDomain?: string}} options
 *   `shopDomain`: the shop these secrets belong to (x.myshopify.com): a delivery whose
 *   X-Shopify-Shop-Domain header or body names another shop is refused.
 */
export function createShopifyAdapter({ secrets, earnOn = 'orders/paid', shopDomain } = {}) {
  const keys = secretList(secrets);
  if (!EARN_TOPICS.includes(earnOn)) throw new TypeError(`earnOn: expected one of ${EARN_TOPICS.join(', ')}`);
  return {
    verify: (headers, rawBody) => verifyHmac(rawBody, headers?.['x-shopify-hmac-sha256'], keys),
    toEvents: (headers, rawBody) => toEvents(headers ?? {}, rawBody, earnOn, shopDomain),
  };
}

/** The shop a delivery claims to come from (routing only: the signature decides). */
export const shopOf = (headers) => headerValue(headers, 'x-shopify-shop-domain')?.toLowerCase() ?? null;

// The HMAC covers the body, not the topic header: a body signed for one topic can be
// re-posted under another. So each topic's body must have that topic's shape, and the
// shop it names must be the shop it is delivered for.
const SHAPES = {
  'customers/redact': (b) => has(b, ['shop_id', 'shop_domain', 'customer', 'orders_to_redact']) && isList(b.orders_to_redact) && !b.line_items,
  'customers/data_request': (b) => has(b, ['shop_id', 'shop_domain', 'customer', 'orders_requested', 'data_request']) && isList(b.orders_requested) && !b.line_items,
  'shop/redact': (b) => has(b, ['shop_id', 'shop_domain']) && !b.customer && !b.line_items && !b.orders_to_redact && !b.orders_requested,
  'app/uninstalled': (b) => has(b, ['id', 'myshopify_domain']) && !b.line_items && !b.customer,
  'orders/create': (b) => isOrder(b),
  'orders/paid': (b) => isOrder(b),
  'orders/cancelled': (b) => isOrder(b) && b.cancelled_at != null,
  'refunds/create': (b) => isList(b.refund_line_items) && gidKind(b, 'Refund') && !b.line_items && !b.shop_domain,
  'customers/create': (b) => has(b, ['id']) && gidKind(b, 'Customer') && !b.line_items && !b.order_id && !b.shop_domain,
  'customers/update': (b) => has(b, ['id']) && gidKind(b, 'Customer') && !b.line_items && !b.order_id && !b.shop_domain,
};
const has = (b, keys) => keys.every((k) => b[k] !== undefined && b[k] !== null);
const isList = Array.isArray;
// A gid, when present, names the kind of object: an Order body is not a Refund's.
const gidKind = (b, kind) => b.admin_graphql_api_id == null || GID.exec(String(b.admin_graphql_api_id))?.[1] === kind;
// Negative marks only: the order's own fields are read (and named when missing) by `placed`.
const isOrder = (b) => gidKind(b, 'Order') && !b.order_id && !b.orders_to_redact && !b.orders_requested && !b.shop_domain && !b.refund_line_items;

function toEvents(headers, rawBody, earnOn, shopDomain) {
  const topic = headerValue(headers, 'x-shopify-topic');
  if (!topic) throw badPayload('x-shopify-topic', 'header missing');
  const body = object(parseBody(rawBody), 'body');
  const deliveryId = headerValue(headers, 'x-shopify-webhook-id') ?? null;
  if (shopDomain) {
    const shop = shopOf(headers);
    if (shop !== shopDomain.toLowerCase()) throw badPayload('x-shopify-shop-domain', `is ${shop ?? 'missing'}, not this backend's shop`);
    const named = body.shop_domain ?? body.myshopify_domain;
    if (named != null && String(named).toLowerCase() !== shop) throw badPayload('shop_domain', `names ${named}, not ${shop}`);
  }
  const shape = SHAPES[topic];
  if (!shape) return ignored('topic not handled');
  if (!shape(body)) throw badPayload('body', `is not a ${topic} payload`);
  const ids = idReader(body);
  const events = (list) => ({ kind: 'events', events: list, deliveryId, topic, contact: contactOf(body, ids) });

  switch (topic) {
    case 'customers/redact':
      return { kind: 'redact', customer: idString(body.customer?.id, 'customer.id'), deliveryId, topic };
    case 'customers/data_request':
      return { kind: 'data_request', customer: idString(body.customer?.id, 'customer.id'), deliveryId, topic };
    case 'shop/redact':
      return { kind: 'shop_redact', deliveryId, topic };
    case 'app/uninstalled':
      return { kind: 'uninstalled', deliveryId, topic };
    case 'customers/create':
    case 'customers/update':
      return customerTopic(body, ids, topic, deliveryId);
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

// Where and how to reach the customer, from an order or customer body: kept current so
// reward and expiry emails reach them, in their language, only with their consent.
function contactOf(body, ids) {
  const c = body.customer && typeof body.customer === 'object' ? body.customer : body.order_id == null && gidKind(body, 'Customer') && body.admin_graphql_api_id ? body : null;
  if (!c || (c.id == null && !gidOf(c))) return null;
  const text = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  const consent = c.email_marketing_consent?.state ?? (typeof body.buyer_accepts_marketing === 'boolean' ? (body.buyer_accepts_marketing ? 'subscribed' : 'not_subscribed') : null);
  return {
    customer: ids.of(c, 'customer'),
    email: text(c.email) ?? text(body.contact_email) ?? text(body.email),
    name: text(c.first_name),
    locale: text(body.customer_locale) ?? text(c.locale),
    marketing: consent == null ? null : consent === 'subscribed',
  };
}

function customerTopic(body, ids, topic, deliveryId) {
  const contact = contactOf(body, ids);
  const customer = contact.customer;
  const at = time(body.created_at ?? body.updated_at, 'created_at');
  // customers/create is the `signup` way to earn; the engine skips it without such a rule.
  const events = topic === 'customers/create' ? [{ id: `shopify:customer:${customer}:signup`, type: 'action.completed', at, customer, action: 'signup', ref: customer }] : [];
  return { kind: 'events', events, deliveryId, topic, contact };
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
  return gid ? gid[2] : undefined;
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
