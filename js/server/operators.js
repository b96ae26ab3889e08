// Named operators: who may do what in a shop's admin, how they sign in, and what they did.
//   owner  - everything: the program (publish, rollback) and the operators
//   staff  - day-to-day work: grants, redemptions, coupon cancels, notification templates
//   viewer - reads only
// Passwords are scrypt-hashed (node:crypto); a sign-in returns a random session token of
// which only the SHA-256 is stored, and which expires. Every change made through these
// routes lands in the audit log with the operator's name.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { httpError } from './errors.js';
import { bearer, failureLimiter, tooMany } from './auth.js';
import {
  insertOperator, findOperator, listOperators, countOperators, insertSession, findSession, deleteSession, audit, auditLog, failedLogins,
} from '../stores/operators.js';

export { audit, auditLog, listOperators, countOperators };

/**
 * A route's audit log for one shop: `record(request, action, target, details)` appends a row
 * whose author is the request's operator (set by the admin's sign-in hook), never a name the
 * client sent. Without a SQL store (an npm import on the memory store) nothing is recorded.
 * @example const record = auditor(store.db, 'shop-1'); await record(request, 'points.adjust', 'c-1', { points: 250 });
 */
export function auditor(db, shop) {
  return async (request, action, target, details) =>
    (db ? audit(db, { shop, operator: request.operator?.name ?? null, action, target, details }) : undefined);
}

export const ROLES = ['owner', 'staff', 'viewer'];

// Reads every role may do; writes by role. An action not listed is refused to all but the
// owner, so a route added later is closed until someone decides who may use it.
const READS = ['customers.read', 'coupons.read', 'kpis.read', 'program.read', 'templates.read', 'operators.read', 'audit.read'];
const STAFF = ['points.adjust', 'rewards.redeem', 'coupons.cancel', 'templates.write', 'notify.resend'];
const OWNER = ['program.write', 'operators.write', 'events.write'];
export const ACTIONS = [...READS, ...STAFF, ...OWNER];
const GRANTS = { owner: new Set(ACTIONS), staff: new Set([...READS, ...STAFF]), viewer: new Set(READS) };

/**
 * Whether `role` may do `action` (one of ACTIONS).
 * @example can('staff', 'points.adjust') // true; can('viewer', 'points.adjust') // false
 */
export function can(role, action) {
  return GRANTS[role]?.has(action) ?? false;
}

// --- passwords -------------------------------------------------------------------------
const scrypt = promisify(scryptCb);
// N = 2^15 (about 32 MiB, tens of ms): OWASP's minimum for scrypt. Stored with the hash, so
// raising it later only affects new hashes.
const COST = { N: 32768, r: 8, p: 1 };
const KEYLEN = 32;
const maxmem = (N, r) => 256 * N * r; // twice scrypt's 128*N*r, Node's default is too small for N=2^15

/** `scrypt$N$r$p$salt$hash` (base64url) for a password. */
export async function hashPassword(password, { N, r, p } = COST) {
  if (typeof password !== 'string' || password.length < 10) throw httpError(400, 'invalid_request', 'password', 'password: at least 10 characters');
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFC'), salt, KEYLEN, { N, r, p, maxmem: maxmem(N, r) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `password` matches a hash from hashPassword (constant time in the key). */
export async function verifyPassword(password, stored) {
  const [alg, N, r, p, salt, hash] = String(stored).split('$');
  if (alg !== 'scrypt' || !hash || typeof password !== 'string') return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length, { N: +N, r: +r, p: +p, maxmem: maxmem(+N, +r) });
  return timingSafeEqual(key, expected);
}

// A sign-in for an unknown name still pays for one scrypt, so the time taken does not tell
// which names exist.
let dummyHash;
const dummy = async () => (dummyHash ??= await hashPassword('not-a-real-password-at-all'));

