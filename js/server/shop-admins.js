// The admin of every shop installed through the Shopify app, inside the Shopify admin. The
// admin routes serve one shop each (their SQL and ledger are that shop's), so each installed
// shop gets its own admin app in this process, made on first use; a request carrying an
// App Bridge session token of that shop is handed to it whole. The inner app signs the
// token in again itself (for its shop only) and knows no other shop: nothing can cross.
import { randomBytes } from 'node:crypto';
import { buildApp } from './app.js';
import { verifySessionToken } from './shopify-auth.js';
import { bearer } from './auth.js';


/**
 * An onRequest hook for the outer app: requests to /api/* with a session token of another
 * installed shop than `ownDomain` are answered by that shop's admin app.
 * @param {{shopify: object, registry: object, store: object, shops: object, ownDomain?: string,
 *          notifyLocale?: string, bodyLimit?: number}} options
 */
export function shopAdmins({ shopify, registry, store, shops, ownDomain, notifyLocale, bodyLimit = 1024 * 1024 }) {
  const apps = new Map(); // shop id -> Promise<app>

  function appFor(shop) {
    if (!apps.has(shop.id)) {
      apps.set(shop.id, (async () => {
        const app = buildApp({
          loyalty: registry.loyalty(shop), store, shops, notifyLocale,
          // Never disclosed: this app is reached only with the shop's own session tokens.
          token: randomBytes(32).toString('base64url'),
          shopifySessions: { domain: shop.domain, verify: (header) => verifySessionToken(shopify, header) },
        });
        await app.ready();
        return app;
      })());
    }
    return apps.get(shop.id);
  }

  async function hook(request, reply) {
    if (!request.url.startsWith('/api/')) return undefined;
    const jwt = bearer(request);
    if (!jwt || jwt.split('.').length !== 3) return undefined;
    const who = await verifySessionToken(shopify, request.headers.authorization).catch(() => null);
    if (!who || who.shop === ownDomain) return undefined; // this app's own shop, or refused by its own sign-in
    const shop = await registry.byDomain('shopify', who.shop);
    if (!shop || shop.status !== 'installed') {
      return reply.code(401).send({ error: { code: 'unauthorized', path: 'authorization', message: `${who.shop} has not installed the app` } });
    }
    // The body is not parsed yet: read it raw and hand the request over unchanged.
    const chunks = [];
    let size = 0;
    for await (const c of request.raw) {
      size += c.length;
      if (size > bodyLimit) return reply.code(413).send({ error: { code: 'payload_too_large', path: 'body', message: `body over ${bodyLimit} bytes` } });
      chunks.push(c);
    }
    const inner = await appFor(shop);
    // The caller's address goes along: the inner app throttles and audits by it.
    const res = await inner.inject({ method: request.method, url: request.url, headers: request.headers, payload: Buffer.concat(chunks), remoteAddress: request.ip });
    const headers = { ...res.headers };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    delete headers.connection;
    return reply.code(res.statusCode).headers(headers).send(res.rawPayload);
  }

  async function close() {
    for (const p of apps.values()) await (await p).close().catch(() => {});
    apps.clear();
  }

  return { hook, close };
}
