// Shopify's three ways of vouching for a caller, all checked by Shopify's library
// (@shopify/shopify-api), never by hand-written signing code:
//   - install: the authorization-code grant (GET /auth, GET /auth/callback) for an OFFLINE token;
//   - the embedded admin: App Bridge session tokens (JWT, HS256 with the app secret);
//   - the storefront: the App Proxy's signed query (`signature`, HMAC-SHA256 hex).
import { InvalidOAuthError, CookieNotFound, InvalidHmacError, InvalidShopError, BotActivityDetected, InvalidJwtError, ShopifyError, HttpResponseError } from '@shopify/shopify-api';
import { adminUrl } from '../platforms/shopify-app.js';

const send = (reply, status, code, path, message) => reply.code(status).send({ error: { code, path, message } });

/** An Error with the route error shape's code and path; `statusCode` for Fastify's handler. */
function authError(status, code, path, message) {
  return Object.assign(new Error(message), { statusCode: status, code, path });
}

// The library writes its answer to a Node ServerResponse. Handing it this recorder
// instead keeps Fastify in charge of the reply and lets us point Location at the stand-in.
function responseRecorder() {
  const headers = {};
  return {
    statusCode: 200,
    statusMessage: '',
    headers,
    getHeaders: () => ({ ...headers }),
    setHeader(name, value) {
      headers[name.toLowerCase()] = value;
    },
    write() {},
    end() {},
  };
}

function replay(reply, recorded, skip = []) {
  for (const [name, value] of Object.entries(recorded.headers)) {
    if (!skip.includes(name)) reply.header(name, value);
  }
}

/**
 * Fastify plugin: GET /auth?shop=<shop>.myshopify.com and GET /auth/callback.
 * `onInstalled({shop, accessToken, scope})` stores the offline token (encrypted: the lead's shops module).
 * With `onSessionToken`, GET /auth/session answers `await onSessionToken({shop, user})` for a
 * request carrying an App Bridge session token (Authorization: Bearer <jwt>).
 * @param {import('fastify').FastifyInstance} app
 * @param {{shopify: object, onInstalled: Function, onSessionToken?: Function}} options
 * @example app.register(shopifyAuthRoutes, { prefix: '/shopify', shopify, onInstalled: shops.install });
 */
export async function shopifyAuthRoutes(app, { shopify, onInstalled, onSessionToken }) {
  if (!shopify?.auth) throw new TypeError('shopifyAuthRoutes: options.shopify must be createShopifyApp(...)');
  if (typeof onInstalled !== 'function') throw new TypeError('shopifyAuthRoutes: options.onInstalled must be a function');
  const callbackPath = `${app.prefix ?? ''}/auth/callback`;

  app.get('/auth', async (request, reply) => {
    const shop = shopify.utils.sanitizeShop(String(request.query?.shop ?? ''));
    if (!shop) return send(reply, 400, 'bad_shop', 'shop', 'shop: expected <name>.myshopify.com');
    const recorded = responseRecorder();
    // The state nonce is made and signed into a cookie by the library (begin), checked by callback.
    await shopify.auth.begin({ shop, callbackPath, isOnline: false, rawRequest: request.raw, rawResponse: recorded });
    replay(reply, recorded, ['location']);
    reply.code(recorded.statusCode);
    if (recorded.headers.location) reply.header('location', adminUrl(recorded.headers.location));
    return reply.send();
  });

  app.get('/auth/callback', async (request, reply) => {
    const recorded = responseRecorder();
    let session;
    try {
      ({ session } = await shopify.auth.callback({ rawRequest: request.raw, rawResponse: recorded }));
    } catch (err) {
      if (err instanceof CookieNotFound) return send(reply, 400, 'oauth_state_missing', 'cookie', 'no OAuth state cookie: start again at /auth');
      if (err instanceof InvalidOAuthError || err instanceof InvalidHmacError) return send(reply, 401, 'bad_signature', 'hmac', `the callback's hmac or state does not verify (${err.message})`);
      if (err instanceof InvalidShopError) return send(reply, 400, 'bad_shop', 'shop', 'shop: expected <name>.myshopify.com');
      if (err instanceof BotActivityDetected) return send(reply, 410, 'bot', 'user-agent', 'OAuth callback from a bot');
      // Shopify refused the code (used, expired): the link was replayed; start again.
      if (err instanceof HttpResponseError && err.response?.code < 500) return send(reply, 400, 'oauth_code_refused', 'code', `Shopify refused the authorization code (${err.response.code}): start again at /auth`);
      throw err; // no answer or a 5xx from Shopify: a 500, the merchant retries the install
    }
    await onInstalled({ shop: session.shop, accessToken: session.accessToken, scope: session.scope ?? '' });
    replay(reply, recorded);
    // Into the app inside the Shopify admin (host is the admin's base64 address); without
    // one (a non-embedded start) to the shop's admin apps page.
    const target = request.query?.host
      ? await shopify.auth.getEmbeddedAppUrl({ rawRequest: request.raw, rawResponse: recorded })
      : adminUrl(`https://${session.shop}/admin/apps/${shopify.config.apiKey}`);
    return reply.redirect(target, 302);
  });

  if (onSessionToken) {
    app.get('/auth/session', async (request, reply) => {
      let who;
      try {
        who = await verifySessionToken(shopify, request.headers.authorization);
      } catch (err) {
        return send(reply, 401, err.code ?? 'bad_session_token', err.path ?? 'authorization', err.message);
      }
      return (await onSessionToken(who)) ?? who;
    });
  }
}

