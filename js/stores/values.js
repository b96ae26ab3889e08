// Small conversions and rules shared by the stores (sql.js, chunk.js, memory.js) and the
// notification tables (notify/store.js).

// pg returns bigint as a string, PGlite as a number; points always fit in 2^53 here.
export const int = (v) => (v == null ? v : Number(v));
/** A time (epoch ms, Date or timestamp text) as ISO 8601 text, or null. */
export const iso = (v) => (v == null ? null : new Date(v).toISOString());
export const json = (v) => (v == null ? null : JSON.stringify(v));

/** The coupon status each effect sets on an issued coupon. */
export const COUPON_STATUS = { 'coupon.used': 'used', 'coupon.expired': 'expired', 'coupon.cancelled': 'cancelled' };

/** The status a coupon effect gives its coupon (a new one's for coupon.issued), or null. */
export const couponStatus = (f) => (f.type === 'coupon.issued' ? f.coupon.status ?? 'issued' : COUPON_STATUS[f.type] ?? null);

/** The outbox key of an event's effect number `i`: the effect's own key, else `<event id>:<i>`. */
export const outboxKey = (event, f, i) => f.key ?? `${event.id}:${i}`;

/**
 * The advisory lock that serializes every event naming one order, as an SQL expression over
 * two SQL operands (e.g. '$1', '$2'). Webhooks (sql.js, and loyalty_record in
 * record-schema.js, a migration that spells the same key out) and imports (chunk.js)
 * serialize only because they all take this same key: a change to it needs a new
 * migration of loyalty_record. A hash collision only makes two orders wait for each other.
 */
export const orderLockSql = (program, orderId) => `pg_advisory_xact_lock(hashtextextended(${program} || '/' || ${orderId}, 0))`;
