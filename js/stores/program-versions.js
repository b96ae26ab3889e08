// Program versions per shop: every publish adds a numbered, immutable version; the newest
// is the one in force. A rollback publishes an old version's content again as a new
// version, so the history reads in the order things happened and nothing is rewritten.
//
// Change signal: publishing sends `NOTIFY loyalty_program, '<shop>'` (delivered on commit),
// as every write to a shop's row does (js/shops/registry.js keeps rows until it hears it).
// A server that holds the env shop's engine and missed a notification while reconnecting
// compares `currentVersion(db, shop)`, one primary-key lookup, with the version it compiled.
//
// `db` is a store's `{query, transaction}` (store.db of PGlite or PostgreSQL).
import { LoyaltyError } from '../errors.js';

export const PROGRAM_CHANNEL = 'loyalty_program';

/** The change signal of a shop's row (delivered on commit inside a transaction). */
export const notifyShop = (db, shop) => db.query('SELECT pg_notify($1, $2)', [PROGRAM_CHANNEL, shop]);

const iso = (t) => (t instanceof Date ? t.toISOString() : new Date(t).toISOString());
const row = (r) => ({
  shop: r.shop,
  version: Number(r.version),
  ...(r.program !== undefined ? { program: typeof r.program === 'string' ? JSON.parse(r.program) : r.program } : {}),
  author: r.author,
  note: r.note ?? null,
  created_at: iso(r.created_at),
});

function check(shop, author) {
  if (typeof shop !== 'string' || shop === '') throw new LoyaltyError('invalid_request', 'shop', 'must be a non-empty string');
  if (author !== undefined && (typeof author !== 'string' || author === '')) throw new LoyaltyError('invalid_request', 'author', 'must name who publishes');
}

// Inside the caller's transaction: one writer per shop at a time (the advisory lock), so
// two publishes at once get versions n+1 and n+2 instead of a key conflict.
// With `apply`, the shop's row (shops.program, the one every process's registry compiles,
// keyed by updated_at) takes the program in the same transaction: a version is never
// recorded as published without being the one events get, nor the other way round.
async function insertVersion(tx, shop, program, author, note, apply) {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('loyalty_program:' || $1))", [shop]);
  const { rows } = await tx.query(
    `INSERT INTO program_versions (shop, version, program, author, note)
     SELECT $1, COALESCE(MAX(version), 0) + 1, $2::jsonb, $3, $4 FROM program_versions WHERE shop = $1
     RETURNING shop, version, program, author, note, created_at`,
    [shop, JSON.stringify(program), author, note ?? null]);
  if (apply) await applyToShop(tx, shop, program);
  else await notifyShop(tx, shop);
  return row(rows[0]);
}

/**
 * Publishes `program` as the shop's next version. Validate it with the engine first
 * (createEngine(program) throws a LoyaltyError with the field's path): this stores it as given.
 * @example const v = await publish(store.db, 'shop-1', program, 'ann', { note: 'Summer rates' }); // v.version === 3
 */
export async function publish(db, shop, program, author, { note, apply = false } = {}) {
  check(shop, author);
  if (!program || typeof program !== 'object' || Array.isArray(program)) throw new LoyaltyError('invalid_request', 'program', 'must be a program object');
  return db.transaction((tx) => insertVersion(tx, shop, program, author, note, apply));
}

/** The version in force: {shop, version, program, author, note, created_at}, or null before the first publish. */
export async function current(db, shop) {
  check(shop);
  const { rows } = await db.query(
    'SELECT shop, version, program, author, note, created_at FROM program_versions WHERE shop = $1 ORDER BY version DESC LIMIT 1', [shop]);
  return rows.length ? row(rows[0]) : null;
}

/** One version with its program, or null. */
export async function getVersion(db, shop, version) {
  check(shop);
  const { rows } = await db.query(
    'SELECT shop, version, program, author, note, created_at FROM program_versions WHERE shop = $1 AND version = $2', [shop, version]);
  return rows.length ? row(rows[0]) : null;
}

/** The shop's versions, newest first, without their programs (getVersion reads one). */
export async function list(db, shop, { limit = 100 } = {}) {
  check(shop);
  const { rows } = await db.query(
    'SELECT shop, version, author, note, created_at FROM program_versions WHERE shop = $1 ORDER BY version DESC LIMIT $2', [shop, limit]);
  return rows.map(row);
}

/**
 * Makes an old version's content current again, as a new version authored by `author`.
 * @example await rollback(store.db, 'shop-1', 2, 'ann'); // -> {version: 4, note: 'rollback to version 2', ...}
 */
export async function rollback(db, shop, version, author, { note, apply = false } = {}) {
  check(shop, author);
  if (!Number.isInteger(version) || version < 1) throw new LoyaltyError('invalid_request', 'version', 'must be a version number');
  return db.transaction(async (tx) => {
    const { rows } = await tx.query('SELECT program FROM program_versions WHERE shop = $1 AND version = $2', [shop, version]);
    if (!rows.length) throw new LoyaltyError('not_found', 'version', `shop ${shop} has no program version ${version}`);
    const program = typeof rows[0].program === 'string' ? JSON.parse(rows[0].program) : rows[0].program;
    return insertVersion(tx, shop, program, author, note ?? `rollback to version ${version}`, apply);
  });
}

/** The number of the version in force (0 before the first publish): a cheap "did it change?" check. */
export async function currentVersion(db, shop) {
  check(shop);
  const { rows } = await db.query('SELECT MAX(version) AS v FROM program_versions WHERE shop = $1', [shop]);
  return Number(rows[0]?.v ?? 0);
}

/**
 * Makes `program` the shop's program in force (shops.program, with the shop's id; a new
 * updated_at makes every process's registry compile it, once the change signal has made
 * it read the row again). A shop without a row is a not_found LoyaltyError.
 */
export async function applyToShop(db, shop, program) {
  const { rows } = await db.query(
    'UPDATE shops SET program = $2::jsonb, updated_at = clock_timestamp() WHERE id = $1 RETURNING id',
    [shop, JSON.stringify({ ...program, id: shop })]);
  if (!rows.length) throw new LoyaltyError('not_found', 'shop', `no shop ${shop}`);
  await notifyShop(db, shop);
}
