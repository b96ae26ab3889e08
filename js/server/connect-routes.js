// The admin panel's "Connect a WooCommerce store": POST /api/shops/woocommerce {url, key,
// secret} with the admin bearer token. Same work as `loyalty connect woocommerce`
// (js/server/connect.js), for a server already running (PGlite lets one process own its folder).
import { bearerAuth } from './auth.js';
import { permit } from './admin-auth.js';
import { connectWoo } from './connect.js';
import { StoreApiError, storeFailure } from '../platforms/store-error.js';

const BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'key', 'secret'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2000 },
    key: { type: 'string', minLength: 1, maxLength: 200 },
    secret: { type: 'string', minLength: 1, maxLength: 200 },
    // Only when the store's public REST index (/wp-json/) is closed to visitors.
    timezone: { type: 'string', minLength: 1, maxLength: 64 },
  },
};

/**
 * @param {object} app  Fastify
 * `record(request, action, target, details)`: the audit log (who connected which store).
 * @param {{registry: object, publicUrl: string, token: string, program?: object, record?: Function,
 *          onConnected?: (shop: object) => Promise<void>|void, fetch?: typeof fetch}} options
 *   `program`: the program a NEW shop starts with (the server's); a reconnect keeps the shop's.
 *   `onConnected`: e.g. `() => workers.refresh()`, so the shop's outbox runs at once.
 * @example app.register(connectRoutes, { registry, publicUrl: env.LOYALTY_PUBLIC_URL, token: config.token, program, onConnected: () => workers.refresh() });
 */
export async function connectRoutes(app, { registry, publicUrl, token, auth, program, onConnected, record = async () => {}, fetch }) {
  // With the admin's sign-in (`auth`), connecting a store is the owner's; a bare token is.
  app.addHook('onRequest', auth ?? bearerAuth(token));
  if (auth) app.addHook('preHandler', permit('program.write'));
  app.post('/api/shops/woocommerce', {
    schema: { summary: 'Connect a WooCommerce store (REST keys with Read/Write): registers its webhooks, stores the shop', security: [{ bearer: [] }], body: BODY },
  }, async (request) => {
    const { url, key, secret, timezone } = request.body;
    let r;
    try {
      r = await connectWoo({ registry, url, key, secret, publicUrl, defaultProgram: program, timezone, fetch });
    } catch (err) {
      // The store's own words, as the CLI prints them (storeFailure: 400 for a refused key, 502
      // for a store that does not answer).
      throw err instanceof StoreApiError ? storeFailure(err) : err;
    }
    await record(request, 'shop.connect', r.shop.id, { url, adopted: r.adopted });
    await onConnected?.(r.shop);
    return { shop: r.shop, webhooks: r.webhooks, token_secret: r.token_secret, adopted: r.adopted };
  });
}