/**
 * Checks an App Bridge session token: signature (app secret), exp/nbf, aud (app key),
 * dest a shop domain and iss that shop's admin. Returns who is calling.
 * @param {object} shopify createShopifyApp(...)
 * @param {string} bearer "Bearer <jwt>" or the bare JWT
 * @returns {Promise<{shop: string, user: string|null}>}
 * @example const { shop, user } = await verifySessionToken(shopify, request.headers.authorization);
 */
export async function verifySessionToken(shopify, bearer) {
  const token = typeof bearer === 'string' ? bearer.replace(/^Bearer\s+/i, '').trim() : '';
  if (!token) throw authError(401, 'bad_session_token', 'authorization', 'authorization: expected "Bearer <session token>"');
  let payload;
  try {
    payload = await shopify.session.decodeSessionToken(token); // signature, exp, nbf, aud
  } catch (err) {
    if (err instanceof InvalidJwtError || err instanceof ShopifyError) throw authError(401, 'bad_session_token', 'authorization', `session token refused: ${err.message}`);
    throw err;
  }
  let destHost = null;
  try {
    destHost = new URL(String(payload.dest)).hostname;
  } catch {
    // falls through to the refusal below
  }
  const shop = destHost ? shopify.utils.sanitizeShop(destHost) : null;
  if (!shop) throw authError(401, 'bad_session_token', 'dest', `session token dest is not a shop (${payload.dest})`);
  // Shopify: iss is https://<shop>/admin; a token whose iss names another shop is forged or misrouted.
  let issHost = null;
  try {
    issHost = new URL(String(payload.iss)).hostname;
  } catch {
    // refused below
  }
  if (issHost !== destHost) throw authError(401, 'bad_session_token', 'iss', `session token iss (${payload.iss}) does not match dest (${payload.dest})`);
  return { shop, user: payload.sub != null && payload.sub !== '' ? String(payload.sub) : null };
}

/**
 * Checks an App Proxy request's signed query (Shopify signs every param but `signature`,
 * sorted, as HMAC-SHA256 hex with the app secret; timestamp within 90 s).
 * @param {object} shopify createShopifyApp(...)
 * @param {Record<string, string|string[]>} query the request's parsed query
 * @returns {Promise<{shop: string, customer: string|null}>} customer = logged_in_customer_id, null for a guest
 * @example const { shop, customer } = await verifyProxyQuery(shopify, request.query);
 */
export async function verifyProxyQuery(shopify, query) {
  if (!query || typeof query !== 'object' || typeof query.signature !== 'string' || query.signature === '') {
    throw authError(401, 'bad_signature', 'signature', 'signature: missing from the proxy query');
  }
  // The library lets a query without timestamp through its freshness check; Shopify always sends one.
  if (typeof query.timestamp !== 'string' || !/^\d+$/.test(query.timestamp)) {
    throw authError(401, 'bad_signature', 'timestamp', 'timestamp: missing from the proxy query');
  }
  let valid;
  try {
    valid = await shopify.utils.validateHmac({ ...query }, { signator: 'appProxy' });
  } catch (err) {
    if (err instanceof InvalidHmacError) throw authError(401, 'bad_signature', 'timestamp', `proxy query refused: ${err.message}`);
    throw err;
  }
  if (!valid) throw authError(401, 'bad_signature', 'signature', 'signature does not match the query under the app secret');
  const shop = shopify.utils.sanitizeShop(String(query.shop ?? ''));
  if (!shop) throw authError(401, 'bad_signature', 'shop', `shop: not a shop domain (${query.shop})`);
  const id = query.logged_in_customer_id;
  return { shop, customer: typeof id === 'string' && id !== '' ? id : null };
}
