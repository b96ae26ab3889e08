// The admin panel: GET /admin (a page that loads <loyalty-admin>), its static assets (the
// widget modules, Lit through an import map, the wasm for the browser under /pkg), the
// storefront bundle under /widget (scripts/build-widget.sh: what the WordPress plugin's pages
// load, as a classic script from this backend), and the admin API routes the widget needs
// beyond api.js: customer search, coupon cancel, the customer's coupon rows and the KPIs. The page carries no token: the browser takes it from
// a login form (or ?token=, removed from the address bar at once) into sessionStorage.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpError } from './errors.js';
import { adminAuth, permit, stampAuthor } from './admin-auth.js';
import { auditor } from './operators.js';
import { kpis, customerPage, markCancelled } from '../stores/kpi.js';
import { notifyStore } from '../notify/store.js';

const here = dirname(fileURLToPath(import.meta.url));
const jsDir = join(here, '..');
const widgetDir = join(jsDir, 'widget');
const pkgDir = join(jsDir, '..', 'pkg');
// The storefront bundle, built by scripts/build-widget.sh (not committed: built by scripts/build.sh).
const bundleDir = join(jsDir, 'platforms', 'shopify-theme', 'assets');
const BUNDLE = 'loyalty-widget.js';

// The browser module graph: Lit's packages, found the way Node would (walking up to any
// node_modules that holds them, so it works installed as a dependency too).
const VENDOR = { 'lit': 'index.js', 'lit-html': 'lit-html.js', 'lit-element': 'lit-element.js', '@lit/reactive-element': 'reactive-element.js' };

