// SQL for named operators, their sign-in sessions and the audit log (tables in
// ./operator-schema.js). Passwords and tokens arrive here already hashed: this file stores
// and finds rows, js/server/operators.js decides who may do what.
//
// `db` is a store's `{query, transaction}` (store.db of PGlite or PostgreSQL).
import { LoyaltyError } from '../errors.js';

const iso = (t) => (t == null ? null : (t instanceof Date ? t : new Date(t)).toISOString());
const operatorRow = (r) => ({
  shop: r.shop, name: r.name, display_name: r.display_name ?? null, role: r.role,
  created_at: iso(r.created_at), created_by: r.created_by ?? null, disabled: r.disabled_at != null,
});

/** Inserts an operator; a name already taken in the shop is a `conflict` LoyaltyError. */
export async function insertOperator(db, shop, { name, display_name = null, role, password_hash, created_by = null }) {
  try {
    const { rows } = await db.query(
      `INSERT INTO operators (shop, name, display_name, role, password_hash, created_by) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING shop, name, display_name, role, created_at, created_by, disabled_at`,
      [shop, name, display_name, role, password_hash, created_by]);
    return operatorRow(rows[0]);
  } catch (err) {
    if (err.code === '23505') throw new LoyaltyError('conflict', 'name', `operator "${name}" already exists`);
    throw err;
  }
}

/** The operator with its password hash (for sign-in), or null. */
export async function findOperator(db, shop, name) {
  const { rows } = await db.query(
    'SELECT shop, name, display_name, role, password_hash, created_at, created_by, disabled_at FROM operators WHERE shop = $1 AND name = $2',
    [shop, name]);
  return rows.length ? { ...operatorRow(rows[0]), password_hash: rows[0].password_hash } : null;
}

/** The shop's operators by name, without password hashes. */
export async function listOperators(db, shop) {
  const { rows } = await db.query(
    'SELECT shop, name, display_name, role, created_at, created_by, disabled_at FROM operators WHERE shop = $1 ORDER BY name', [shop]);
  return rows.map(operatorRow);
}

/** How many operators a shop has (0: nobody has been set up yet). */
export async function countOperators(db, shop) {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM operators WHERE shop = $1', [shop]);
  return rows[0].n;
}

/** Stores a session by its token's hash; sweeps the shop's expired sessions on the way. */
export async function insertSession(db, { token_hash, shop, operator, expires_at, now = new Date() }) {
  await db.query('DELETE FROM operator_sessions WHERE shop = $1 AND expires_at <= $2', [shop, now]);
  await db.query('INSERT INTO operator_sessions (token_hash, shop, operator, expires_at) VALUES ($1, $2, $3, $4)',
    [token_hash, shop, operator, expires_at]);
}

/** The live session of a token hash, with its operator's role: {shop, name, role, display_name, expires_at}, or null. */
export async function findSession(db, token_hash, now = new Date()) {
  const { rows } = await db.query(
    `SELECT s.shop, s.operator, s.expires_at, o.role, o.display_name FROM operator_sessions s
       JOIN operators o ON o.shop = s.shop AND o.name = s.operator
      WHERE s.token_hash = $1 AND s.expires_at > $2 AND o.disabled_at IS NULL`,
    [token_hash, now]);
  if (!rows.length) return null;
  const r = rows[0];
  return { shop: r.shop, name: r.operator, role: r.role, display_name: r.display_name ?? null, expires_at: iso(r.expires_at) };
}

export async function deleteSession(db, token_hash) {
  await db.query('DELETE FROM operator_sessions WHERE token_hash = $1', [token_hash]);
}

/**
 * Appends to the audit log. `entry`: {shop, operator, action, target?, details?, at?}.
 * @example await audit(store.db, { shop: 's1', operator: 'ann', action: 'points.adjust', target: 'c-1', details: { points: 250 } });
 */
export async function audit(db, { shop, operator = null, action, target = null, details = {}, at }) {
  if (typeof shop !== 'string' || !shop) throw new LoyaltyError('invalid_request', 'shop', 'must be a non-empty string');
  if (typeof action !== 'string' || !action) throw new LoyaltyError('invalid_request', 'action', 'must be a non-empty string');
  const { rows } = await db.query(
    `INSERT INTO audit_log (shop, at, operator, action, target, details) VALUES ($1, COALESCE($2::timestamptz, now()), $3, $4, $5, $6::jsonb)
     RETURNING id, at`,
    [shop, at ?? null, operator, action, target == null ? null : String(target), JSON.stringify(details ?? {})]);
  return { id: String(rows[0].id), at: iso(rows[0].at) };
}

/**
 * The shop's audit log, newest first, a keyset page at a time: {entries, next} where `next`
 * is the cursor of the following page (null on the last).
 * @example const { entries, next } = await auditLog(store.db, 's1', { limit: 50 });
 */
export async function auditLog(db, shop, { cursor = null, limit = 50 } = {}) {
  if (cursor != null && !/^\d{1,19}$/.test(String(cursor))) throw new LoyaltyError('invalid_request', 'cursor', 'is not a cursor from a previous page');
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new LoyaltyError('invalid_request', 'limit', 'must be from 1 to 500');
  const { rows } = await db.query(
    `SELECT id, at, operator, action, target, details FROM audit_log
      WHERE shop = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
    [shop, cursor == null ? null : String(cursor), limit + 1]);
  const page = rows.slice(0, limit);
  return {
    entries: page.map((r) => ({ id: String(r.id), at: iso(r.at), operator: r.operator, action: r.action, target: r.target, details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details })),
    next: rows.length > limit ? String(page[page.length - 1].id) : null,
  };
}

/** Failed sign-ins for a name since `since` (by the partial index on the audit log). */
export async function failedLogins(db, shop, name, since) {
  const { rows } = await db.query(
    "SELECT count(*)::int AS n FROM audit_log WHERE shop = $1 AND target = $2 AND at > $3 AND action = 'operator.login_failed'",
    [shop, name, since]);
  return rows[0].n;
}
