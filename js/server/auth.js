// Bearer-token check for the admin API. Compares digests so the time taken reveals
// neither the token nor its length.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s) => createHash('sha256').update(String(s)).digest();

/** A Fastify onRequest hook that answers 401 unless `Authorization: Bearer <token>` matches. */
export function bearerAuth(token) {
  if (typeof token !== 'string' || token === '') throw new TypeError('token: a non-empty string is required for the admin API');
  const expected = digest(token);
  return async function checkBearer(request, reply) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (m && timingSafeEqual(digest(m[1]), expected)) return;
    reply.header('www-authenticate', 'Bearer');
    return reply.code(401).send({ error: { code: 'unauthorized', path: 'authorization', message: m ? 'bearer token does not match' : 'missing bearer token' } });
  };
}
