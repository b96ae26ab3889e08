// Store sync for one Shopify shop (CONTRACT.md "Store sync clients"): a coupon becomes a
// discount code in the store with exactly its terms, unused ones are deactivated, webhooks
// are subscribed. Calls go through the library's Admin GraphQL client (pinned version,
// shopify-app.js); every failure leaves as a StoreApiError the outbox can act on.
import { Session, GraphqlQueryError, HttpThrottlingError, HttpInternalError, HttpResponseError, HttpRequestError, HttpMaxRetriesError } from '@shopify/shopify-api';
import { StoreApiError, inputError } from './store-error.js';
import { DECIMAL, amountDecimal, minimumDecimal } from './coupon-amounts.js';

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/\d+$/;
const DEFAULT_TIMEOUT_MS = 30_000;
// A mutation costs 10 points at Shopify; a small query 1-2. Below this we wait rather than call.
const MIN_AVAILABLE = 20;

const LOOKUP = `#graphql
  query LoyaltyCodeLookup($code: String!) {
    codeDiscountNodeByCode(code: $code) {
      id
      codeDiscount {
        __typename
        ... on DiscountCodeBasic { status endsAt context { ...LoyaltyBuyers } }
        ... on DiscountCodeFreeShipping { status endsAt context { ...LoyaltyBuyers } }
      }
    }
  }
  fragment LoyaltyBuyers on DiscountContext {
    __typename
    ... on DiscountCustomers { customers { id } }
  }`;

const CREATE_BASIC = `#graphql
  mutation LoyaltyCodeBasicCreate($discount: DiscountCodeBasicInput!) {
    discountCodeBasicCreate(basicCodeDiscount: $discount) {
      codeDiscountNode { id }
      userErrors { field code message extraInfo }
    }
  }`;

const CREATE_FREE_SHIPPING = `#graphql
  mutation LoyaltyCodeFreeShippingCreate($discount: DiscountCodeFreeShippingInput!) {
    discountCodeFreeShippingCreate(freeShippingCodeDiscount: $discount) {
      codeDiscountNode { id }
      userErrors { field code message extraInfo }
    }
  }`;

const DEACTIVATE = `#graphql
  mutation LoyaltyCodeDeactivate($id: ID!) {
    discountCodeDeactivate(id: $id) {
      codeDiscountNode { id }
      userErrors { field code message extraInfo }
    }
  }`;

const LIST_WEBHOOKS = `#graphql
  query LoyaltyWebhooks($topics: [WebhookSubscriptionTopic!], $after: String) {
    webhookSubscriptions(first: 100, after: $after, topics: $topics) {
      nodes { id topic uri }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const CREATE_WEBHOOK = `#graphql
  mutation LoyaltyWebhookCreate($topic: WebhookSubscriptionTopic!, $webhook: WebhookSubscriptionInput!) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhook) {
      webhookSubscription { id topic uri }
      userErrors { field message }
    }
  }`;

// The cost bucket is Shopify's, per app and shop: shared by every client made for a shop.
const buckets = new Map();

/** Decimals of an ISO 4217 currency (EUR 2, JPY 0, KWD 3), from the runtime's ICU data. */
export function currencyExponent(currency) {
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw inputError('currency', `not an ISO 4217 code (${JSON.stringify(currency)})`);
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    throw inputError('currency', `unknown currency ${currency}`);
  }
}

// Shopify's percentage is a Float in 0..1. Moving the decimal point in the string (not
// dividing a float) makes the JSON carry the coupon's own digits: "12.5" -> 0.125.
function percentFraction(value, field) {
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw inputError(field, `not a decimal string (${JSON.stringify(value)})`);
  const [int, frac = ''] = value.split('.');
  const whole = int.replace(/^0+(?=\d)/, '').padStart(3, '0'); // "5" -> "005", "100" -> "100"
  const fraction = Number(`${whole.slice(0, -2)}.${whole.slice(-2)}${frac}`);
  if (!(fraction > 0 && fraction <= 1)) throw inputError(field, `percent must be above 0 and at most 100 (${value})`);
  return fraction;
}

// An instant as epoch ms (CONTRACT.md) or an ISO 8601 string with its offset (the engine's
// effects: "2026-12-05T23:59:59.999+01:00"); a string without an offset would be read in the
// server's zone, so it is refused.
function isoTime(value, field) {
  if (Number.isSafeInteger(value)) return new Date(value).toISOString();
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))) {
    return new Date(value).toISOString();
  }
  throw inputError(field, `expected epoch milliseconds or an ISO 8601 time with offset (${JSON.stringify(value)})`);
}

function customerGidOf({ customerGid, customer }) {
  if (typeof customerGid === 'string' && CUSTOMER_GID.test(customerGid)) return customerGid;
  if (customerGid !== undefined) throw inputError('customerGid', `not a Shopify customer gid (${JSON.stringify(customerGid)})`);
  const id = typeof customer === 'number' && Number.isSafeInteger(customer) ? String(customer) : customer;
  if (typeof id === 'string' && /^\d+$/.test(id)) return `gid://shopify/Customer/${id}`;
  if (typeof id === 'string' && CUSTOMER_GID.test(id)) return id;
  throw inputError('customer', `not a Shopify customer id (${JSON.stringify(customer)})`);
}

