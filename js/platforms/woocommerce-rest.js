// A WooCommerce REST API (wc/v3) client for one store: the store-sync side of the loop
// (DESIGN.md "Shops and the store loop"). Plain fetch with HTTP Basic auth: WooCommerce
// accepts Basic only over HTTPS (WC_REST_Authentication::authenticate runs it when is_ssl()),
// and Basic over TLS needs no OAuth 1.0a signing, so the official client
// (@woocommerce/woocommerce-rest-api: axios + an OAuth library) would add two dependencies for
// four routes. Every failure is a StoreApiError carrying WooCommerce's own `code`; input
// refused before any call is one too (inputError: `invalid_input`, naming the field), as in
// shopify-admin.js.
import { StoreApiError, inputError } from './store-error.js';
import { DECIMAL, amountDecimal, minimumDecimal } from './coupon-amounts.js';
import { zoneTable } from '../zone.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
// Written into every coupon we create, so a lookup can tell our coupon (adopt it) from a
// merchant's coupon that happens to share the code (never touch it).
export const COUPON_META_KEY = 'loyalty_engine_coupon';
const TYPES = { percent: 'percent', fixed: 'fixed_cart', free_shipping: 'fixed_cart' };

/**
 * @param {{url: string, key: string, secret: string, fetch?: typeof fetch, timeoutMs?: number}} options
 * @example
 * const woo = createWooRestClient({ url: 'https://shop.example', key: 'ck_…', secret: 'cs_…' });
 * await woo.ensureCoupon(effect.coupon, { email, individualUse: false, timezone: 'Europe/Oslo', decimals: 2 });
 */
