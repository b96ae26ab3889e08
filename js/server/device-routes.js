// Customer-scoped device registration for the shop's mobile apps, registered by the
// storefront under its prefixes (/proxy/loyalty, /storefront):
//   POST   devices           {platform: 'fcm'|'apns', token, locale?, app?}  -> 201 {device}
//   DELETE devices/:token                                                    -> {deleted}
// `customerOf(request)` (the storefront's: Shopify's signed App Proxy query or the
// customer token the shop's backend signs) names the shop (program key) and customer,
// or throws; a customer only ever touches their own devices.
import { httpError } from './errors.js';
import { deviceStore, PLATFORMS } from '../notify/device-store.js';

// FCM registration tokens are URL-safe base64 with ':' (about 160 characters today);
// APNs device tokens are hex (32 bytes today; Apple says not to hard-code the length).
const FCM_TOKEN = '^[A-Za-z0-9_:-]{20,4096}$';
const APNS_TOKEN = '^[0-9A-Fa-f]{64,200}$';
const tokenParam = { type: 'string', minLength: 20, maxLength: 4096, pattern: '^[A-Za-z0-9_:-]+$' };

const device = {
  type: 'object',
  required: ['platform', 'token'],
  additionalProperties: false,
  properties: {
    platform: { type: 'string', enum: PLATFORMS },
    token: { type: 'string', maxLength: 4096 },
    locale: { type: 'string', pattern: '^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$', maxLength: 35 },
    app: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}$' },
  },
  allOf: [
    { if: { properties: { platform: { const: 'fcm' } } }, then: { properties: { token: { type: 'string', pattern: FCM_TOKEN } } } },
    { if: { properties: { platform: { const: 'apns' } } }, then: { properties: { token: { type: 'string', pattern: APNS_TOKEN } } } },
  ],
};
const deviceView = {
  type: 'object',
  properties: {
    platform: { type: 'string' }, token: { type: 'string' }, locale: { type: ['string', 'null'] }, app: { type: ['string', 'null'] },
    created_at: { type: 'string' }, updated_at: { type: 'string' },
  },
};

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {{store: {db: object}, customerOf: (request: object) => ({shop: string, customer: string} | Promise<{shop: string, customer: string}>)}} options
 */
export async function deviceRoutes(app, { store, customerOf }) {
  if (!store?.db) throw new TypeError('device routes need a SQL store (PGlite or PostgreSQL)');
  if (typeof customerOf !== 'function') throw new TypeError('device routes need customerOf(request)');
  const ds = deviceStore(store.db);

  // Who is asking, before anything else: an unauthenticated request learns nothing, not
  // even whether its body was valid. A route hook, not app.addHook: it holds however the
  // plugin is mounted and never reaches the storefront's other routes.
  const identify = async (request) => {
    let who;
    try {
      who = await customerOf(request);
    } catch (err) {
      // An error with its own status (the storefront's 401/403, a 503) keeps it; any other
      // throw from customerOf means "no customer vouched for".
      if (err.statusCode) throw err;
      throw httpError(401, 'unauthorized', '', err.message || 'no customer');
    }
    if (!who?.shop || !who?.customer) throw httpError(401, 'unauthorized', '', 'no customer');
    request.loyaltyCustomer = { shop: String(who.shop), customer: String(who.customer) };
  };

  app.post('/devices', {
    preValidation: identify,
    schema: { summary: "Register this app install's push token for the signed-in customer", body: device, response: { 201: { type: 'object', properties: { device: deviceView } } } },
  }, async (request, reply) => {
    const { shop, customer } = request.loyaltyCustomer;
    const { platform, token, locale, app: appId } = request.body;
    // APNs tokens are case-insensitive hex: one spelling, so a re-registration is the same row.
    const saved = await ds.addDevice(shop, customer, {
      platform, token: platform === 'apns' ? token.toLowerCase() : token, locale: locale ? locale.replace(/_/g, '-').toLowerCase() : null, app: appId ?? null,
    });
    return reply.code(201).send({ device: saved });
  });

  // DELETE devices/:token, routed as a wildcard: an FCM token (about 160 characters) is
  // longer than a Fastify path parameter may be (maxParamLength, 100 by default), and a
  // wildcard is not held to it, so the storefront app needs no server-wide setting.
  app.delete('/devices/*', {
    preValidation: identify,
    schema: {
      summary: "Remove this app install's push token (sign-out, notifications turned off): DELETE devices/:token",
      params: { type: 'object', required: ['*'], properties: { '*': tokenParam } },
      response: { 200: { type: 'object', properties: { deleted: { type: 'boolean' } } } },
    },
  }, async (request) => {
    const { shop, customer } = request.loyaltyCustomer;
    const token = request.params['*'];
    // An APNs token may have been registered in another case; stored lower-case.
    const deleted = (await ds.removeDevice(shop, customer, token)) || (/^[0-9A-Fa-f]+$/.test(token) && (await ds.removeDevice(shop, customer, token.toLowerCase())));
    return { deleted: Boolean(deleted) };
  });
}
export default deviceRoutes;
