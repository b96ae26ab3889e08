// Who is calling a storefront route, as the platform vouches for it. Each function returns
// the `identify(request)` that storefrontRoutes (storefront.js) takes:
//   proxyIdentity   Shopify's App Proxy: the query is signed by Shopify with the app secret
//                   and names the logged-in customer (logged_in_customer_id)
//   tokenIdentity   WooCommerce and mobile apps: a short-lived customer token the store
//                   signs server-side with the shop's `token_secret`
// Both answer {loyalty, store, shopId, customer, shop, secret, shopUrl, origin?} or throw an
// httpError: 401 when nobody is vouched for, 403 when the request asks for someone else.
import { verifyProxyQuery } from './shopify-auth.js';
import { httpError } from './errors.js';
import { bearer } from './auth.js';
import { tokenShop } from '../platforms/customer-token.js';

// Fields a caller might use to name a customer. The vouched-for customer is the only one:
// naming another is refused (an attempt, not a mistake), naming the same one is dropped.
const CUSTOMER_FIELDS = ['customer', 'customer_id'];

function refuseOthers(request, customer) {
  for (const bag of [request.query, request.body]) {
    if (!bag || typeof bag !== 'object' || Array.isArray(bag)) continue;
    for (const name of CUSTOMER_FIELDS) {
      if (bag[name] === undefined) continue;
      if (String(bag[name]) !== customer) throw httpError(403, 'forbidden_customer', name, `${name}: this request is vouched for another customer`);
      delete bag[name];
    }
  }
}

const shopUrlOf = (shop) => (shop.platform === 'shopify' ? `https://${shop.domain}` : /^https?:\/\//.test(shop.domain) ? shop.domain : `https://${shop.domain}`);

function context({ shops, store }, shop, customer, extra = {}) {
  return {
    loyalty: shops.loyalty(shop),
    store,
    shopId: shop.id,
    customer,
    // The shop without its sealed secrets: handlers need no credential.
    shop: { id: shop.id, platform: shop.platform, domain: shop.domain },
    secret: shops.codeSecret?.(shop.id),
    shopUrl: shopUrlOf(shop),
    ...extra,
  };
}

function installed(shop, what) {
  if (!shop || shop.status !== 'installed') throw httpError(403, 'shop_not_installed', 'shop', `${what}: the loyalty app is not installed on this shop`);
  return shop;
}

/**
 * Shopify App Proxy: /apps/loyalty/* on the shop's domain reaches /proxy/loyalty/* here
 * with a signed query. The customer is `logged_in_customer_id`, nothing else.
 * @param {{shopify: object, shops: object, store: object}} options
 *   `shopify`: createShopifyApp(...); `shops`: createShops(...); `store`: the SQL store the shops share
 * @example app.register(storefrontRoutes, { prefix: '/proxy/loyalty', identify: proxyIdentity({ shopify, shops, store }) });
 */
export function proxyIdentity({ shopify, shops, store }) {
  if (!shopify?.utils) throw new TypeError('proxyIdentity: options.shopify must be createShopifyApp(...)');
  if (!shops?.byDomain) throw new TypeError('proxyIdentity: options.shops must be createShops(...)');
  return async function identifyProxy(request) {
    const { shop: domain, customer } = await verifyProxyQuery(shopify, request.query ?? {}); // 401 bad_signature
    if (!customer) throw httpError(401, 'not_logged_in', 'logged_in_customer_id', 'no customer is logged in to the shop');
    refuseOthers(request, customer);
    const shop = installed(await shops.byDomain('shopify', domain), domain);
    return context({ shops, store }, shop, customer);
  };
}

const badToken = (path, message) => httpError(401, 'bad_token', path, message);

/**
 * `Authorization: Bearer <customer token>`: the token names its shop (`shops.get(id)`),
 * whose sealed secrets hold `token_secret` (a string, or a list during a rotation, current
 * first). A browser may call from the shop's own origin only (`identify.cors`).
 * @param {{shops: object, store: object, verify: Function, now?: () => number}} options
 *   `verify(token, secrets, {now, shop})` -> {shop, customer, expiresAt}: verifyCustomerToken
 *   from js/platforms/customer-token.js.
 * @example app.register(storefrontRoutes, { prefix: '/storefront', identify: tokenIdentity({ shops, store, verify: verifyCustomerToken }) });
 */
export function tokenIdentity({ shops, store, verify, now = () => Date.now() }) {
  if (!shops?.get) throw new TypeError('tokenIdentity: options.shops must be createShops(...)');
  if (typeof verify !== 'function') throw new TypeError('tokenIdentity: options.verify must be a function (verifyCustomerToken)');
  async function identifyToken(request) {
    const token = bearer(request);
    if (!token) throw badToken('authorization', 'authorization: expected "Bearer <customer token>"');
    // The shop it claims, unverified: only to pick whose secret verifies it.
    const id = tokenShop(token);
    if (!id) throw badToken('token', 'not a customer token');
    const shop = await shops.get(id);
    // An unknown shop is a bad token, not a 404: nothing tells a prober which shops exist.
    if (!shop) throw badToken('token', 'not a customer token of a known shop');
    const given = shop.secrets?.token_secret;
    const secrets = (Array.isArray(given) ? given : [given]).filter((s) => typeof s === 'string' && s !== '');
    if (!secrets.length) throw badToken('token', 'this shop has no customer token secret yet');
    let claims;
    try {
      claims = await verify(token, secrets, { now: now(), shop: id });
    } catch (err) {
      // The verifier's refusals (bad_token, with the field) become 401; anything else is a bug.
      if (err?.code === 'bad_token' || err?.name === 'LoyaltyError') throw badToken(err.path || 'token', err.message);
      throw err;
    }
    if (claims?.shop !== id || typeof claims.customer !== 'string' || claims.customer === '') throw badToken('token', 'the token does not name this shop and a customer');
    // Only a verified token learns that its shop is not installed.
    installed(shop, id);
    refuseOthers(request, claims.customer);
    return context({ shops, store }, shop, claims.customer, { origin: new URL(shopUrlOf(shop)).origin });
  }
  identifyToken.cors = {
    // A preflight carries no token: any installed WooCommerce shop's origin may ask; the
    // request itself is then held to its token's shop (storefrontRoutes checks `origin`).
    async allowed(origin) {
      let o;
      try {
        o = new URL(origin).origin;
      } catch {
        return false;
      }
      const shop = await shops.byDomain('woocommerce', o);
      return shop?.status === 'installed';
    },
  };
  return identifyToken;
}
