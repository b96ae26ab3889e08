// Bearer-token check for the admin API. Compares digests so the time taken reveals
// neither the token nor its length.
import { createHash, timingSafeEqual } from 'node:crypto';

export const digest = (s) => createHash('sha256').update(String(s)).digest();

/** The token of `Authorization: Bearer <token>`, or null. */
export const bearer = (request) => /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1] ?? null;

/**
 * Failed attempts per client address in a sliding window: past `max`, every request from
 * that address is 429 until the window has passed, so a token cannot be guessed at speed.
 */
export function failureLimiter({ max = 20, windowMs = 60_000, now = () => Date.now() } = {}) {
  const failures = new Map(); // ip -> [times]
  const recent = (ip) => (failures.get(ip) ?? []).filter((t) => t > now() - windowMs);
  return {
    blocked(ip) {
      const r = recent(ip);
      return r.length >= max ? Math.ceil((r[0] + windowMs - now()) / 1000) : 0;
    },
    fail(ip) {
      const r = recent(ip);
      r.push(now());
      failures.set(ip, r.slice(-max));
      if (failures.size > 10_000) failures.delete(failures.keys().next().value);
    },
  };
}

/** The 429 for an address past its failed attempts, with when to come back. */
export function tooMany(limiter, request, reply) {
  const wait = limiter.blocked(request.ip);
  reply.header('retry-after', String(wait));
  return reply.code(429).send({ error: { code: 'too_many_attempts', path: 'authorization', message: `too many failed attempts from this address: retry in ${wait} s` } });
}

/** A Fastify onRequest hook that answers 401 unless `Authorization: Bearer <token>` matches. */
export function bearerAuth(token, limiter = failureLimiter()) {
  if (typeof token !== 'string' || token === '') throw new TypeError('token: a non-empty string is required for the admin API');
  const expected = digest(token);
  return async function checkBearer(request, reply) {
    if (limiter.blocked(request.ip)) return tooMany(limiter, request, reply);
    const given = bearer(request);
    if (given && timingSafeEqual(digest(given), expected)) return;
    if (given) limiter.fail(request.ip);
    reply.header('www-authenticate', 'Bearer');
    return reply.code(401).send({ error: { code: 'unauthorized', path: 'authorization', message: given ? 'bearer token does not match' : 'missing bearer token' } });
  };
}
