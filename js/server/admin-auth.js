// Who is calling the admin API: the operator token (scripts; acts as the shop's owner,
// recorded as "token") or a named operator's session (POST /api/login). Each route then
// says which action it is (js/server/operators.js ROLES), and writes are stamped with the
// caller's name, so the ledger and the audit log never carry a client-supplied author.
import { timingSafeEqual } from 'node:crypto';
import { bearer, digest, failureLimiter, tooMany } from './auth.js';
import { sessionOf } from './operators.js';

/**
 * An onRequest hook setting `request.operator` ({shop, name, role}); 401 otherwise, 429
 * after too many failures from one address. Without `db` only the token is accepted.
 * @param {{token: string, shop: string, db?: object, shopifySessions?: {verify: Function, domain: string},
 *          limiter?: object, now?: () => Date}} options
 *   `shopifySessions`: App Bridge session tokens of the shop `domain` are its owner's.
 */
export function adminAuth({ token, shop, db, shopifySessions, limiter = failureLimiter(), now = () => new Date() }) {
  if (typeof token !== 'string' || token === '') throw new TypeError('token: a non-empty string is required for the admin API');
  const expected = digest(token);
  return async function checkAdmin(request, reply) {
    if (limiter.blocked(request.ip)) return tooMany(limiter, request, reply);
    const given = bearer(request);
    if (given && timingSafeEqual(digest(given), expected)) {
      request.operator = { shop, name: 'token', role: 'owner' };
      return undefined;
    }
    // Session tokens are 43 characters of base64url; anything else is not worth a query.
    const session = given && db && /^[A-Za-z0-9_-]{20,100}$/.test(given) ? await sessionOf(db, given, now()) : null;
    if (session && session.shop === shop) {
      request.operator = session;
      return undefined;
    }
    // Inside the Shopify admin: an App Bridge session token (a JWT Shopify signs with the
    // app's secret; signature, aud, dest, exp checked) for this admin's own shop.
    if (given && shopifySessions && given.split('.').length === 3) {
      const who = await shopifySessions.verify(request.headers.authorization).catch(() => null);
      // The Shopify staff member (`sub`) is the author of what they do.
      if (who?.user && who.shop === shopifySessions.domain) {
        request.operator = { shop, name: `shopify-user:${who.user}`, role: 'owner' };
        return undefined;
      }
    }
    if (given) limiter.fail(request.ip);
    reply.header('www-authenticate', 'Bearer');
    return reply.code(401).send({ error: { code: 'unauthorized', path: 'authorization', message: given ? 'bearer token does not match (or the session expired: sign in again)' : 'missing bearer token' } });
  };
}

// Roles per action live with the operators (one check for every route).
export { permit } from './operators.js';

/**
 * A preValidation hook: a body's `by` is the signed-in operator's name, whatever the client
 * sent (schemas that require `by` still validate: it is filled in before they run).
 */
export async function stampAuthor(request) {
  const body = request.body;
  if (request.operator && body && typeof body === 'object' && !Array.isArray(body) && 'by' in (request.routeOptions.schema?.body?.properties ?? {})) {
    body.by = request.operator.name;
  }
}
