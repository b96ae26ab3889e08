// Program KPIs for the admin dashboard, in SQL over the ledger tables (PGlite and
// PostgreSQL alike). Definitions, for the window [from, to):
//
// - members: accounts of the program (now).
// - active_members: customers with a purchase (an `earn` entry) in the 90 days up to `to`.
// - buyers / repeat_buyers / repeat_purchase_rate: customers with at least one purchase in
//   the window, those with two or more distinct purchase events, and the share.
// - earned, redeemed, expired, reversed, adjusted: points in the window by entry type
//   (debits as positive numbers; adjusted is the net of grants and deductions).
// - redemption_rate = redeemed / earned; breakage = expired / earned (null if nothing earned).
// - liability: outstanding points (sum of positive balances), pending points, and their
//   money value at `point_value` (see pointValue) in the program currency.
// - coupons: coupons by status (all time).
// - days: earned / redeemed / expired per local day in the program's time zone.

const int = (v) => (v == null ? 0 : Number(v));
const ratio = (a, b) => (b > 0 ? Math.round((a / b) * 10000) / 10000 : null);
const DAY = 86_400_000;

/** Digits after the decimal point for an ISO 4217 currency (EUR 2, JPY 0, KWD 3). */
export function currencyDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

const toMinor = (amount, digits) => {
  const [whole, frac = ''] = String(amount).split('.');
  return BigInt(whole + (frac + '0'.repeat(digits)).slice(0, digits));
};
const fromMinor = (minor, digits) => {
  const neg = minor < 0n;
  const s = (neg ? -minor : minor).toString().padStart(digits + 1, '0');
  const out = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return neg ? `-${out}` : out;
};

/**
 * What one point is worth to the customer, as {minor, points} (minor units per `points`
 * points), from the catalogue: a fixed coupon is worth its value, a percent coupon its
 * percent of its minimum order; the best rate a customer can get counts (the liability is
 * what the merchant may have to give). Null when no reward has a money value.
 */
export function pointValue(program) {
  const digits = currencyDigits(program.currency);
  let best = null;
  for (const r of program.rewards ?? []) {
    const c = r.coupon;
    if (!c || !(r.points > 0)) continue;
    let minor = null;
    if (c.type === 'fixed' && c.value != null) minor = toMinor(c.value, digits);
    else if (c.type === 'percent' && c.value != null && c.min_order != null) {
      // value% of min_order, in minor units (value may carry decimals: scale by 10^4).
      minor = (toMinor(c.min_order, digits) * toMinor(c.value, 4)) / 1_000_000n;
    }
    if (minor == null) continue;
    // Compare minor/points fractions without floats.
    if (!best || minor * BigInt(best.points) > best.minor * BigInt(r.points)) best = { minor, points: r.points };
  }
  return best;
}

const iso = (t, name) => {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw Object.assign(new Error(`${name}: not a time: ${t}`), { code: 'invalid_request', path: name });
  return d;
};

// Every local day of [from, to) in `tz`, with zeros where the ledger has nothing.
function everyDay(from, to, tz, rows) {
  const local = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const first = local.format(from);
  const last = local.format(new Date(to.getTime() - 1));
  const have = new Map(rows.map((d) => [d.day, d]));
  const out = [];
  for (let d = new Date(`${first}T00:00:00Z`); out.length < 3700; d = new Date(d.getTime() + DAY)) {
    const key = d.toISOString().slice(0, 10);
    if (key > last) break;
    const r = have.get(key);
    out.push({ day: key, earned: int(r?.earned), redeemed: int(r?.redeemed), expired: int(r?.expired) });
  }
  return out;
}

/**
 * @param {{query: Function}} db  the store's db (store.db)
 * @param {object} program
 * @param {{from: Date|string, to: Date|string}} window
 */