/** A coupon's Shopify input (without the mutation around it); exported for tests and dead-letter views. */
export function discountInput(coupon, { currency, combinesWith = {}, issuedAt, ...who } = {}) {
  if (!coupon || typeof coupon !== 'object') throw inputError('coupon', 'missing');
  if (typeof coupon.code !== 'string' || coupon.code.trim() === '') throw inputError('coupon.code', 'missing');
  const exponent = currencyExponent(currency);
  const input = {
    title: coupon.reward ? `Loyalty reward ${coupon.reward} (${coupon.code})` : `Loyalty reward (${coupon.code})`,
    code: coupon.code,
    // The effect may carry no issue time: the outbox's own time (issuedAt), else now.
    startsAt: isoTime(coupon.issued_at ?? issuedAt ?? Date.now(), coupon.issued_at != null ? 'coupon.issued_at' : 'issuedAt'),
    endsAt: coupon.expires_at == null ? null : isoTime(coupon.expires_at, 'coupon.expires_at'),
    usageLimit: 1,
    appliesOncePerCustomer: true,
    context: { customers: { add: [customerGidOf(who)] } },
    combinesWith: {
      orderDiscounts: combinesWith.order === true,
      productDiscounts: combinesWith.product === true,
      shippingDiscounts: combinesWith.shipping === true,
    },
  };
  if (coupon.min_order != null) {
    input.minimumRequirement = { subtotal: { greaterThanOrEqualToSubtotal: minimumDecimal(coupon.min_order, exponent, 'coupon.min_order') } };
  }
  // A code discount in Shopify has no cap on a percentage: created without it, the code
  // would give more than the coupon promises. Refuse rather than over-give.
  if (coupon.max_discount != null) throw inputError('coupon.max_discount', 'Shopify code discounts cannot cap a discount; not created');
  switch (coupon.type) {
    case 'percent':
      input.customerGets = { value: { percentage: percentFraction(coupon.value, 'coupon.value') }, items: { all: true } };
      return { kind: 'basic', input };
    case 'fixed':
      // appliesOnEachItem false: the amount comes off the order once, not off every line.
      input.customerGets = { value: { discountAmount: { amount: amountDecimal(coupon.value, exponent, 'coupon.value'), appliesOnEachItem: false } }, items: { all: true } };
      return { kind: 'basic', input };
    case 'free_shipping':
      input.destination = { all: true };
      return { kind: 'free_shipping', input };
    default:
      throw inputError('coupon.type', `${JSON.stringify(coupon.type)} has no Shopify code discount here (expected percent, fixed or free_shipping)`);
  }
}

/** 'orders/paid' or 'ORDERS_PAID' -> 'ORDERS_PAID'. */
export function webhookTopic(topic) {
  if (typeof topic !== 'string' || !/^[a-z_]+\/[a-z_]+$|^[A-Z_]+$/.test(topic)) throw inputError('topics', `not a webhook topic (${JSON.stringify(topic)})`);
  return topic.replace('/', '_').toUpperCase();
}

function userErrorsFail(what, userErrors) {
  const first = userErrors[0];
  const where = Array.isArray(first.field) ? first.field.join('.') : '';
  return new StoreApiError(`${what}: ${where ? `${where}: ` : ''}${first.message}`, { code: first.code ?? 'USER_ERROR', status: 200, permanent: true, details: { userErrors } });
}

/**
 * The store-sync client for one shop.
 * @param {{shopify: object, shop: string, accessToken: string, timeoutMs?: number}} options
 * @example
 *   const admin = createShopifyAdmin({ shopify, shop: 'a.myshopify.com', accessToken });
 *   await admin.ensureCoupon(effect.coupon, { customer: effect.customer, currency: 'EUR', combinesWith: shop.settings.combines_with });
 */