// --- operators and sessions ------------------------------------------------------------
const tokenHash = (token) => createHash('sha256').update(String(token)).digest('hex');
const NAME = /^[\p{L}\p{N}._@+-]{1,100}$/u;

/**
 * Creates an operator (hashing the password). For the first owner of a new shop, call it
 * from the install flow or the CLI; afterwards owners add others through POST /api/operators.
 * @example await createOperator(store.db, 'shop-1', { name: 'ann', role: 'owner', password: 'correct horse battery' });
 */
export async function createOperator(db, shop, { name, role, password, display_name = null, by = null }) {
  if (typeof name !== 'string' || !NAME.test(name)) throw httpError(400, 'invalid_request', 'name', 'name: 1 to 100 letters, digits or . _ @ + -');
  if (!ROLES.includes(role)) throw httpError(400, 'invalid_request', 'role', `role: one of ${ROLES.join(', ')}`);
  return insertOperator(db, shop, { name, role, display_name, password_hash: await hashPassword(password), created_by: by });
}

/**
 * Checks a name and password; on success stores a new session and returns
 * {token, expires_at, operator: {name, role, display_name}}, otherwise null.
 */
export async function login(db, shop, name, password, { ttlMs = 12 * 3600_000, now = new Date() } = {}) {
  const op = await findOperator(db, shop, String(name));
  const ok = await verifyPassword(password, op?.password_hash ?? (await dummy()));
  if (!op || !ok || op.disabled) return null;
  const token = randomBytes(32).toString('base64url');
  const expires_at = new Date(now.getTime() + ttlMs);
  await insertSession(db, { token_hash: tokenHash(token), shop, operator: op.name, expires_at, now });
  return { token, expires_at: expires_at.toISOString(), operator: { name: op.name, role: op.role, display_name: op.display_name } };
}

/** The operator a session token belongs to ({shop, name, role, display_name, expires_at}), or null. */
export const sessionOf = (db, token, now = new Date()) => findSession(db, tokenHash(token), now);

export const logout = (db, token) => deleteSession(db, tokenHash(token));

// --- Fastify hooks ---------------------------------------------------------------------

/**
 * An onRequest hook: 401 unless the bearer token is a live session of this request's shop;
 * sets `request.operator` ({shop, name, role, display_name}).
 * @param {{db: object, shopOf: (request) => string | Promise<string>, now?: () => Date}} options
 */
export function operatorAuth({ db, shopOf, now = () => new Date() }) {
  return async function checkOperator(request, reply) {
    const token = bearer(request);
    const session = token ? await sessionOf(db, token, now()) : null;
    if (!session || session.shop !== (await shopOf(request))) {
      reply.header('www-authenticate', 'Bearer');
      throw httpError(401, 'unauthorized', 'authorization', token ? 'session expired or unknown; sign in again' : 'missing bearer token');
    }
    request.operator = session;
  };
}

/**
 * A preHandler: 403 `forbidden` unless request.operator's role may do `action`.
 * @example app.post('/api/customers/:id/adjust', { preHandler: permit('points.adjust') }, handler)
 */
export function permit(action) {
  return async function checkRole(request) {
    const role = request.operator?.role;
    if (!can(role, action)) throw httpError(403, 'forbidden', '', `${role ?? 'nobody'} may not ${action}`);
  };
}

const err = { type: 'object', additionalProperties: true };
const security = [{ bearer: [] }];
const schemas = {
  login: {
    summary: 'Sign in as a named operator of this shop; returns a session token',
    body: {
      type: 'object', required: ['name', 'password'], additionalProperties: false,
      properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
    },
  },
  create: {
    summary: 'Add an operator (owners only)',
    security,
    body: {
      type: 'object', required: ['name', 'password', 'role'], additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 100 },
        password: { type: 'string', minLength: 10, maxLength: 1024 },
        role: { type: 'string', enum: ROLES },
        display_name: { type: 'string', maxLength: 200 },
      },
    },
    response: { 400: err, 401: err, 403: err, 409: err },
  },
  audit: {
    summary: "The shop's audit log, newest first, keyset paged",
    security,
    querystring: {
      type: 'object', additionalProperties: false,
      properties: { cursor: { type: 'string', pattern: '^[0-9]{1,19}$' }, limit: { type: 'string', pattern: '^[0-9]{1,3}$' } },
    },
  },
};

