// The storefront routes: what a logged-in customer may see and do with their own account
// (balance, rewards, coupons, history, redeem, cart quote, preferences, ways to earn,
// referral link and its claim). The same handlers serve two prefixes; only `identify` differs:
//   /proxy/loyalty  Shopify's App Proxy (signed query, logged_in_customer_id)
//   /storefront     WooCommerce and mobile apps (Authorization: Bearer <customer token>)
// The customer is ONLY the one `identify` vouches for: no handler reads a customer id
// from the request, so a browser can never name another account.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { errorHandler, httpError } from './errors.js';
import { schemas } from './schemas.js';
import { notifyStore } from '../notify/store.js';

// Channels a customer may opt out of (`webhook` is the merchant's, not theirs).
const OPT_OUT_CHANNELS = ['email', 'push', 'sms'];
// Ways to earn a customer may claim from the storefront; the program's limits bound them.
const CLAIMABLE = ['social_follow', 'social_share', 'newsletter'];
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{1,100}$/;
const anyObject = { type: 'object', additionalProperties: true };
const error = schemas.quote.response[400];
const errors = { 400: error, 401: error, 403: error, 404: error, 409: error };
// Proxy queries carry Shopify's own parameters (shop, signature, ...): queries stay open.
const openQuery = (properties = {}) => ({ type: 'object', properties, additionalProperties: true });

/**
 * The customer's referral code: their id and a MAC under the shop's secret, so whoever
 * handles a new customer's signup (`referrerOf`) can trust it without a lookup table.
 * @example referralCode(shops.codeSecret(shop.id), '42') // 'NDI.Hn3x1Qk0aZ2c'
 */
export function referralCode(secret, customer) {
  return `${Buffer.from(customer, 'utf8').toString('base64url')}.${referralMac(secret, customer)}`;
}

/**
 * The referrer a code names, or null when it is not one of this shop's codes. The signup
 * handler sends `{type: 'action.completed', action: 'referral', ref: referrer}` for the friend.
 * @example referrerOf(secret, request.query.ref) // '42'
 */
export function referrerOf(secret, code) {
  const m = /^([A-Za-z0-9_-]{1,300})\.([A-Za-z0-9_-]{16})$/.exec(String(code ?? ''));
  if (!m) return null;
  const customer = Buffer.from(m[1], 'base64url').toString('utf8');
  const expected = Buffer.from(referralMac(secret, customer));
  return customer && timingSafeEqual(expected, Buffer.from(m[2])) ? customer : null;
}

// A separate label keeps referral MACs from ever matching anything else the secret signs.
const referralMac = (secret, customer) => createHmac('sha256', `referral:${secret}`).update(customer).digest('base64url').slice(0, 16);

/** YYYY-MM-DD in the program's time zone: "once a day" means the shop's day. */
function localDay(timezone, at) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** "MM-DD" that exists in some year (Feb 29 included). */
function validBirthday(text) {
  const m = /^(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(2000, +m[1] - 1, +m[2]));
  return d.getUTCMonth() === +m[1] - 1 && d.getUTCDate() === +m[2];
}

// The program's rewards as the customer sees them: the catalogue to redeem from, and the
// next threshold (auto) reward with how far the balance is from it.
function rewardsFor(program, balance) {
  const rewards = program.rewards ?? [];
  const catalogue = rewards.filter((r) => !r.auto).map((r) => ({
    reward: r.id, name: r.name ?? r.id, points: r.points, coupon: r.coupon, ...(r.limit ? { limit: r.limit } : {}), affordable: balance >= r.points,
  }));
  const next = rewards.filter((r) => r.auto && r.points > balance).sort((a, b) => a.points - b.points)[0];
  return {
    catalogue,
    next_reward: next ? { reward: next.id, name: next.name ?? next.id, points: next.points, balance, needed: next.points - balance } : null,
  };
}

const earnedBy = (result) => (result.entries ?? []).reduce((sum, e) => sum + (e.type === 'earn' ? e.points : 0), 0);

/**
 * Fastify plugin: the customer-scoped routes of CONTRACT.md. `identify(request)` returns
 * `{loyalty, store, shopId, customer, shop?, secret?, shopUrl?, origin?}` or throws an
 * httpError (401/403); it runs before body validation, so a stranger learns nothing about
 * the API's shapes. When `identify.cors` is set ({allowed(origin) -> boolean}), the
 * plugin answers preflights and lets a browser read answers from the shop's origin only.
 * `extraRoutes`: more customer-scoped plugins (the push helper's deviceRoutes) mounted
 * inside this one, so they share its identify, CORS and error shape; each gets
 * `customerOf(request)` -> {shop, customer} on top of its own options.
 * @param {import('fastify').FastifyInstance} app
 * @param {{identify: (request: object) => Promise<object>, now?: () => Date, extraRoutes?: Array<[Function, object]>}} options
 * @example
 *   app.register(storefrontRoutes, { prefix: '/proxy/loyalty', identify: proxyIdentity({ shopify, shops, store }) });
 *   app.register(storefrontRoutes, { prefix: '/storefront', identify: tokenIdentity({ shops, store, verify: verifyCustomerToken }) });
 */