export async function kpis(db, program, { from, to }) {
  const P = program.id;
  const f = iso(from, 'from');
  const t = iso(to, 'to');
  const tz = program.timezone ?? 'UTC';
  const activeFrom = new Date(t.getTime() - 90 * DAY);
  const q = (text, params) => db.query(text, params).then((r) => r.rows);

  // Independent statements: on PostgreSQL they run on separate pool connections at once.
  // Each aggregate hashes (DISTINCT in a subquery, not count(DISTINCT), which sorts).
  const [[accounts], days, [buyers], [active], coupons] = await Promise.all([
    q(`SELECT count(*) AS members,
              COALESCE(sum(balance) FILTER (WHERE balance > 0), 0) AS outstanding,
              COALESCE(sum(pending), 0) AS pending
         FROM accounts WHERE program = $1`, [P]),
    q(`SELECT to_char(d, 'YYYY-MM-DD') AS day, earned, redeemed, expired, reversed, adjusted
         FROM (SELECT (at AT TIME ZONE $4)::date AS d,
                      COALESCE(sum(points) FILTER (WHERE type = 'earn'), 0) AS earned,
                      COALESCE(-sum(points) FILTER (WHERE type = 'redeem'), 0) AS redeemed,
                      COALESCE(-sum(points) FILTER (WHERE type = 'expire'), 0) AS expired,
                      COALESCE(-sum(points) FILTER (WHERE type = 'reverse'), 0) AS reversed,
                      COALESCE(sum(points) FILTER (WHERE type = 'adjust'), 0) AS adjusted
                 FROM entries WHERE program = $1 AND at >= $2 AND at < $3
                GROUP BY 1) x
        ORDER BY 1`, [P, f, t, tz]),
    q(`SELECT count(*) AS buyers, count(*) FILTER (WHERE n >= 2) AS repeat
         FROM (SELECT customer, count(*) AS n
                 FROM (SELECT DISTINCT customer, event_id FROM entries
                        WHERE program = $1 AND type = 'earn' AND at >= $2 AND at < $3) o
                GROUP BY customer) b`, [P, f, t]),
    q(`SELECT count(*) AS active
         FROM (SELECT DISTINCT customer FROM entries
                WHERE program = $1 AND type = 'earn' AND at >= $2 AND at < $3) a`, [P, activeFrom, t]),
    q(`SELECT status, count(*) AS n FROM coupons WHERE program = $1 GROUP BY status`, [P]),
  ]);
  const total = (field) => days.reduce((s, d) => s + int(d[field]), 0);
  const sums = { earned: total('earned'), redeemed: total('redeemed'), expired: total('expired'), reversed: total('reversed'), adjusted: total('adjusted') };

  const earned = int(sums.earned);
  const redeemed = int(sums.redeemed);
  const expired = int(sums.expired);
  const outstanding = int(accounts.outstanding);
  const digits = currencyDigits(program.currency);
  const pv = pointValue(program);
  const value = (points) => (pv ? fromMinor((BigInt(points) * pv.minor) / BigInt(pv.points), digits) : null);
  const byStatus = { issued: 0, used: 0, expired: 0, cancelled: 0 };
  for (const r of coupons) byStatus[r.status] = int(r.n);

  return {
    program: P,
    from: f.toISOString(),
    to: t.toISOString(),
    timezone: tz,
    members: int(accounts.members),
    active_members: int(active.active),
    active_since: activeFrom.toISOString(),
    buyers: int(buyers.buyers),
    repeat_buyers: int(buyers.repeat),
    repeat_purchase_rate: ratio(int(buyers.repeat), int(buyers.buyers)),
    earned,
    redeemed,
    expired,
    reversed: int(sums.reversed),
    adjusted: int(sums.adjusted),
    redemption_rate: ratio(redeemed, earned),
    breakage: ratio(expired, earned),
    liability: {
      points: outstanding,
      pending: int(accounts.pending),
      value: value(outstanding),
      currency: program.currency,
      point_value: pv ? { minor_units: Number(pv.minor), per_points: pv.points } : null,
    },
    coupons: byStatus,
    days: everyDay(f, t, tz, days),
  };
}

/** Accounts whose id starts with `q` (case-sensitive; ids are the platform's), by id. */
export async function searchCustomers(db, program, q, { limit = 20 } = {}) {
  const prefix = String(q ?? '');
  // A range on the text_pattern_ops index (byte order): [prefix, prefix with its last
  // character incremented); left() keeps the match exact whatever the bytes.
  const upper = prefix === '' ? null : prefix.slice(0, -1) + String.fromCodePoint(prefix.codePointAt(prefix.length - 1) + 1);
  const { rows } = await db.query(
    `SELECT customer, balance, pending, tier FROM accounts
      WHERE program = $1 AND customer ~>=~ $2 AND ($3::text IS NULL OR customer ~<~ $3::text)
        AND left(customer, length($2)) = $2 AND state IS NOT NULL
      ORDER BY customer USING ~<~ LIMIT $4`,
    [program.id, prefix, upper, limit],
  );
  return rows.map((r) => ({ customer: r.customer, balance: int(r.balance), pending: int(r.pending), tier: r.tier ?? null }));
}

/** Records who cancelled a coupon and why (the first cancel's); the engine's
 * `coupon.cancelled` effect has already set its status. */
export async function markCancelled(db, program, code, { reason, by, at }) {
  await db.query(
    `UPDATE coupons SET updated_at = now(),
            data = data || jsonb_build_object('cancelled', jsonb_build_object('reason', $3::text, 'by', $4::text, 'at', $5::text))
      WHERE program = $1 AND code = $2 AND NOT data ? 'cancelled'`,
    [program.id, code, reason, by, at],
  );
}

// --- the admin's customer list -----------------------------------------------------------
// Keyset pages: a cursor is the last row's sort key and customer id, so page N costs what
// page 1 costs on 1,000,000 accounts (each query is one range on an index of
// js/stores/admin-search-schema.js or kpi-schema.js), and rows arriving meanwhile never
// shift a page.
const SORTS = ['id', 'balance', 'activity'];
const FIELDS = ['any', 'id', 'email', 'name'];
const badCursor = () => Object.assign(new Error('cursor: not a cursor from a previous page'), { code: 'invalid_request', path: 'cursor' });
const encode = (parts) => Buffer.from(JSON.stringify(parts)).toString('base64url');
function decode(cursor, n) {
  if (cursor == null || cursor === '') return null;
  try {
    const parts = JSON.parse(Buffer.from(String(cursor), 'base64url').toString());
    if (Array.isArray(parts) && parts.length === n && parts.every((p) => typeof p === 'string')) return parts;
  } catch { /* falls through */ }
  throw badCursor();
}
// [prefix, prefix with its last character incremented): the range a text_pattern_ops index answers.
const upperOf = (prefix) => prefix.slice(0, -1) + String.fromCodePoint(prefix.codePointAt(prefix.length - 1) + 1);

