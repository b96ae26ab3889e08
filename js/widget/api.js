// Small clients for the loyalty backend, shared by the widgets: `createClient` for the
// admin API (the admin panel, with the admin token), `createStorefrontClient` for the
// customer-scoped storefront routes (no admin secret ever reaches a shop's page).
export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = e.code ?? 'http_error';
    this.path = e.path ?? '';
    this.body = body;
  }
}

// One JSON call: errors come back as ApiError with the route's code and path.
// `fixed`: headers, or a function giving them per call (a session token fetched fresh).
function caller(base, fixed, f) {
  return async function call(method, path, body, extra = {}) {
    const headers = { accept: 'application/json', ...(typeof fixed === 'function' ? await fixed() : fixed), ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await f(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { error: { message: text } };
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  };
}

/**
 * @param {{base?: string, token?: string | (() => Promise<string>), fetch?: typeof fetch}} options
 *   `token` may be a function: embedded in Shopify, App Bridge's `shopify.idToken()`.
 */
export function createClient({ base = '', token = '', fetch: f = globalThis.fetch.bind(globalThis) } = {}) {
  const auth = typeof token === 'function' ? async () => ({ authorization: `Bearer ${await token()}` }) : token ? { authorization: `Bearer ${token}` } : {};
  const call = caller(base, auth, f);
  const id = encodeURIComponent;
  return {
    call,
    program: async () => (await call('GET', '/api/program')).program,
    search: (q, limit = 20, { field, sort, cursor } = {}) => call('GET', `/api/customers?q=${id(q)}&limit=${limit}${field ? `&field=${id(field)}` : ''}${sort ? `&sort=${id(sort)}` : ''}${cursor ? `&cursor=${id(cursor)}` : ''}`),
    profile: (c) => call('GET', `/api/customers/${id(c)}/profile`),
    redeem: (c, body) => call('POST', `/api/customers/${id(c)}/redeem`, body),
    resend: (c, outbox) => call('POST', `/api/customers/${id(c)}/notifications/${id(outbox)}/resend`, {}),
    // The program (js/server/program-routes.js): {program, version, author, created_at}.
    programState: () => call('GET', '/api/program'),
    programSchema: () => call('GET', '/api/program/schema'),
    presets: () => call('GET', '/api/program/presets'),
    previewProgram: (program) => call('POST', '/api/program/preview', { program }),
    publishProgram: (program, note) => call('POST', '/api/program', note ? { program, note } : { program }),
    versions: () => call('GET', '/api/program/versions'),
    rollback: (version) => call('POST', '/api/program/rollback', { version }),
    audit: ({ cursor, limit = 50 } = {}) => call('GET', `/api/audit?limit=${limit}${cursor ? `&cursor=${id(cursor)}` : ''}`),
    login: (name, password) => call('POST', '/api/login', { name, password }),
    account: (c) => call('GET', `/api/customers/${id(c)}`),
    history: (c, { cursor, limit = 50 } = {}) => call('GET', `/api/customers/${id(c)}/history?limit=${limit}${cursor ? `&cursor=${id(cursor)}` : ''}`),
    coupons: (c) => call('GET', `/api/customers/${id(c)}/coupons`),
    adjust: (c, body) => call('POST', `/api/customers/${id(c)}/adjust`, body),
    cancelCoupon: (code, body) => call('POST', `/api/coupons/${id(code)}/cancel`, body),
    quote: (body) => call('POST', '/api/quote', body),
    kpis: ({ from, to } = {}) => {
      const q = new URLSearchParams();
      if (from) q.set('from', from);
      if (to) q.set('to', to);
      return call('GET', `/api/kpis${q.size || [...q].length ? `?${q}` : ''}`);
    },
    // Notification templates (js/server/notify-routes.js).
    templates: () => call('GET', '/api/notify/templates'),
    template: ({ trigger, channel, locale }) => call('GET', `/api/notify/templates/${id(trigger)}/${id(channel)}/${id(locale)}`),
    saveTemplate: ({ trigger, channel, locale }, fields) => call('PUT', `/api/notify/templates/${id(trigger)}/${id(channel)}/${id(locale)}`, fields),
    preview: (body) => call('POST', '/api/notify/preview', body),
  };
}

/**
 * The storefront routes (js/server/storefront.js) for the logged-in customer. `base` is the
 * Shopify App Proxy path (`/apps/loyalty`: Shopify adds the signed customer; the shop's
 * cookies go along, same origin) or the backend's `/storefront` with `customerToken`, the
 * short-lived token the store signed for this customer. With `refreshToken` (a function
 * resolving to a new token), a call answered 401 gets a new token once and is retried with
 * it; concurrent 401s share one refresh, later calls use the new token, and a second 401 (or
 * a failed refresh, as `cause`) is the call's error.
 * @param {{base: string, customerToken?: string, refreshToken?: () => Promise<string>, fetch?: typeof fetch}} options
 * @example const me = await createStorefrontClient({ base: '/apps/loyalty' }).account();
 */
export function createStorefrontClient({ base, customerToken = '', refreshToken, fetch: f = globalThis.fetch.bind(globalThis) } = {}) {
  if (typeof base !== 'string' || base === '') throw new TypeError('createStorefrontClient: base is required (e.g. /apps/loyalty)');
  let token = customerToken;
  let refreshing = null;
  const once = caller(base.replace(/\/+$/, ''), () => (token ? { authorization: `Bearer ${token}` } : {}), f);
  const call = !refreshToken ? once : async (...args) => {
    const sent = token;
    try {
      return await once(...args);
    } catch (err) {
      if (err?.status !== 401) throw err;
      // Not yet replaced by another call's refresh: refresh (once for all waiting calls).
      if (token === sent) {
        refreshing ??= (async () => refreshToken())().finally(() => { refreshing = null; });
        try {
          const fresh = await refreshing;
          if (typeof fresh !== 'string' || fresh === '') throw new Error('refreshToken: no token');
          token = fresh;
        } catch (cause) {
          err.cause = cause;
          throw err;
        }
      }
      return once(...args);
    }
  };
  return {
    call,
    account: () => call('GET', '/account'),
    coupons: () => call('GET', '/coupons'),
    history: ({ cursor, limit } = {}) => {
      const q = new URLSearchParams();
      if (cursor) q.set('cursor', cursor);
      if (limit) q.set('limit', String(limit));
      return call('GET', `/history${[...q].length ? `?${q}` : ''}`);
    },
    // A key per click makes a retried request redeem once.
    redeem: (reward, { idempotencyKey } = {}) => call('POST', '/redeem', { reward }, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    quote: (cart) => call('POST', '/quote', { cart }),
    preferences: () => call('GET', '/preferences'),
    setPreferences: (fields) => call('PUT', '/preferences', fields),
    action: (action) => call('POST', '/actions', { action }),
    referral: () => call('GET', '/referral'),
    // The friend's side: a `?ref=` code remembered on arrival (js/widget/referral.js).
    claimReferral: (code) => call('POST', '/referral/claim', { code }),
  };
}

// The tokens tokenRefresher set on each element, so its reload on a new `customer-token`
// skips them (the call that needed it is retried by the client).
const refreshed = new WeakMap();

/**
 * `refreshToken` for createStorefrontClient from an element's `data-token-url` and
 * `data-token-nonce` (the WordPress plugin prints admin-ajax.php?action=loyalty_rewards_token
 * and a nonce): POSTs `_ajax_nonce`, reads `{success, data: {token}}`, and sets the element's
 * `customer-token` to the new token. Undefined without `data-token-url`.
 */
export function tokenRefresher(el, { fetch: f = globalThis.fetch?.bind(globalThis) } = {}) {
  const url = el.getAttribute?.('data-token-url');
  if (!url) return undefined;
  return async () => {
    const res = await f(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _ajax_nonce: el.getAttribute('data-token-nonce') ?? '' }).toString(),
    });
    const out = await res.json().catch(() => null);
    const token = res.ok && out?.success ? out.data?.token : undefined;
    if (typeof token !== 'string' || token === '') throw new Error(`token refresh failed (HTTP ${res.status})`);
    refreshed.set(el, token);
    el.setAttribute('customer-token', token);
    return token;
  };
}

/** Whether an element's `customer-token` changed to a token other than the one tokenRefresher set. */
export function tokenChanged(el, changed) {
  return changed.has('customerToken') && el.customerToken !== refreshed.get(el);
}

/**
 * Runs a widget's API action with its busy flag and error display (`_busy`, `_error`); a
 * 401 tells the host page, which signs in again.
 */
export async function runAction(host, fn) {
  host._busy = true;
  host._error = null;
  try {
    return await fn();
  } catch (err) {
    if (err.status === 401) host.dispatchEvent(new CustomEvent('unauthorized', { bubbles: true, composed: true }));
    host._error = err.message;
    return undefined;
  } finally {
    host._busy = false;
  }
}