export function createWooRestClient({ url, key, secret, fetch: f = globalThis.fetch, timeoutMs = 15_000 }) {
  const base = storeUrl(url);
  if (typeof key !== 'string' || key === '') throw new TypeError('key: the WooCommerce consumer key (ck_…) is required');
  if (typeof secret !== 'string' || secret === '') throw new TypeError('secret: the WooCommerce consumer secret (cs_…) is required');
  const auth = `Basic ${Buffer.from(`${key}:${secret}`, 'utf8').toString('base64')}`;
  const keyName = maskKey(key);

  /** One call to wc/v3 (or, with `root`, to the unauthenticated WordPress index). Returns {body, headers}. */
  async function call(method, path, { query, body, root = false } = {}) {
    const target = new URL(root ? `${base}/wp-json/` : `${base}/wp-json/wc/v3${path}`);
    for (const [k, v] of Object.entries(query ?? {})) target.searchParams.set(k, String(v));
    const what = `WooCommerce ${method} ${root ? '/wp-json/' : path}`;
    const headers = { accept: 'application/json' };
    // The index is public; a WooCommerce key sent outside wc/* is refused since WooCommerce 11.1
    // (WC_REST_Authentication::reject_out_of_scope_route), so it goes without credentials.
    if (!root) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    let text;
    try {
      // Redirects are not followed: a 301/302 turns a POST into a GET, and a coupon "created"
      // by a GET of the coupon list would be a silent loss.
      res = await f(target, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (err) {
      // No answer: the request may or may not have been applied, so it is always retryable
      // (ensureCoupon looks the code up first on the retry).
      const timedOut = err?.name === 'TimeoutError' || err?.name === 'AbortError';
      throw new StoreApiError(`${what}: ${timedOut ? `no answer within ${timeoutMs} ms` : `network error (${err?.message ?? err})`}`,
        { code: timedOut ? 'timeout' : 'network_error', status: null, ...retryPolicy(null) });
    }
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.get('location') ?? '(no Location)';
      throw new StoreApiError(`${what}: the store redirects (${res.status}) to ${to}; connect it with the URL it redirects to`,
        { code: `http_${res.status}`, status: res.status, permanent: true, details: { location: to } });
    }
    let data;
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch {
      data = undefined; // an HTML error page from a proxy or a PHP fatal
    }
    if (res.ok && data !== undefined) return { body: data, headers: res.headers };
    if (res.ok) {
      // WordPress without pretty permalinks serves a page, not the API, at /wp-json/.
      throw new StoreApiError(`${what}: answered ${res.status} with something other than JSON; is the REST API reachable at ${base}/wp-json/ (Settings > Permalinks not "Plain")?`,
        { code: 'not_json', status: res.status, permanent: true, details: text.slice(0, 500) });
    }
    throw apiError(what, res.status, data, text, res.headers.get('retry-after'), root ? null : keyName);
  }

  /** Every page of a collection (per_page is at most 100 in WooCommerce). */
  async function listAll(path, query = {}) {
    const all = [];
    for (let page = 1; ; page++) {
      const { body, headers } = await call('GET', path, { query: { ...query, per_page: 100, page } });
      all.push(...(Array.isArray(body) ? body : []));
      const pages = Number(headers.get('x-wp-totalpages') ?? 1);
      if (page >= pages || !Array.isArray(body) || body.length === 0) return all;
    }
  }

  /** The coupon with this code (codes are case-insensitive in WooCommerce), or null. */
  async function findCoupon(code) {
    const { body } = await call('GET', '/coupons', { query: { code } });
    const wanted = code.toLowerCase();
    return (Array.isArray(body) ? body : []).find((c) => String(c.code).toLowerCase() === wanted) ?? null;
  }

  function adoptOrRefuse(found, code) {
    if (isOurs(found)) return { id: String(found.id), created: false };
    throw new StoreApiError(`coupon.code: "${code}" already exists in the store (id ${found.id}) and was not created by loyalty-engine; not adopting it`,
      { code: 'woocommerce_rest_coupon_code_already_exists', status: 400, permanent: true, details: { id: found.id } });
  }

  return {
    call,

    /**
     * {currency, price_decimals, timezone, home?}: currency and decimals from GET wc/v3/settings/general
     * (woocommerce_currency, woocommerce_price_num_decimals); the time zone from the WordPress index
     * GET /wp-json/ (timezone_string, else gmt_offset as ±HH:MM), because neither settings/general
     * nor system_status carries the site's zone (system_status' environment.default_timezone is
     * PHP's, which WordPress pins to UTC); `home` (home_url, no trailing slash) from the index too.
     * `timezone` given: used as is, the index is not read (and `home` is absent).
     */
    async storeSettings({ timezone } = {}) {
      const { body: general } = await call('GET', '/settings/general');
      const value = (id) => (Array.isArray(general) ? general.find((s) => s?.id === id)?.value : undefined);
      const currency = value('woocommerce_currency');
      const decimals = value('woocommerce_price_num_decimals');
      if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw settingError('woocommerce_currency', currency);
      if (!/^\d$/.test(String(decimals ?? ''))) throw settingError('woocommerce_price_num_decimals', decimals);
      if (timezone !== undefined) {
        offsetSeconds(requireZone(timezone), 0); // validates the name
        return { currency, price_decimals: Number(decimals), timezone };
      }
      let index;
      try {
        ({ body: index } = await call('GET', '/', { root: true, query: { _fields: 'timezone_string,gmt_offset,home' } }));
      } catch (err) {
        // Security plugins often close the REST index to visitors; the merchant can then say the zone.
        if (!err.permanent) throw err;
        throw new StoreApiError(`${err.message} (the site's time zone is read from the public WordPress index /wp-json/; pass \`timezone\` (Settings > General > Timezone) when it is closed)`,
          { code: err.code, status: err.status, permanent: true, details: err.details });
      }
      const settings = { currency, price_decimals: Number(decimals), timezone: siteZone(index?.timezone_string, index?.gmt_offset) };
      // home_url(): what every webhook delivery names in X-WC-Webhook-Source.
      if (typeof index?.home === 'string' && /^https?:\/\//.test(index.home)) settings.home = index.home.replace(/\/+$/, '');
      return settings;
    },

    findCoupon,

    /**
     * Creates the coupon in the store with exactly the engine's terms, once: the code is looked
     * up first, so a retry after a timeout adopts what the first attempt committed.
     * `decimals` is the exponent of the coupon's minor units (`min_order`), i.e. the program
     * currency's; `timezone` the store's (storeSettings().timezone).
     * @returns {Promise<{id: string, created: boolean}>}
     */
    async ensureCoupon(coupon, options = {}) {
      const terms = couponTerms(coupon, options);
      const existing = await findCoupon(terms.code);
      if (existing) return adoptOrRefuse(existing, terms.code);
      try {
        const { body } = await call('POST', '/coupons', { body: terms });
        return { id: idOf(body, 'POST /coupons'), created: true };
      } catch (err) {
        // Lost a race with another worker (or a committed attempt the lookup did not yet see).
        if (err?.code !== 'woocommerce_rest_coupon_code_already_exists') throw err;
        const found = await findCoupon(terms.code);
        if (!found) throw err;
        return adoptOrRefuse(found, terms.code);
      }
    },

    /**
     * Makes the code unusable: deletes it for good (`mode: 'delete'`, the default; WooCommerce
     * orders keep the code on their coupon lines) or sets its expiry to now (`mode: 'expire'`,
     * needs `timezone`), keeping it visible to the merchant. A code not in the store is done.
     * @returns {Promise<{id: string|null, done: boolean}>}
     */
    async deactivateCoupon(code, { mode = 'delete', timezone, now = Date.now() } = {}) {
      if (typeof code !== 'string' || code === '') throw inputError('code', 'expected a non-empty string');
      const found = await findCoupon(code);
      if (!found) return { id: null, done: true };
      if (!isOurs(found)) return adoptOrRefuse(found, code);
      const id = String(found.id);
      try {
        if (mode === 'expire') {
          await call('PUT', `/coupons/${id}`, { body: { date_expires: localDateTime(now, requireZone(timezone)) } });
        } else if (mode === 'delete') {
          await call('DELETE', `/coupons/${id}`, { query: { force: 'true' } });
        } else {
          throw inputError('mode', `expected "delete" or "expire", got ${JSON.stringify(mode)}`);
        }
      } catch (err) {
        // Deleted in between (by the merchant or an earlier attempt): the goal is met.
        if (err?.status === 404 && /_invalid_id$/.test(err.code)) return { id, done: true };
        throw err;
      }
      return { id, done: true };
    },

    /**
     * One active webhook per topic delivering to `deliveryUrl`, signed with `secret`. Existing
     * webhooks with that URL and topic are adopted (re-activated, secret re-set: WooCommerce never
     * returns a secret, so it cannot be compared) and duplicates deleted; none is created twice.
     * @returns {Promise<Array<{topic: string, id: string, created: boolean}>>}
     */
    async registerWebhooks(deliveryUrl, topics, secret) {
      if (typeof deliveryUrl !== 'string' || !/^https?:\/\/[^/]+/.test(deliveryUrl)) throw inputError('deliveryUrl', `expected an http(s) URL, got ${JSON.stringify(deliveryUrl)}`);
      if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string')) throw inputError('topics', 'expected a non-empty array of topic names such as "order.created"');
      // Without our secret the deliveries cannot be verified, so it is required here.
      if (typeof secret !== 'string' || secret === '') throw inputError('secret', 'the webhook secret is required (WooCommerce would otherwise pick one we never see)');
      const ours = (await listAll('/webhooks')).filter((w) => w.delivery_url === deliveryUrl).sort((a, b) => a.id - b.id);
      const result = [];
      for (const topic of topics) {
        const [keep, ...extra] = ours.filter((w) => w.topic === topic);
        const name = `Loyalty: ${topic}`;
        if (keep) {
          await call('PUT', `/webhooks/${keep.id}`, { body: { name, status: 'active', secret } });
          for (const dup of extra) await call('DELETE', `/webhooks/${dup.id}`, { query: { force: 'true' } });
          result.push({ topic, id: String(keep.id), created: false });
        } else {
          const { body } = await call('POST', '/webhooks', { body: { name, topic, delivery_url: deliveryUrl, secret, status: 'active' } });
          result.push({ topic, id: idOf(body, 'POST /webhooks'), created: true });
        }
      }
      return result;
    },
  };
}

/** The store's base URL without a trailing slash; HTTPS, or http on loopback (tests). */
export function storeUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`url: not a URL (${JSON.stringify(url)})`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
    throw new TypeError(`url: ${u.origin} must use https (consumer keys travel in the Basic auth header; http is allowed only for 127.0.0.1/localhost)`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * The WooCommerce coupon body for an engine coupon (CONTRACT.md "Coupon as the engine emits it").
 * Terms WooCommerce cannot express (max_discount, free_product) are refused, never dropped.
 */
export function couponTerms(coupon, { email, individualUse = false, timezone, decimals, customer } = {}) {
  if (!coupon || typeof coupon !== 'object') throw inputError('coupon', 'expected the coupon object of a coupon.issued effect');
  const { code, type, value } = coupon;
  if (typeof code !== 'string' || code.trim() === '') throw inputError('coupon.code', 'expected a non-empty string');
  if (!(type in TYPES)) throw inputError('coupon.type', `${JSON.stringify(type)} has no WooCommerce coupon (percent, fixed and free_shipping do)`);
  if (coupon.max_discount !== undefined && coupon.max_discount !== null) {
    throw inputError('coupon.max_discount', 'WooCommerce coupons have no maximum discount; refusing to create a coupon worth more than the reward');
  }
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email)) throw inputError('email', `the customer's email is required to restrict the coupon to them (got ${JSON.stringify(email)})`);
  if (typeof individualUse !== 'boolean') throw inputError('individualUse', 'expected a boolean (the shop\'s individual_use setting)');
  const scale = exponent(decimals);

  let amount = '0';
  if (type === 'percent') {
    if (typeof value !== 'string' || !DECIMAL.test(value)) throw inputError('coupon.value', `not a non-negative decimal string (${JSON.stringify(value)})`);
    // As Shopify's client refuses: a percentage is above 0 and at most 100.
    if (!/[1-9]/.test(value) || Number(value) > 100) throw inputError('coupon.value', `${value}% is not a percentage a coupon can take`);
    amount = value;
  }
  if (type === 'fixed') amount = amountDecimal(value, scale, 'coupon.value');

  const body = {
    code,
    discount_type: TYPES[type],
    amount,
    individual_use: individualUse,
    usage_limit: 1,
    usage_limit_per_user: 1,
    email_restrictions: [email],
    free_shipping: type === 'free_shipping',
    description: `Loyalty reward ${coupon.reward ?? ''}${customer ? ` for customer ${customer}` : ''}`.trim(),
    meta_data: [{ key: COUPON_META_KEY, value: JSON.stringify({ reward: coupon.reward ?? null, customer: customer ?? null }) }],
  };
  // Two forms, as in shopify-admin.js: CONTRACT.md's integer minor units and epoch ms, and what
  // the engine's coupon.issued effect carries today, a decimal string in the currency ("100.00")
  // and an ISO time with offset. A number is minor units, a string an amount: never ambiguous.
  if (coupon.min_order !== undefined && coupon.min_order !== null) body.minimum_amount = minimumDecimal(coupon.min_order, scale, 'coupon.min_order');
  if (coupon.expires_at !== undefined && coupon.expires_at !== null) {
    const at = typeof coupon.expires_at === 'string' && /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(coupon.expires_at) ? Date.parse(coupon.expires_at) : coupon.expires_at;
    if (!Number.isSafeInteger(at)) throw inputError('coupon.expires_at', `expected epoch milliseconds or an ISO time with offset, got ${JSON.stringify(coupon.expires_at)}`);
    // The store's local time with its offset: WooCommerce ignores date_expires_gmt on coupons
    // (WC_Coupon has no setter for it). Whole seconds, rounded down, so the store never accepts
    // the code after the engine's expiry.
    body.date_expires = localDateTime(at, requireZone(timezone));
  }
  return body;
}

/**
 * "YYYY-MM-DDTHH:MM:SS±HH:MM": the wall time of `ms` in `zone` (an IANA name, "UTC" or a ±HH:MM
 * offset) with that moment's offset. WooCommerce reads such a string as exactly that instant
 * (WC_Data::set_date_prop's ISO 8601 branch), so even the repeated hour when summer time ends is
 * unambiguous; without the offset it would guess the wall time through get_gmt_from_date.
 */
export function localDateTime(ms, zone) {
  const seconds = Math.floor(ms / 1000);
  const offset = offsetSeconds(zone, seconds);
  const sign = offset < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(offset) / 3600)).padStart(2, '0');
  const mm = String(Math.floor((Math.abs(offset) % 3600) / 60)).padStart(2, '0');
  return `${new Date((seconds + offset) * 1000).toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
}

function offsetSeconds(zone, atSeconds) {
  const fixed = /^([+-])(\d\d):(\d\d)$/.exec(zone);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 3600 + Number(fixed[3]) * 60);
  let table;
  try {
    table = zoneTable(zone);
  } catch {
    throw inputError('timezone', `unknown time zone ${JSON.stringify(zone)}`);
  }
  if (!table) return 0;
  let offset = table.offset;
  for (const [at, next] of table.changes) {
    if (at > atSeconds) break;
    offset = next;
  }
  return offset;
}

/** The site's zone from the WordPress index: timezone_string, else the manual gmt_offset in hours. */
export function siteZone(timezoneString, gmtOffset) {
  if (typeof timezoneString === 'string' && timezoneString !== '') return timezoneString;
  const text = String(gmtOffset ?? '0').trim();
  const m = /^([+-]?)(\d{1,2})(?:\.(\d+))?$/.exec(text);
  if (!m) throw new StoreApiError(`WooCommerce GET /wp-json/: gmt_offset ${JSON.stringify(gmtOffset)} is not an hour offset`, { code: 'bad_setting', status: 200, permanent: true });
  // Hours with a decimal fraction ("5.5", "5.75"): minutes exactly, without floats.
  const frac = (m[3] ?? '0').padEnd(2, '0').slice(0, 2);
  const minutes = Number(m[2]) * 60 + (Number(frac) * 60) / 100;
  if (minutes === 0) return 'UTC';
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(Math.round(minutes % 60)).padStart(2, '0');
  return `${m[1] === '-' ? '-' : '+'}${hh}:${mm}`;
}

/**
 * Retry policy from an HTTP status: no answer (null), 429 and 5xx are transient (retry after
 * `Retry-After` or `fallbackMs`); other 4xx are permanent (the same request fails the same way).
 */
export function retryPolicy(status, retryAfterHeader, fallbackMs = 30_000) {
  if (status === null || status === 429 || status >= 500) {
    return { permanent: false, retryAfterMs: parseRetryAfter(retryAfterHeader) ?? fallbackMs };
  }
  return { permanent: status >= 400 };
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value, now = Date.now()) {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

// The id of a created object; anything else means the answer was not what WooCommerce sends.
function idOf(body, what) {
  if (Number.isSafeInteger(body?.id) && body.id > 0) return String(body.id);
  throw new StoreApiError(`WooCommerce ${what}: the answer has no id (${JSON.stringify(body)?.slice(0, 200)})`, { code: 'bad_answer', status: 200, permanent: true, details: body });
}

function isOurs(coupon) {
  return Array.isArray(coupon?.meta_data) && coupon.meta_data.some((m) => m?.key === COUPON_META_KEY);
}

function apiError(what, status, data, text, retryAfter, keyName) {
  const code = typeof data?.code === 'string' ? data.code : `http_${status}`;
  const params = data?.data?.params && typeof data.data.params === 'object' ? Object.values(data.data.params).join(' ') : '';
  let message = typeof data?.message === 'string' ? data.message : (text || '').slice(0, 200) || `HTTP ${status}`;
  if (params) message += ` (${params})`;
  if (keyName && (status === 401 || code === 'woocommerce_rest_authentication_error')) {
    message = `the store refused consumer key ${keyName}: ${message} Check the key and secret, that the key has Read/Write permission, and that the store is served over HTTPS.`;
  }
  return new StoreApiError(`${what}: ${message}`, { code, status, ...retryPolicy(status, retryAfter ?? undefined), details: data ?? text });
}

function settingError(id, value) {
  return new StoreApiError(`WooCommerce GET /settings/general: ${id} is ${JSON.stringify(value)}`, { code: 'bad_setting', status: 200, permanent: true });
}

function maskKey(key) {
  return key.length > 10 ? `${key.slice(0, 3)}…${key.slice(-4)}` : `${key.slice(0, 3)}…`;
}

function requireZone(zone) {
  if (typeof zone !== 'string' || zone === '') throw inputError('timezone', 'the store\'s time zone is required for a coupon expiry (storeSettings().timezone)');
  return zone;
}

function exponent(decimals) {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 6) throw inputError('decimals', `expected the currency's decimals (0-6), got ${JSON.stringify(decimals)}`);
  return decimals;
}
