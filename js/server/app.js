// The Fastify app: webhooks (raw body, signatures), the token-protected API, /health,
// /openapi.json. It owns no resources: the caller opens and closes the store.
import Fastify from 'fastify';
import { webhookRoutes } from './webhooks.js';
import { singleShop, deliveryLog } from '../shops/contexts.js';
import { apiRoutes } from './api.js';
import { errorHandler, httpError } from './errors.js';
import { jsonDepth, MAX_DEPTH } from '../platforms/json.js';
import { openapi } from './openapi.js';
import { schemas } from './schemas.js';
import { adminAuth } from './admin-auth.js';
import { operatorRoutes } from './operators.js';
import { programRoutes } from './program-routes.js';

export const MiB = 1024 * 1024;

// Credentials in query strings (a token typed into /admin?token=, OAuth codes, proxy
// signatures) never reach the request log.
const SECRET_PARAMS = /([?&](?:token|signature|hmac|code|state|session)=)[^&#]*/gi;
const requestForLog = (req) => ({ method: req.method, url: String(req.url).replace(SECRET_PARAMS, '$1[redacted]'), remoteAddress: req.ip });

/**
 * @param {{loyalty: object, store?: object, token: string,
 *          adapters?: {shopify?: object, woocommerce?: object}, shops?: object,
 *          bodyLimit?: number, logger?: boolean|object, now?: () => Date, notifyLocale?: string}} options
 *   `notifyLocale`: the notification default locale (else NOTIFY_LOCALE, else en).
 *   `shops`: where webhooks find their shop (js/shops/contexts.js); else `loyalty` with
 *   `adapters` is the only shop.
 */
export function buildApp({ loyalty, store, token, adapters = {}, shops, shopifySessions, shopifyApiKey, onRequest, trustProxy = false, bodyLimit = MiB, logger = false, now, notifyLocale }) {
  const app = Fastify({
    logger: logger && { ...(logger === true ? {} : logger), serializers: { req: requestForLog } },
    bodyLimit,
    // "5" is not a number of points and unknown fields are errors, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
    return503OnClosing: true,
    // Behind a load balancer (TRUST_PROXY), the client's address comes from X-Forwarded-For:
    // failed sign-ins are throttled per client, not per balancer.
    trustProxy,
    // Ids up to 200 characters (the schemas' limit) must reach the routes, URL-encoded.
    routerOptions: { maxParamLength: 1000 },
  });
  // JSON bodies: refused when nested absurdly deep (a recursive validator would overflow).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (jsonDepth(body) > MAX_DEPTH) return done(httpError(400, 'invalid_json', 'body', `nested deeper than ${MAX_DEPTH} levels`));
    try {
      if (body === '') return done(httpError(400, 'invalid_json', 'body', 'body: empty, JSON expected'));
      done(null, JSON.parse(body));
    } catch (err) {
      done(httpError(400, 'invalid_json', 'body', `body: ${err.message}`));
    }
  });
  // Shutdown: responses to requests still in flight close their keep-alive connection,
  // or server.close() would wait for the client to hang up (keepAliveTimeout, 72 s).
  let draining = false;
  app.addHook('preClose', async () => { draining = true; });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });
  // A request another app answers whole (serve.js: another shop's admin), before any route.
  if (onRequest) app.addHook('onRequest', onRequest);
  const doc = openapi();
  app.addHook('onRoute', doc.collect);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'not_found', path: '', message: `no route ${request.method} ${request.url}` } }));

  app.get('/health', { schema: schemas.health }, async (request, reply) => {
    try {
      await loyalty.account('health-check'); // one query: is the store answering?
      // And the engine: a trapped wasm instance answers nothing right until replaced.
      if (!(await loyalty.canary())) throw new Error('the engine failed its canary event');
      return { ok: true, program: loyalty.program.id };
    } catch (err) {
      request.log.error({ err }, 'health check failed');
      return reply.code(503).send({ ok: false, program: loyalty.program.id });
    }
  });
  app.get('/openapi.json', { schema: { summary: 'This document' } }, async () => doc.document());

  const contexts = shops ?? singleShop({ loyalty, store, adapters });
  app.register(webhookRoutes, { shops: contexts, deliveries: deliveryLog(store) });
  // The admin's shop is this app's program. Its ledger is read per request from the shops
  // table (a program published by any process applies here at once); without a shops
  // table, `loyalty` is the only one.
  const shop = loyalty.program.id;
  const loyaltyNow = async () => (await contexts.admin(shop))?.loyalty ?? loyalty;
  const db = store?.db ?? null;
  const auth = adminAuth({ token, shop, db, shopifySessions, now });
  // For admin routes mounted beside these (serve.js): the same sign-in and roles.
  app.decorate('adminAuth', auth);
  app.register(apiRoutes, { loyalty, store, token, now, auth, loyaltyNow });
  app.register(import('./admin-routes.js'), { loyalty, store, token, now, auth, loyaltyNow, shopifyApiKey }); // /admin, its assets, search, coupon cancel, KPIs
  // Sign-in, operators and the audit log.
  if (db) app.register(operatorRoutes, { db, shopOf: () => shop, auth, now });
  // The program: read, schema, presets, preview, publish, versions, rollback.
  app.register(async (api) => {
    api.addHook('onRequest', auth);
    await programRoutes(api, { db, shop, loyaltyNow, publishable: Boolean(shops && db), now });
  });
  app.register(import('./notify-routes.js'), { loyalty, store, token, auth, now, defaultLocale: notifyLocale }); // notification templates, contacts, opt-outs, dead letters
  return app;
}
