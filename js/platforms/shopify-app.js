// The Shopify app object: Shopify's own library (@shopify/shopify-api) does OAuth, HMAC,
// session tokens and the Admin GraphQL client; this file only configures it from the env
// names Shopify's app templates use, and lets the whole app talk to a local stand-in.
//
//   SHOPIFY_API_KEY, SHOPIFY_API_SECRET   the app's client id and secret (Partner dashboard)
//   SHOPIFY_APP_URL                       where this backend is reached (https://app.example.com)
//   SCOPES                                comma-separated access scopes (write_discounts,...)
//   SHOPIFY_ADMIN_ORIGIN                  default "https://{shop}"; e.g. "http://127.0.0.1:9000/shops/{shop}"
//
// Why a fetch adapter: the library hard-codes `https://${shop}` for the authorize redirect,
// the token exchange and the Admin API URL. Its runtime lets us replace the fetch it uses
// (setAbstractFetchFunc), so every server-to-server call is rewritten here, in one place;
// the browser redirect to /admin/oauth/authorize goes through `adminUrl` (shopify-auth.js).
import '@shopify/shopify-api/adapters/node';
import { shopifyApi, ApiVersion, LogSeverity } from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';

/** The Admin API version every call uses, pinned: 2026-07 (ApiVersion.July26). */
export const SHOPIFY_API_VERSION = ApiVersion.July26;

const DEFAULT_ORIGIN = 'https://{shop}';
const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/i;
const nativeFetch = globalThis.fetch.bind(globalThis);

// The library's fetch is one per process, so the admin origin is too: a second app
// configured with a different origin would silently send the first one's calls astray.
let adminOrigin = DEFAULT_ORIGIN;

function envError(name, problem) {
  const err = new Error(`${name}: ${problem}`);
  err.code = 'bad_config';
  err.field = name;
  return err;
}

function required(env, name) {
  const value = env[name];
  if (typeof value !== 'string' || value.trim() === '') throw envError(name, 'missing');
  return value.trim();
}

function parseOrigin(template) {
  let url;
  try {
    url = new URL(template.replaceAll('{shop}', 'example.myshopify.com'));
  } catch {
    throw envError('SHOPIFY_ADMIN_ORIGIN', `not a URL (${template})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw envError('SHOPIFY_ADMIN_ORIGIN', `http or https only (${template})`);
  return template.replace(/\/+$/, '');
}

/**
 * `https://<shop>.myshopify.com/<path>` -> the same path under SHOPIFY_ADMIN_ORIGIN.
 * Anything else (another host, http) is returned unchanged.
 * @example adminUrl('https://a.myshopify.com/admin/oauth/authorize?x=1') // 'http://127.0.0.1:9000/shops/a.myshopify.com/admin/oauth/authorize?x=1'
 */
export function adminUrl(url) {
  if (adminOrigin === DEFAULT_ORIGIN) return url;
  const u = new URL(url);
  if (u.protocol !== 'https:' || !SHOP_DOMAIN.test(u.hostname) || u.port !== '') return url;
  return `${adminOrigin.replaceAll('{shop}', u.hostname.toLowerCase())}${u.pathname}${u.search}`;
}

function rewritingFetch(input, init) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const target = adminUrl(url);
  if (target === url) return nativeFetch(input, init);
  return nativeFetch(target, typeof input === 'string' || input instanceof URL ? init : { ...init, method: input.method, headers: input.headers, body: input.body });
}

/**
 * A configured `shopifyApi(...)` from the environment, plus the pinned `apiVersion`.
 * @param {Record<string, string|undefined>} [env] defaults to process.env
 * @param {{logLevel?: number, log?: (severity: number, message: string) => void, isEmbeddedApp?: boolean}} [options]
 *   `log` receives the library's messages (e.g. into Fastify's logger); default: the console.
 * @example const shopify = createShopifyApp(process.env); await shopify.session.decodeSessionToken(jwt);
 */
export function createShopifyApp(env = process.env, { logLevel = LogSeverity.Warning, log, isEmbeddedApp = true } = {}) {
  const apiKey = required(env, 'SHOPIFY_API_KEY');
  const apiSecretKey = required(env, 'SHOPIFY_API_SECRET');
  const appUrlText = required(env, 'SHOPIFY_APP_URL');
  let appUrl;
  try {
    appUrl = new URL(appUrlText);
  } catch {
    throw envError('SHOPIFY_APP_URL', `not a URL (${appUrlText})`);
  }
  if (appUrl.protocol !== 'https:' && appUrl.protocol !== 'http:') throw envError('SHOPIFY_APP_URL', 'http or https only');
  if (appUrl.pathname !== '/' || appUrl.search) throw envError('SHOPIFY_APP_URL', 'an origin only (no path or query)');
  const scopes = (env.SCOPES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const origin = parseOrigin(env.SHOPIFY_ADMIN_ORIGIN?.trim() || DEFAULT_ORIGIN);

  if (origin !== adminOrigin) {
    if (adminOrigin !== DEFAULT_ORIGIN) {
      throw envError('SHOPIFY_ADMIN_ORIGIN', `this process already sends Shopify calls to ${adminOrigin}; one admin origin per process`);
    }
    adminOrigin = origin;
    setAbstractFetchFunc(rewritingFetch);
  }

  return shopifyApi({
    apiKey,
    apiSecretKey,
    scopes,
    hostName: appUrl.host,
    hostScheme: appUrl.protocol.slice(0, -1),
    apiVersion: SHOPIFY_API_VERSION,
    isEmbeddedApp,
    logger: { level: logLevel, ...(log ? { log } : {}) },
  });
}