export function createShopifyAdmin({ shopify, shop, accessToken, timeoutMs = DEFAULT_TIMEOUT_MS }) {
  const domain = shopify?.utils?.sanitizeShop(String(shop ?? ''));
  if (!domain) throw new TypeError(`shop: expected <name>.myshopify.com (${JSON.stringify(shop)})`);
  if (typeof accessToken !== 'string' || accessToken === '') throw new TypeError('accessToken: missing');
  const session = new Session({ id: shopify.session.getOfflineId(domain), shop: domain, state: '', isOnline: false, accessToken });
  const client = new shopify.clients.Graphql({ session });

  function bucketWait() {
    const b = buckets.get(domain);
    if (!b) return 0;
    const now = Date.now();
    const available = Math.min(b.maximumAvailable, b.currentlyAvailable + ((now - b.at) / 1000) * b.restoreRate);
    return available >= MIN_AVAILABLE ? 0 : Math.ceil(((MIN_AVAILABLE - available) / b.restoreRate) * 1000);
  }

  function noteCost(extensions) {
    const t = extensions?.cost?.throttleStatus;
    if (t && Number.isFinite(t.currentlyAvailable) && t.restoreRate > 0) {
      buckets.set(domain, { maximumAvailable: t.maximumAvailable, currentlyAvailable: t.currentlyAvailable, restoreRate: t.restoreRate, at: Date.now() });
    }
  }

  async function call(document, variables) {
    const wait = bucketWait();
    if (wait > 0) {
      throw new StoreApiError(`Shopify cost budget for ${domain} is spent; retry in ${wait} ms`, { code: 'THROTTLED', retryAfterMs: wait, details: { bucket: buckets.get(domain) } });
    }
    let res;
    try {
      res = await client.request(document, { variables, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw storeError(err);
    }
    noteCost(res.extensions);
    return res.data;
  }

  function storeError(err) {
    if (err instanceof GraphqlQueryError) {
      const body = err.body ?? {};
      noteCost(body.extensions);
      const errors = body.errors?.graphQLErrors ?? [];
      if (errors.some((e) => e?.extensions?.code === 'THROTTLED')) {
        const cost = body.extensions?.cost;
        const t = cost?.throttleStatus;
        const need = Math.max(0, (cost?.requestedQueryCost ?? MIN_AVAILABLE) - (t?.currentlyAvailable ?? 0));
        const retryAfterMs = t?.restoreRate > 0 ? Math.max(100, Math.ceil((need / t.restoreRate) * 1000)) : 1000;
        return new StoreApiError(`Shopify throttled ${domain}; retry in ${retryAfterMs} ms`, { code: 'THROTTLED', status: 200, retryAfterMs, details: { errors, cost }, cause: err });
      }
      // A document Shopify refuses (schema, access scope): the same call fails again.
      const code = errors[0]?.extensions?.code ?? 'GRAPHQL_ERROR';
      return new StoreApiError(`Shopify refused the query: ${errors.map((e) => e.message).join('; ') || err.message}`, { code, status: 200, permanent: true, details: { errors }, cause: err });
    }
    if (err instanceof HttpThrottlingError) {
      const seconds = err.response?.retryAfter;
      const retryAfterMs = Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : 2000;
      return new StoreApiError(`Shopify answered 429 for ${domain}; retry in ${retryAfterMs} ms`, { code: 'THROTTLED', status: 429, retryAfterMs, details: { body: err.response?.body?.errors?.message ?? null }, cause: err });
    }
    if (err instanceof HttpInternalError || err instanceof HttpMaxRetriesError) {
      return new StoreApiError(`Shopify server error for ${domain}: ${err.message}`, { code: 'SERVER_ERROR', status: err.response?.code ?? null, cause: err });
    }
    if (err instanceof HttpResponseError) {
      const status = err.response?.code ?? null;
      // 401 bad/revoked token, 402 shop frozen, 403 scope missing, 404 shop gone, 423 locked:
      // retrying cannot help until a person acts (reinstall, unfreeze).
      return new StoreApiError(`Shopify answered ${status} for ${domain}: ${err.message.split('\n')[0]}`, { code: `HTTP_${status}`, status, permanent: true, details: { body: err.response?.body ?? null }, cause: err });
    }
    if (err instanceof HttpRequestError || err?.name === 'TimeoutError' || err?.name === 'AbortError') {
      // No answer (timeout, dropped connection): the call may have been applied, so the
      // retry looks the code up first.
      return new StoreApiError(`no answer from Shopify for ${domain}: ${err.message}`, { code: 'NETWORK', cause: err });
    }
    return err;
  }

  // A code found by the look-up is a retry of ours only if it is the same kind of discount
  // for the same customer; anything else (a merchant's code that happens to match) must not
  // stand in for the coupon.
  function ours(node, kind, input) {
    const typename = node.codeDiscount?.__typename;
    const customers = node.codeDiscount?.context?.customers?.map((c) => c.id) ?? [];
    const customer = input.context.customers.add[0];
    if (typename !== (kind === 'basic' ? 'DiscountCodeBasic' : 'DiscountCodeFreeShipping') || !customers.includes(customer)) {
      throw new StoreApiError(`code ${input.code} already exists in ${domain} as another discount (${typename ?? 'unknown'} for ${customers.join(', ') || 'other buyers'})`, { code: 'CODE_CONFLICT', permanent: true, details: { id: node.id, typename, customers } });
    }
    return node.id;
  }

  async function lookup(code) {
    const data = await call(LOOKUP, { code });
    return data?.codeDiscountNodeByCode ?? null;
  }

  return {
    shop: domain,

    /** Creates the coupon's discount code unless it exists: {id, created}. */
    async ensureCoupon(coupon, options = {}) {
      const { kind, input } = discountInput(coupon, options);
      const existing = await lookup(input.code);
      if (existing) return { id: ours(existing, kind, input), created: false };
      const [document, field] = kind === 'basic' ? [CREATE_BASIC, 'discountCodeBasicCreate'] : [CREATE_FREE_SHIPPING, 'discountCodeFreeShippingCreate'];
      const data = await call(document, { discount: input });
      const payload = data?.[field];
      if (payload?.userErrors?.length) {
        // Made by a concurrent attempt between our look-up and create: it is ours.
        if (payload.userErrors.some((e) => e.code === 'TAKEN')) {
          const again = await lookup(input.code);
          if (again) return { id: ours(again, kind, input), created: false };
        }
        throw userErrorsFail(`${field} ${input.code}`, payload.userErrors);
      }
      const id = payload?.codeDiscountNode?.id;
      if (!id) throw new StoreApiError(`${field} ${input.code}: no discount node in the answer`, { code: 'BAD_RESPONSE', status: 200, details: { data } });
      return { id, created: true };
    },

    /** Ends the code now (Shopify sets endsAt); absent or already expired is done. */
    async deactivateCoupon(code) {
      if (typeof code !== 'string' || code === '') throw inputError('code', 'missing');
      const existing = await lookup(code);
      if (!existing) return { id: null, done: true };
      if (existing.codeDiscount?.status === 'EXPIRED') return { id: existing.id, done: true };
      const data = await call(DEACTIVATE, { id: existing.id });
      const payload = data?.discountCodeDeactivate;
      if (payload?.userErrors?.length) throw userErrorsFail(`discountCodeDeactivate ${code}`, payload.userErrors);
      return { id: existing.id, done: true };
    },

    /**
     * Subscribes `callbackUrl` to each topic unless already subscribed. Shopify signs
     * deliveries with the app secret, so `secret` is not used here.
     */
    async registerWebhooks(callbackUrl, topics, _secret) {
      if (typeof callbackUrl !== 'string' || !/^https:\/\//.test(callbackUrl)) throw inputError('callbackUrl', `Shopify delivers to https URLs only (${JSON.stringify(callbackUrl)})`);
      if (!Array.isArray(topics) || topics.length === 0) throw inputError('topics', 'expected a non-empty list');
      const wanted = [...new Set(topics.map(webhookTopic))];
      const existing = [];
      let after = null;
      do {
        const page = (await call(LIST_WEBHOOKS, { topics: wanted, after }))?.webhookSubscriptions;
        existing.push(...(page?.nodes ?? []));
        after = page?.pageInfo?.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      const out = [];
      for (const topic of wanted) {
        const found = existing.find((s) => s.topic === topic && s.uri === callbackUrl);
        if (found) {
          out.push({ topic, id: found.id, created: false });
          continue;
        }
        const payload = (await call(CREATE_WEBHOOK, { topic, webhook: { uri: callbackUrl, format: 'JSON' } }))?.webhookSubscriptionCreate;
        if (payload?.userErrors?.length) throw userErrorsFail(`webhookSubscriptionCreate ${topic}`, payload.userErrors);
        out.push({ topic, id: payload.webhookSubscription.id, created: true });
      }
      return out;
    },
  };
}
