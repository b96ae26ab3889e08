// A small client for the loyalty backend's admin API, shared by the widgets.
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

/** @param {{base?: string, token?: string, fetch?: typeof fetch}} options */
export function createClient({ base = '', token = '', fetch: f = globalThis.fetch.bind(globalThis) } = {}) {
  async function call(method, path, body) {
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
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
  }
  const id = encodeURIComponent;
  return {
    call,
    program: () => call('GET', '/api/program'),
    search: (q, limit = 20) => call('GET', `/api/customers?q=${id(q)}&limit=${limit}`),
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