function packageDir(name) {
  for (let dir = jsDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

export const importMap = () => {
  const imports = {};
  for (const [name, main] of Object.entries(VENDOR)) {
    imports[name] = `/admin/vendor/${name}/${main}`;
    imports[`${name}/`] = `/admin/vendor/${name}/`;
  }
  return { imports };
};

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.map': 'application/json', '.css': 'text/css; charset=utf-8', '.png': 'image/png' };
const typeOf = (file) => TYPES[file.slice(file.lastIndexOf('.'))] ?? null;

// A file under `root` by a URL path, or null: no `..`, no dotfiles, known types only.
function fileUnder(root, rel) {
  if (!root || typeof rel !== 'string' || rel === '' || rel.includes('\0')) return null;
  const full = normalize(join(root, rel));
  if (!full.startsWith(root + sep) || /(^|[\\/])\./.test(rel)) return null;
  if (!typeOf(full) || !existsSync(full) || !statSync(full).isFile()) return null;
  return full;
}

function sendFile(reply, full, { cache = 'no-cache' } = {}) {
  return reply.header('content-type', typeOf(full)).header('cache-control', cache).send(readFileSync(full));
}

// The whole module graph, fetched in parallel instead of as an import waterfall.
const PRELOAD = [
  '/admin/assets/index.js', '/admin/assets/admin.js', '/admin/assets/balance.js', '/admin/assets/api.js',
  '/admin/assets/program-admin.js', '/admin/assets/program-editor.js', '/admin/assets/audit-log.js',
  '/admin/assets/browser-engine.js', '/admin/zone.js', '/admin/errors.js', '/pkg/loyalty_engine.js',
  '/admin/vendor/lit/index.js', '/admin/vendor/lit-element/lit-element.js', '/admin/vendor/lit-html/lit-html.js',
  '/admin/vendor/lit-html/is-server.js', '/admin/vendor/@lit/reactive-element/reactive-element.js',
  '/admin/vendor/@lit/reactive-element/css-tag.js',
];

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The admin page. With `shopifyApiKey` it also runs embedded in the Shopify admin: App
 * Bridge (Shopify's CDN script) hands out session tokens, and every API call carries a
 * fresh one, so the merchant signs in with their Shopify login and sees their own shop.
 */
export function adminPage({ title: raw = 'Loyalty admin', shopifyApiKey } = {}) {
  // The program name is the merchant's text: escaped like any other.
  const title = escapeHtml(raw);
  const appBridge = shopifyApiKey
    ? `<meta name="shopify-api-key" content="${escapeHtml(shopifyApiKey)}">\n<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${appBridge}
<script type="importmap">${JSON.stringify(importMap())}</script>
${PRELOAD.map((href) => `<link rel="modulepreload" href="${href}">`).join('\n')}
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 16px; margin: 0; flex: 1; }
  main { max-width: 1100px; margin: 20px auto; padding: 0 16px; }
  #login { background: #fff; padding: 20px; border-radius: 8px; max-width: 420px; }
  #login input { width: 100%; box-sizing: border-box; padding: 8px; margin: 8px 0; }
  #login h2 { margin: 0 0 8px; font-size: 16px; }
  #login-error { color: #a3231b; }
  #login button { min-height: 40px; padding: 6px 16px; }
  button { cursor: pointer; }
</style>
</head>
<body>
<header><h1>${title}</h1><button id="logout" hidden>Sign out</button></header>
<main>
  <form id="login" hidden>
    <h2>Sign in</h2>
    <p id="login-error" role="alert" hidden></p>
    <label for="name">Operator name</label>
    <input id="name" name="name" autocomplete="username">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password">
    <p>or</p>
    <label for="token">Admin API token</label>
    <input id="token" name="token" type="password" autocomplete="off">
    <button type="submit">Sign in</button>
  </form>
  <div id="app"></div>
</main>
<script type="module">
  import '/admin/assets/index.js';
  const KEY = 'loyalty-admin-token';
  const ROLE = 'loyalty-admin-role';
  const url = new URL(location.href);
  // A token in the address bar is taken once and removed from it (and from history).
  if (url.searchParams.has('token')) {
    sessionStorage.setItem(KEY, url.searchParams.get('token'));
    sessionStorage.setItem(ROLE, 'owner');
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  const login = document.getElementById('login');
  const loginError = document.getElementById('login-error');
  const app = document.getElementById('app');
  const logout = document.getElementById('logout');
  const signOut = () => { sessionStorage.removeItem(KEY); sessionStorage.removeItem(ROLE); show(); };
  // Embedded in the Shopify admin: App Bridge's session tokens, fresh for every call.
  const embedded = typeof window.shopify?.idToken === 'function';
  function show() {
    const token = embedded ? () => window.shopify.idToken() : sessionStorage.getItem(KEY);
    app.replaceChildren();
    login.hidden = !!token;
    logout.hidden = !token;
    if (!token) return;
    const el = document.createElement('loyalty-admin');
    el.token = token;
    el.role = embedded ? 'owner' : sessionStorage.getItem(ROLE) ?? 'owner';
    // /admin#program (or #dashboard, #templates, #audit) opens on that tab.
    if (['customers', 'program', 'dashboard', 'templates', 'audit'].includes(location.hash.slice(1))) el.tab = location.hash.slice(1);
    el.addEventListener('unauthorized', signOut);
    app.append(el);
  }
  login.addEventListener('submit', async (e) => {
    e.preventDefault();
    loginError.hidden = true;
    const name = login.name.value.trim();
    if (name) {
      // A named operator: the session token and role the server hands back.
      const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: login.password.value }) });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        loginError.textContent = body.error?.message ?? 'Sign-in failed';
        loginError.hidden = false;
        return;
      }
      sessionStorage.setItem(KEY, body.token);
      sessionStorage.setItem(ROLE, body.operator.role);
    } else {
      // The operator token (scripts, the installer): acts as the owner.
      sessionStorage.setItem(KEY, login.token.value.trim());
      sessionStorage.setItem(ROLE, 'owner');
    }
    login.reset();
    show();
  });
  logout.addEventListener('click', async () => {
    const token = sessionStorage.getItem(KEY);
    if (token) await fetch('/api/logout', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: '{}' }).catch(() => {});
    signOut();
  });
  show();
</script>
</body>
</html>
`;
}

const codeParams = { type: 'object', required: ['code'], properties: { code: { type: 'string', minLength: 1, maxLength: 100 } } };
const customerParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } };
const error = { type: 'object', additionalProperties: true };
const anyObject = { type: 'object', additionalProperties: true };
const bearer = [{ bearer: [] }];

export const adminSchemas = {
  search: {
    summary: 'Customers, a keyset page at a time: all sorted by id, balance or last activity, or those whose id, email or name starts with `q`',
    security: bearer,
    querystring: {
      type: 'object',
      properties: {
        q: { type: 'string', maxLength: 200 }, limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
        field: { type: 'string', enum: ['any', 'id', 'email', 'name'] }, sort: { type: 'string', enum: ['id', 'balance', 'activity'] },
        cursor: { type: 'string', maxLength: 2000 },
      },
      additionalProperties: false,
    },
    response: { 200: anyObject, 400: error, 401: error },
  },
  redeem: {
    summary: 'Redeem a catalogue reward for the customer (staff)',
    security: bearer,
    params: customerParams,
    body: { type: 'object', required: ['reward'], properties: { reward: { type: 'string', minLength: 1, maxLength: 200 }, id: { type: 'string', minLength: 1, maxLength: 200 } }, additionalProperties: false },
    response: { 200: anyObject, 400: error, 401: error, 403: error, 404: error },
  },
  resend: {
    summary: "Send one of the customer's notifications again (staff)",
    security: bearer,
    params: { type: 'object', required: ['id', 'outbox'], properties: { id: customerParams.properties.id, outbox: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
    response: { 200: anyObject, 401: error, 403: error, 404: error },
  },
  cancelCoupon: {
    summary: 'Cancel an issued coupon (staff), with a reason; recorded as an event',
    security: bearer,
    params: codeParams,
    body: {
      type: 'object',
      required: ['reason'], // `by` is the signed-in operator, whatever is sent
      properties: { reason: { type: 'string', minLength: 1, maxLength: 500 }, by: { type: 'string', minLength: 1, maxLength: 200 } },
      additionalProperties: false,
    },
    response: { 200: anyObject, 400: error, 401: error, 404: error, 409: error },
  },
  coupons: {
    summary: "A customer's coupons as stored (status issued, used, expired or cancelled)",
    security: bearer,
    params: customerParams,
    response: { 200: anyObject, 401: error, 404: error },
  },
  kpis: {
    summary: 'Program KPIs over [from, to) (default: the last 30 days)',
    security: bearer,
    querystring: {
      type: 'object',
      properties: { from: { type: 'string', minLength: 1 }, to: { type: 'string', minLength: 1 } },
      additionalProperties: false,
    },
    response: { 200: anyObject, 400: error, 401: error, 501: error },
  },
};

const time = (value, name, fallback) => {
  if (value === undefined) return fallback;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw httpError(400, 'invalid_request', name, `${name}: not a time: ${value}`);
  return d;
};

/**
 * Fastify plugin. Register with `app.register(import('./admin-routes.js'), {loyalty, store, token, now})`.
 * @param {{loyalty: object, store?: object, token: string, now?: () => Date, auth?: Function, loyaltyNow?: () => Promise<object>}} options
 *   `auth`, `loyaltyNow`: as for js/server/api.js.
 */
export default async function adminRoutes(app, { loyalty: initial, store, token, now = () => new Date(), auth, loyaltyNow = async () => initial, shopifyApiKey }) {
  const program = initial.program;
  const db = store?.db ?? null;
  const sqlOnly = () => {
    if (!db) throw httpError(501, 'not_implemented', '', 'needs a SQL store (PGlite or PostgreSQL)');
    return db;
  };

  // --- the page and its static files: no token (they hold none) ---
  app.get('/admin', { schema: { hide: true } }, async (request, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    // Framed only by the Shopify admin of the shop it names (Shopify requires this policy).
    const shop = typeof request.query?.shop === 'string' && /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(request.query.shop) ? request.query.shop : null;
    reply.header('content-security-policy', shopifyApiKey && shop ? `frame-ancestors https://${shop} https://admin.shopify.com;` : "frame-ancestors 'none';");
    return reply.send(adminPage({ title: `${program.name ?? program.id} · loyalty admin`, shopifyApiKey }));
  });

  app.get('/admin/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const full = fileUnder(widgetDir, request.params['*']);
    if (!full) throw httpError(404, 'not_found', '', `no asset ${request.params['*']}`);
    return sendFile(reply, full);
  });

  // The engine's time-zone table and errors, imported by the widget as ../zone.js.
  for (const name of ['zone.js', 'errors.js']) {
    app.get(`/admin/${name}`, { schema: { hide: true } }, async (_request, reply) => sendFile(reply, join(jsDir, name)));
  }

  const vendorDirs = Object.fromEntries(Object.keys(VENDOR).map((name) => [name, packageDir(name)]));
  app.get('/admin/vendor/*', { schema: { hide: true } }, async (request, reply) => {
    const rest = request.params['*'];
    const name = Object.keys(VENDOR).find((n) => rest.startsWith(`${n}/`));
    const full = name && fileUnder(vendorDirs[name], rest.slice(name.length + 1));
    if (!full) throw httpError(404, 'not_found', '', `no module ${rest}`);
    return sendFile(reply, full, { cache: 'public, max-age=3600' });
  });

  app.get('/pkg/*', { schema: { hide: true } }, async (request, reply) => {
    const rel = request.params['*'];
    const full = /^loyalty_engine(_bg\.wasm|\.js)$/.test(rel) ? fileUnder(pkgDir, rel) : null;
    if (!full) throw httpError(404, 'not_found', '', `no file ${rel}`);
    return sendFile(reply, full);
  });

  // The storefront bundle (<loyalty-balance>, <loyalty-account>, <loyalty-referral>) for
  // pages on the shop's own origin (the WordPress plugin's <script src defer>), and the wasm
  // beside it, where its glue looks (the script's own address): a cart preview in the
  // browser. Public files, no token in them; any origin may fetch the wasm (a fetch, unlike
  // the script, needs CORS).
  app.get(`/widget/${BUNDLE}`, { schema: { hide: true } }, async (_request, reply) => {
    const full = fileUnder(bundleDir, BUNDLE);
    if (!full) throw httpError(404, 'not_found', '', `no file ${BUNDLE}: build it with scripts/build-widget.sh`);
    return sendFile(reply.header('access-control-allow-origin', '*'), full);
  });
  app.get('/widget/loyalty_engine_bg.wasm', { schema: { hide: true } }, async (_request, reply) => {
    const full = fileUnder(pkgDir, 'loyalty_engine_bg.wasm');
    if (!full) throw httpError(404, 'not_found', '', 'no file loyalty_engine_bg.wasm');
    return sendFile(reply.header('access-control-allow-origin', '*'), full);
  });

  // --- the admin API: the token or an operator's session, in its own scope ---
  app.register(async (api) => {
    api.addHook('onRequest', auth ?? adminAuth({ token, shop: program.id, db }));
    api.addHook('preValidation', stampAuthor);
    const record = auditor(db, program.id);

    api.get('/api/customers', { schema: adminSchemas.search, preHandler: permit('customers.read') }, async (request) => {
      const { q = '', limit, field, sort, cursor } = request.query;
      const n = limit === undefined ? 20 : Number(limit);
      if (n < 1 || n > 100) throw httpError(400, 'invalid_request', 'limit', 'limit: must be from 1 to 100');
      try {
        return await customerPage(sqlOnly(), program, { q, field, sort, cursor, limit: n });
      } catch (err) {
        if (err.code === 'invalid_request') throw httpError(400, 'invalid_request', err.path, err.message);
        throw err;
      }
    });

    // The customer page beyond the account view: contact, opt-outs, notifications sent.
    api.get('/api/customers/:id/profile', { schema: { summary: "A customer's contact, opt-outs and latest notifications", security: bearer, params: customerParams }, preHandler: permit('customers.read') }, async (request) => {
      const { id } = request.params;
      const loyalty = await loyaltyNow();
      if (!(await loyalty.account(id))) throw httpError(404, 'not_found', 'id', `no account for customer ${id}`);
      const contact = db ? await notifyStore(db).contact(program.id, id) : null;
      const { rows } = db ? await db.query(
        `SELECT id, effect->>'trigger' AS trigger, effect->'channels' AS channels, created_at, delivered_at, attempts FROM outbox
          WHERE program = $1 AND customer = $2 AND type = 'notify' ORDER BY id DESC LIMIT 20`, [program.id, id]) : { rows: [] };
      return {
        customer: id,
        contact: contact ? { email: contact.email ?? null, phone: contact.phone ?? null, name: contact.name ?? null, locale: contact.locale ?? null, opt_out: contact.opt_out ?? [] } : null,
        notifications: rows.map((r) => ({ id: String(r.id), trigger: r.trigger, channels: r.channels ?? [], created_at: new Date(r.created_at).toISOString(), delivered_at: r.delivered_at ? new Date(r.delivered_at).toISOString() : null, attempts: r.attempts })),
      };
    });

    api.get('/api/customers/:id/coupons', { schema: adminSchemas.coupons, preHandler: permit('coupons.read') }, async (request) => {
      const { id } = request.params;
      if (!(await (await loyaltyNow()).account(id))) throw httpError(404, 'not_found', 'id', `no account for customer ${id}`);
      const { rows } = await sqlOnly().query(
        'SELECT code, reward, status, order_id, data, sync_status, store_id, sync_error FROM coupons WHERE program = $1 AND customer = $2 ORDER BY code',
        [program.id, id]);
      return {
        coupons: rows.map((r) => ({
          ...r.data, code: r.code, reward: r.reward, status: r.status, order_id: r.order_id ?? null,
          // Where the code stands in the shop's own store (js/shops/store-sync.js).
          sync: { status: r.sync_status ?? null, store_id: r.store_id ?? null, error: r.sync_error ?? null },
        })),
      };
    });

    api.post('/api/customers/:id/redeem', { schema: adminSchemas.redeem, preHandler: permit('rewards.redeem') }, async (request) => {
      const { id } = request.params;
      const loyalty = await loyaltyNow();
      if (!(await loyalty.account(id))) throw httpError(404, 'not_found', 'id', `no account for customer ${id}`);
      const result = await loyalty.redeem(id, { reward: request.body.reward, id: request.body.id, at: now() });
      if (result.skipped) throw httpError(409, 'conflict', 'reward', result.skipped);
      if (!result.duplicate) await record(request, 'rewards.redeem', id, { reward: request.body.reward });
      return { ...result, account: await loyalty.account(id) };
    });

    // Resending puts the notification's effect in the outbox again under a new key, so the
    // dispatcher delivers it like any other (with its retries), and the first stays as sent.
    api.post('/api/customers/:id/notifications/:outbox/resend', { schema: adminSchemas.resend, preHandler: permit('notify.resend') }, async (request) => {
      const { id, outbox } = request.params;
      const { rows } = await sqlOnly().query(
        `INSERT INTO outbox (program, key, event_id, customer, type, effect)
         SELECT program, key || ':resend:' || $4, event_id, customer, type, effect FROM outbox
          WHERE program = $1 AND customer = $2 AND id = $3 AND type = 'notify' RETURNING id`,
        [program.id, id, outbox, now().getTime()]);
      if (!rows.length) throw httpError(404, 'not_found', 'outbox', `no notification ${outbox} for customer ${id}`);
      await record(request, 'notify.resend', id, { outbox, id: String(rows[0].id) });
      return { id: String(rows[0].id), resent: outbox };
    });

    // A cancel is the event `coupon.cancelled`: the engine withdraws the coupon and gives its
    // points back (a rebuild reproduces it), and the coupons row records who and why. The
    // event id is derived from the code, so a retried cancel is a no-op.
    api.post('/api/coupons/:code/cancel', { schema: adminSchemas.cancelCoupon, preHandler: permit('coupons.cancel') }, async (request) => {
      const { code } = request.params;
      const { reason, by } = request.body;
      const loyalty = await loyaltyNow();
      const coupon = await loyalty.coupon(code);
      if (!coupon) throw httpError(404, 'not_found', 'code', `no coupon ${code}`);
      if (coupon.status === 'cancelled') return { code, customer: coupon.customer, status: 'cancelled', duplicate: true, account: await loyalty.account(coupon.customer) };
      if (coupon.status !== 'issued') throw httpError(409, 'conflict', 'code', `coupon ${code} is ${coupon.status}`);
      const at = now().toISOString();
      const result = await loyalty.handle({ id: `coupon-cancel:${code}`, type: 'coupon.cancelled', at, customer: coupon.customer, code });
      if (result.skipped) throw httpError(409, 'conflict', 'code', result.skipped);
      if (db) await markCancelled(db, program, code, { reason, by, at });
      await record(request, 'coupons.cancel', code, { customer: coupon.customer, reason });
      return { code, customer: coupon.customer, status: 'cancelled', reason, by, at, account: await loyalty.account(coupon.customer) };
    });

    api.get('/api/donations', { schema: { summary: 'Points donated per charity, for payout', security: bearer, response: { 200: anyObject, 401: error } }, preHandler: permit('kpis.read') },
      async () => ({ charities: await (await loyaltyNow()).donations() }));

    api.get('/api/kpis', { schema: adminSchemas.kpis, preHandler: permit('kpis.read') }, async (request) => {
      const to = time(request.query.to, 'to', now());
      const from = time(request.query.from, 'from', new Date(to.getTime() - 30 * 86_400_000));
      if (from >= to) throw httpError(400, 'invalid_request', 'from', 'from: must be before to');
      return kpis(sqlOnly(), (await loyaltyNow()).program, { from, to });
    });
  });
}

export { adminRoutes };