const COLUMNS = `a.customer, a.balance, a.pending, a.tier, a.updated_at, c.email, c.name`;
const listRow = (r) => ({
  customer: r.customer, balance: int(r.balance), pending: int(r.pending), tier: r.tier ?? null,
  email: r.email ?? null, name: r.name ?? null, last_activity: r.updated_at == null ? null : new Date(r.updated_at).toISOString(),
});

/**
 * One page of the program's customers: all of them sorted by `sort` (id, balance highest
 * first, or last activity newest first), or those whose id, email or name starts with `q`
 * (`field`: any, id, email or name; case-insensitive for email and name; `any` means email
 * when q holds an @, else id). Returns {customers, next} where `next` is the following
 * page's cursor or null.
 * @example await customerPage(db, program, { q: 'ann@', limit: 20 })
 */
export async function customerPage(db, program, { q = '', field = 'any', sort = 'id', limit = 20, cursor = null } = {}) {
  if (!SORTS.includes(sort)) throw Object.assign(new Error(`sort: one of ${SORTS.join(', ')}`), { code: 'invalid_request', path: 'sort' });
  if (!FIELDS.includes(field)) throw Object.assign(new Error(`field: one of ${FIELDS.join(', ')}`), { code: 'invalid_request', path: 'field' });
  const P = program.id;
  const text = String(q ?? '').trim();
  const by = text === '' ? null : field === 'any' ? (text.includes('@') ? 'email' : 'id') : field;
  let rows;
  if (by === 'email' || by === 'name') {
    // The contact's lower(email) or lower(name) prefix, in that key's order.
    const prefix = text.toLowerCase();
    const after = decode(cursor, 2);
    ({ rows } = await db.query(
      `SELECT ${COLUMNS}, lower(c.${by}) AS k FROM notify_contacts c
         JOIN accounts a ON a.program = c.program AND a.customer = c.customer AND a.state IS NOT NULL
        WHERE c.program = $1 AND lower(c.${by}) ~>=~ $2 AND lower(c.${by}) ~<~ $3
          AND ($4::text IS NULL OR lower(c.${by}) ~>~ $4::text OR (lower(c.${by}) = $4::text AND c.customer > $5::text))
        ORDER BY lower(c.${by}) USING ~<~, c.customer LIMIT $6`,
      [P, prefix, upperOf(prefix), after?.[0] ?? null, after?.[1] ?? null, limit + 1]));
    const page = rows.slice(0, limit);
    return { customers: page.map(listRow), next: rows.length > limit ? encode([page.at(-1).k, page.at(-1).customer]) : null };
  }
  if (by === 'id' || sort === 'id') {
    const after = decode(cursor, 1);
    ({ rows } = await db.query(
      `SELECT ${COLUMNS} FROM accounts a LEFT JOIN notify_contacts c ON c.program = a.program AND c.customer = a.customer
        WHERE a.program = $1 AND a.state IS NOT NULL
          AND ($2::text IS NULL OR (a.customer ~>=~ $2 AND a.customer ~<~ $3 AND left(a.customer, length($2)) = $2))
          AND ($4::text IS NULL OR a.customer ~>~ $4)
        ORDER BY a.customer USING ~<~ LIMIT $5`,
      [P, by ? text : null, by ? upperOf(text) : null, after?.[0] ?? null, limit + 1]));
    const page = rows.slice(0, limit);
    return { customers: page.map(listRow), next: rows.length > limit ? encode([page.at(-1).customer]) : null };
  }
  // Everyone, by balance (highest first) or by last activity (newest first).
  const col = sort === 'balance' ? 'a.balance' : 'a.updated_at';
  const cast = sort === 'balance' ? 'bigint' : 'timestamptz';
  const after = decode(cursor, 2);
  // The key travels as PostgreSQL's own text of it (microseconds kept), so the next page
  // starts exactly after the last row.
  ({ rows } = await db.query(
    `SELECT ${COLUMNS}, ${col}::text AS k FROM accounts a LEFT JOIN notify_contacts c ON c.program = a.program AND c.customer = a.customer
      WHERE a.program = $1 AND a.state IS NOT NULL
        AND ($2::text IS NULL OR ${col} < $2::${cast} OR (${col} = $2::${cast} AND a.customer > $3::text))
      ORDER BY ${col} DESC, a.customer LIMIT $4`,
    [P, after?.[0] ?? null, after?.[1] ?? null, limit + 1]));
  const page = rows.slice(0, limit);
  return { customers: page.map(listRow), next: rows.length > limit ? encode([page.at(-1).k, page.at(-1).customer]) : null };
}