/**
 * Fastify plugin: POST /api/login, POST /api/logout, GET /api/operators, POST /api/operators
 * (owner), GET /api/audit. `shopOf(request)` names the request's shop (from the host, the
 * session of the embedding platform, ...).
 * @param {{db: object, shopOf: (request) => string | Promise<string>, auth?: Function, sessionTtlMs?: number, now?: () => Date, maxFailures?: number, failureWindowMs?: number}} options
 */
export async function operatorRoutes(app, { db, shopOf, auth, sessionTtlMs, now = () => new Date(), maxFailures = 10, failureWindowMs = 15 * 60_000 }) {
  // Per address too, more loosely (an office shares one): each new name would otherwise get
  // its own fresh attempts, and its own audit rows.
  const limiter = failureLimiter({ max: maxFailures * 5, windowMs: failureWindowMs, now: () => now().getTime() });
  app.post('/api/login', { schema: schemas.login }, async (request, reply) => {
    if (limiter.blocked(request.ip)) return tooMany(limiter, request, reply);
    const shop = await shopOf(request);
    const { name, password } = request.body;
    // Password guessing: after maxFailures wrong passwords for a name within the window,
    // that name is refused until the window has moved on (counted from the audit log, so
    // every server process sees the same count).
    if (await failedLogins(db, shop, name, new Date(now().getTime() - failureWindowMs)) >= maxFailures) {
      reply.header('retry-after', String(Math.ceil(failureWindowMs / 1000)));
      throw httpError(429, 'too_many_attempts', 'name', 'too many failed sign-ins for this name; try again later');
    }
    const out = await login(db, shop, name, password, { ttlMs: sessionTtlMs, now: now() });
    await audit(db, { shop, operator: out ? name : null, action: out ? 'operator.login' : 'operator.login_failed', target: name, details: { ip: request.ip } });
    if (!out) {
      limiter.fail(request.ip);
      throw httpError(401, 'invalid_credentials', 'password', 'name or password does not match');
    }
    return out;
  });

  app.register(async (api) => {
    // `auth`: the admin's own hook (js/server/admin-auth.js: the operator token as well as
    // sessions); by default sessions only.
    api.addHook('onRequest', auth ?? operatorAuth({ db, shopOf, now }));

    api.post('/api/logout', { schema: { summary: 'End this session', security } }, async (request) => {
      await logout(db, bearer(request));
      return { ok: true };
    });

    api.get('/api/operators', { schema: { summary: "The shop's operators and their roles", security }, preHandler: permit('operators.read') },
      async (request) => ({ operators: await listOperators(db, request.operator.shop) }));

    api.post('/api/operators', { schema: schemas.create, preHandler: permit('operators.write') }, async (request, reply) => {
      const { shop, name: by } = request.operator;
      const { name, role, password, display_name } = request.body;
      const created = await createOperator(db, shop, { name, role, password, display_name, by }).catch((e) => {
        throw e.code === 'conflict' ? httpError(409, 'conflict', 'name', e.message) : e;
      });
      await audit(db, { shop, operator: by, action: 'operator.create', target: name, details: { role } });
      return reply.code(201).send(created);
    });

    api.get('/api/audit', { schema: schemas.audit, preHandler: permit('audit.read') }, async (request) => {
      const { cursor, limit } = request.query;
      return auditLog(db, request.operator.shop, { cursor: cursor ?? null, limit: limit === undefined ? 50 : Number(limit) });
    });
  });
}

export default operatorRoutes;