export async function storefrontRoutes(app, { identify, now = () => new Date(), extraRoutes = [] }) {
  if (typeof identify !== 'function') throw new TypeError('storefrontRoutes: options.identify must be a function');
  // Same shape as every other route, whichever app mounts the plugin.
  app.setErrorHandler(errorHandler);
  app.decorateRequest('storefront', null);
  app.decorateRequest('corsAllowed', false);
  const cors = identify.cors;

  if (cors) {
    app.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      if (!origin) return; // a mobile app or a server: CORS is a browser matter
      if (await cors.allowed(origin)) {
        reply.header('access-control-allow-origin', origin);
        request.corsAllowed = true;
      }
      reply.header('vary', 'Origin');
    });
    app.options('/*', { schema: { hide: true } }, async (request, reply) => {
      if (!request.corsAllowed) throw httpError(403, 'origin_not_allowed', 'origin', `origin ${request.headers.origin ?? '(none)'} is not a shop's`);
      // No credentials: the customer token travels in Authorization, never in a cookie.
      reply.header('access-control-allow-methods', 'GET, POST, PUT, DELETE');
      reply.header('access-control-allow-headers', 'authorization, content-type, idempotency-key');
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    });
  }

  app.addHook('preValidation', async (request) => {
    if (request.method === 'OPTIONS') return;
    const who = await identify(request);
    // A valid token of shop A used from shop B's page: not this page's customer.
    const origin = request.headers.origin;
    if (origin && who.origin && origin !== who.origin) throw httpError(403, 'origin_mismatch', 'origin', `this customer token belongs to ${who.origin}, not ${origin}`);
    request.storefront = who;
  });

  const account = async ({ loyalty, customer }) => {
    const view = await loyalty.account(customer, { orNew: true });
    return { ...view, ...rewardsFor(loyalty.program, view.balance) };
  };
  // A 4xx, not a 5xx: on this setup the route does not exist, there is nothing to retry.
  const sqlOnly = (store) => {
    if (!store?.db) throw httpError(404, 'not_supported', '', 'this route needs a SQL store (PGlite or PostgreSQL)');
    return store.db;
  };

  app.get('/account', { schema: { summary: "The customer's account, the reward catalogue and progress to the next reward", querystring: openQuery(), response: { 200: anyObject, ...errors } } },
    (request) => account(request.storefront));

  app.get('/coupons', { schema: { summary: "The customer's coupons as stored", querystring: openQuery(), response: { 200: anyObject, ...errors } } }, async (request) => {
    const { loyalty, store, customer } = request.storefront;
    if (!store?.db) return { coupons: (await loyalty.account(customer))?.coupons ?? [] };
    const { rows } = await store.db.query(
      'SELECT code, reward, status, order_id, data FROM coupons WHERE program = $1 AND customer = $2 ORDER BY code', [loyalty.program.id, customer]);
    return { coupons: rows.map((r) => ({ ...r.data, code: r.code, reward: r.reward, status: r.status, order_id: r.order_id ?? null })) };
  });

  app.get('/history', {
    schema: {
      summary: "The customer's ledger entries, newest first, keyset paged",
      querystring: openQuery({ cursor: { type: 'string', pattern: '^[0-9]{1,19}$' }, limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$' } }),
      response: { 200: anyObject, ...errors },
    },
  }, async (request) => {
    const { loyalty, customer } = request.storefront;
    const { cursor, limit } = request.query;
    const page = await loyalty.history(customer, { cursor: cursor ?? null, limit: limit === undefined ? 20 : Number(limit) });
    // `by` names the staff member behind an adjustment: the merchant's, not the customer's.
    return { entries: page.entries.map(({ by: _by, ...e }) => e), next: page.next };
  });

  app.post('/redeem', {
    schema: {
      summary: 'Redeem a catalogue reward for a coupon (an Idempotency-Key header makes a retry safe)',
      querystring: openQuery(),
      body: { type: 'object', required: ['reward'], properties: { reward: { type: 'string', minLength: 1, maxLength: 200 } }, additionalProperties: false },
      response: { 200: anyObject, ...errors },
    },
  }, async (request) => {
    const who = request.storefront;
    const { loyalty, customer } = who;
    const { reward } = request.body;
    const r = (loyalty.program.rewards ?? []).find((x) => x.id === reward && !x.auto);
    if (!r) throw httpError(404, 'unknown_reward', 'reward', `no reward ${reward} in the catalogue`);
    const key = request.headers['idempotency-key'];
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw httpError(400, 'invalid_request', 'idempotency-key', 'idempotency-key: 1 to 100 letters, digits, _ or -');
    // No account means no points: answered without opening one.
    if (!(await loyalty.account(customer))) {
      return { reward, redeemed: false, reason: `not enough points: ${reward} needs ${r.points}, the balance is 0`, account: await account(who) };
    }
    // The customer id is a segment of the event id, so a redaction rewrites it too.
    const id = `storefront:redeem:${customer}:${key ?? randomUUID()}`;
    const result = await loyalty.redeem(customer, { reward, id, at: now() });
    const issued = (result.effects ?? []).find((e) => e.type === 'coupon.issued');
    return {
      reward, redeemed: Boolean(issued), ...(issued ? { coupon: issued.coupon } : { reason: result.skipped ?? 'nothing was redeemed' }),
      ...(result.duplicate ? { duplicate: true } : {}), account: await account(who),
    };
  });

  app.post('/quote', {
    schema: {
      summary: 'Cart preview for this customer: points the cart earns and what each of their coupons takes off',
      querystring: openQuery(),
      body: { type: 'object', required: ['cart'], properties: { cart: schemas.quote.body.properties.cart }, additionalProperties: false },
      response: { 200: anyObject, ...errors },
    },
  }, async (request) => {
    const { loyalty, customer } = request.storefront;
    const { cart } = request.body;
    return loyalty.quote(customer, { ...cart, at: cart.at ?? now().toISOString() });
  });

  // --- preferences: locale and opt-outs (the notification contact), birthday, newsletter ---

  const birthdayId = (customer) => `storefront:birthday:${customer}`;
  async function preferences({ loyalty, store, customer }) {
    const db = sqlOnly(store);
    const contact = await notifyStore(db).contact(loyalty.program.id, customer);
    const { rows } = await db.query('SELECT body FROM events WHERE program = $1 AND event_id = $2', [loyalty.program.id, birthdayId(customer)]);
    return { locale: contact.locale, opt_out: contact.opt_out.filter((c) => OPT_OUT_CHANNELS.includes(c)), birthday: rows[0]?.body?.ref ?? null, newsletter: contact.marketing === true };
  }

  // Claims a way to earn, once per customer, action and shop day: a retry or a second click
  // that day is the same event. What it earns is the program's (points and limits).
  async function claim({ loyalty, customer }, action, at) {
    const id = `storefront:${action}:${customer}:${localDay(loyalty.program.timezone, at)}`;
    const result = await loyalty.handle({ id, type: 'action.completed', at: at.toISOString(), customer, action });
    return { action, earned: earnedBy(result), ...(result.skipped ? { reason: result.skipped } : {}), ...(result.duplicate ? { duplicate: true } : {}) };
  }

  app.get('/preferences', { schema: { summary: 'Locale, notification opt-outs, birthday and newsletter', querystring: openQuery(), response: { 200: anyObject, ...errors } } },
    (request) => preferences(request.storefront));

  app.put('/preferences', {
    schema: {
      summary: 'Set locale, opt-outs, birthday (once) and newsletter; fields left out are kept',
      querystring: openQuery(),
      body: {
        type: 'object',
        properties: {
          locale: { anyOf: [{ type: 'string', pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$' }, { type: 'null' }] },
          opt_out: { type: 'array', items: { type: 'string', enum: OPT_OUT_CHANNELS }, uniqueItems: true },
          birthday: { type: 'string', pattern: '^[0-9]{2}-[0-9]{2}$' },
          newsletter: { type: 'boolean' },
        },
        additionalProperties: false,
      },
      response: { 200: anyObject, ...errors },
    },
  }, async (request) => {
    const who = request.storefront;
    const { loyalty, store, customer } = who;
    const db = sqlOnly(store);
    const body = request.body;
    const before = await preferences(who);
    // Everything is checked before anything is written.
    if (body.birthday !== undefined) {
      if (!validBirthday(body.birthday)) throw httpError(400, 'invalid_request', 'birthday', `birthday: "${body.birthday}" is not a day of the year like "03-14"`);
      // Entered once: a birthday that could be changed would be a bonus on demand.
      if (before.birthday && before.birthday !== body.birthday) throw httpError(409, 'birthday_set', 'birthday', `the birthday is already set to ${before.birthday} and cannot be changed here`);
    }
    const ns = notifyStore(db);
    const patch = {};
    if (body.locale !== undefined) patch.locale = body.locale;
    if (body.opt_out !== undefined) {
      // Channels the storefront does not offer (webhook) keep the merchant's setting.
      const current = (await ns.contact(loyalty.program.id, customer)).opt_out;
      patch.opt_out = [...new Set([...current.filter((c) => !OPT_OUT_CHANNELS.includes(c)), ...body.opt_out])].sort();
    }
    if (body.newsletter !== undefined) patch.marketing = body.newsletter;
    if (Object.keys(patch).length) await ns.putContact(loyalty.program.id, customer, patch);
    const at = now();
    const actions = [];
    if (body.birthday !== undefined && !before.birthday) {
      // The event that records it; the engine grants the birthday points only on the day
      // itself, so on other days it is kept with its reason and earns nothing.
      const result = await loyalty.handle({ id: birthdayId(customer), type: 'action.completed', at: at.toISOString(), customer, action: 'birthday', ref: body.birthday });
      actions.push({ action: 'birthday', earned: earnedBy(result), ...(result.skipped ? { reason: result.skipped } : {}) });
    }
    if (body.newsletter === true && !before.newsletter && loyalty.program.actions?.newsletter) actions.push(await claim(who, 'newsletter', at));
    return { ...(await preferences(who)), actions };
  });

  app.post('/actions', {
    schema: {
      summary: 'Claim a way to earn (social follow or share, newsletter): at most once a day, within the program limits',
      querystring: openQuery(),
      body: { type: 'object', required: ['action'], properties: { action: { type: 'string', enum: CLAIMABLE } }, additionalProperties: false },
      response: { 200: anyObject, ...errors },
    },
  }, async (request) => {
    const who = request.storefront;
    const { loyalty, store, customer } = who;
    const { action } = request.body;
    // Checked here so that an action the program does not reward opens no account.
    if (!loyalty.program.actions?.[action]) throw httpError(404, 'unknown_action', 'action', `the program has no earning rule for action "${action}"`);
    if (action === 'newsletter' && store?.db) await notifyStore(store.db).putContact(loyalty.program.id, customer, { marketing: true });
    const done = await claim(who, action, now());
    return { ...done, account: await account(who) };
  });

  app.get('/referral', { schema: { summary: "The customer's personal referral code and link, when the program has referrals", querystring: openQuery(), response: { 200: anyObject, ...errors } } }, async (request) => {
    const { loyalty, customer, secret, shopUrl } = request.storefront;
    const rule = loyalty.program.referral;
    if (!rule) return { enabled: false };
    if (!secret) throw httpError(404, 'not_supported', '', 'no referral secret for this shop');
    const code = referralCode(secret, customer);
    return {
      enabled: true, code, ...(shopUrl ? { link: `${shopUrl}/?ref=${encodeURIComponent(code)}` } : {}),
      referrer_points: rule.referrer_points, ...(rule.friend_reward ? { friend_reward: rule.friend_reward } : {}),
    };
  });

  // The friend's side of a referral link: the storefront remembered `?ref=CODE` and sends it
  // once the visitor is a logged-in customer. The friend is the vouched-for customer, the
  // referrer only what this shop's secret signed; the event id is the friend's, so a second
  // claim (another code, a retry) is the first one again. The engine refuses self-referral
  // and friends who already ordered or were referred; the referrer earns on the first order.
  app.post('/referral/claim', {
    schema: {
      summary: "Credit a referral link's code to this customer (the friend), once",
      querystring: openQuery(),
      body: { type: 'object', required: ['code'], properties: { code: { type: 'string', minLength: 1, maxLength: 420 } }, additionalProperties: false },
      response: { 200: anyObject, ...errors },
    },
  }, async (request) => {
    const who = request.storefront;
    const { loyalty, customer, secret } = who;
    if (!loyalty.program.referral) return { credited: false, reason: 'the program has no referral rule' };
    if (!secret) throw httpError(404, 'not_supported', '', 'no referral secret for this shop');
    const referrer = referrerOf(secret, request.body.code);
    if (!referrer) throw httpError(400, 'invalid_code', 'code', 'code: not a referral code of this shop');
    const result = await loyalty.handle({ id: `storefront:referral:${customer}`, type: 'action.completed', at: now().toISOString(), customer, action: 'referral', ref: referrer });
    if (result.duplicate) return { credited: false, reason: 'a referral was already claimed for this customer', duplicate: true };
    return { credited: !result.skipped, ...(result.skipped ? { reason: result.skipped } : {}), account: await account(who) };
  });

  // Registered after the hooks above, so they run for these routes too: by the time a
  // route's own hooks run, `request.storefront` is the vouched-for customer.
  const customerOf = (request) => ({ shop: request.storefront.shopId, customer: request.storefront.customer });
  for (const [plugin, options] of extraRoutes) app.register(plugin, { ...options, customerOf });
}
