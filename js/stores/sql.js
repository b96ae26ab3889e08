// The one store, in SQL, over a tiny adapter so PGlite and PostgreSQL share every line:
//   db.query(text, params) -> {rows}
//   db.transaction(async (tx) => ...) -> commits on return, rolls back on throw; tx.query
// Row locks order the work: an event locks its order id (advisory), then its account row.
import { migrate } from './schema.js';
import { openChunk } from './chunk.js';
import { int, iso, json, couponStatus, outboxKey, orderLockSql } from './values.js';

/**
 * Coupons of a stock-limited reward issued so far (not cancelled), under a lock held to the
 * end of the transaction: two customers taking the last one serialize here.
 */
export async function rewardStock(q, program, reward) {
  await q.query("SELECT pg_advisory_xact_lock(hashtextextended('stock/' || $1 || '/' || $2, 0))", [program, reward]);
  const { rows } = await q.query("SELECT count(*) AS n FROM coupons WHERE program = $1 AND reward = $2 AND status <> 'cancelled'", [program, reward]);
  return int(rows[0].n);
}

/** Operations that must run inside one transaction (`store.transaction`). */
function txOps(q) {
  return {
    rewardStock: (program, reward) => rewardStock(q, program, reward),

    /**
     * One round trip for the start of an event: takes the order lock (when the event names
     * an order) and reads the event's stored outcome. The read needs no lock: a concurrent
     * first delivery is caught by the events primary key at write time.
     */
    async begin(program, id, orderId) {
      const { rows } = await q.query(
        `SELECT CASE WHEN $3::text IS NULL THEN NULL ELSE ${orderLockSql('$1', '$3')}::text END AS locked,
                (SELECT row_to_json(e) FROM (SELECT customer, result FROM events WHERE program = $1 AND event_id = $2) e) AS found`,
        [program, id, orderId],
      );
      return rows[0].found ?? null;
    },

    /**
     * One round trip when the customer is known and has an account: the order record (its
     * lock is held, so it cannot change under this statement's snapshot) and the account
     * row, locked: {order, account: {state, version}}. Null when there is no account yet.
     */
    async orderAndAccount(program, orderId, customer) {
      const { rows } = await q.query(
        `SELECT state, version,
                (SELECT row_to_json(o) FROM (SELECT customer, record FROM orders WHERE program = $1 AND order_id = $2) o) AS "order"
           FROM accounts WHERE program = $1 AND customer = $3
            FOR UPDATE`,
        [program, orderId, customer],
      );
      const r = rows[0];
      return r ? { order: r.order ?? null, account: { state: r.state, version: int(r.version) } } : null;
    },

    /** The order record and the customer it belongs to, or null. */
    async findOrder(program, orderId) {
      const { rows } = await q.query('SELECT customer, record FROM orders WHERE program = $1 AND order_id = $2', [program, orderId]);
      return rows[0] ?? null;
    },

    /** Locks the customer's row, creating it first if needed: {state|null, version}. */
    async lockAccount(program, customer) {
      const lock = () =>
        q.query('SELECT state, version FROM accounts WHERE program = $1 AND customer = $2 FOR UPDATE', [program, customer]);
      let { rows } = await lock();
      if (!rows.length) {
        // A concurrent creator makes this wait for its commit, then do nothing.
        await q.query('INSERT INTO accounts (program, customer) VALUES ($1, $2) ON CONFLICT DO NOTHING', [program, customer]);
        ({ rows } = await lock());
      }
      return { state: rows[0].state, version: int(rows[0].version) };
    },

    /** Locks the account only if it is still due by `now` and nobody else holds it. */
    async lockDue(program, customer, now) {
      const { rows } = await q.query(
        `SELECT state, version FROM accounts
          WHERE program = $1 AND customer = $2 AND next_due <= $3
          FOR UPDATE SKIP LOCKED`,
        [program, customer, now],
      );
      return rows[0] ? { state: rows[0].state, version: int(rows[0].version) } : null;
    },

    /**
     * Compliance: locks the customer's account, deletes every row of the customer (events,
     * entries, outbox and with it their deliveries, coupons, orders, account, notification
     * contact, push subscriptions) and returns the event bodies in the order they were
     * applied, for loyalty.redact to re-apply under an anonymous id.
     */
    async eraseCustomer(program, customer, { keepContact = false, withSeq = false } = {}) {
      await q.query('SELECT 1 FROM accounts WHERE program = $1 AND customer = $2 FOR UPDATE', [program, customer]);
      const { rows } = await q.query('DELETE FROM events WHERE program = $1 AND customer = $2 RETURNING seq, body', [program, customer]);
      // Deleting outbox rows cascades to their delivery records; contacts and push
      // subscriptions hold the customer's email, phone and devices (kept for an account
      // re-applied only because it names a redacted customer).
      const tables = ['entries', 'outbox', 'coupons', 'orders', 'accounts', ...(keepContact ? [] : ['notify_contacts', 'push_subscriptions', 'push_devices'])];
      for (const table of tables) await q.query(`DELETE FROM ${table} WHERE program = $1 AND customer = $2`, [program, customer]);
      return rows.sort((a, b) => int(a.seq) - int(b.seq)).map((r) => (withSeq ? { seq: int(r.seq), body: r.body } : r.body));
    },

    /** Other customers whose events name `customer` (a referral's friend or referrer). */
    async mentioning(program, customer, idPattern) {
      const { rows } = await q.query(
        `SELECT DISTINCT customer FROM events
          WHERE program = $1 AND customer IS NOT NULL AND customer <> $2
            AND (body->>'ref' = $2 OR event_id ~ $3)`,
        [program, customer, idPattern],
      );
      return rows.map((r) => r.customer).sort();
    },

    /** What the ledger does not rebuild: who cancelled a coupon and why, its store sync. */
    async couponNotes(program, customer) {
      const { rows } = await q.query(
        `SELECT code, data->'cancelled' AS cancelled, store_id, sync_status, sync_error, synced_at FROM coupons
          WHERE program = $1 AND customer = $2`, [program, customer]);
      return rows;
    },
    async restoreCouponNotes(program, notes) {
      for (const n of notes) {
        await q.query(
          `UPDATE coupons SET data = CASE WHEN $3::jsonb IS NULL THEN data ELSE data || jsonb_build_object('cancelled', $3::jsonb) END,
                  store_id = $4, sync_status = $5, sync_error = $6, synced_at = $7
            WHERE program = $1 AND code = $2`,
          [program, n.code, n.cancelled == null ? null : JSON.stringify(n.cancelled), n.store_id, n.sync_status, n.sync_error, n.synced_at]);
      }
    },

    /**
     * Redaction re-applies events that were already handled: what they put in the outbox
     * went out the first time, so the rows written again are settled, not sent again.
     */
    settleOutbox: (program, customers) =>
      q.query(`UPDATE outbox SET status = 'delivered', delivered_at = now(), attempts = attempts WHERE program = $1 AND customer = ANY($2) AND status = 'pending'`, [program, customers]),

    /**
     * Writes everything one event did (`writeRecord`); an event with no customer is only
     * its events row. `stateText` / `orderText`, when given, are bound as is.
     */
    record: (program, written) => writeRecord(q, program, written),

    /** Keeps an event whose order is not in the ledger yet (under that order's lock). */
    park: (program, orderId, event) =>
      q.query('INSERT INTO parked_events (program, event_id, order_id, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [program, event.id, orderId, json(event)]),
  };
}

async function writeRecord(q, program, { event, customer, result, state, stateText, order, orderText, entries = [], effects = [] }, check) {
  const outbox = effects.map((f, i) => ({ key: outboxKey(event, f, i), customer: f.customer ?? customer, type: f.type, effect: f }));
  const coupons = [];
  for (const f of effects) {
    const status = couponStatus(f);
    if (!status) continue;
    coupons.push(f.type === 'coupon.issued'
      ? { code: f.coupon.code, customer: f.customer, reward: f.reward, status, data: f.coupon }
      : { code: f.code, status, order_id: f.order_id ?? null });
  }
  const { rows } = await q.query(
    'SELECT loyalty_record($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) AS written',
    [program, event.id, customer, event.type, event.at, json(event), json(result), json(entries), json(outbox), orderText ?? json(order ?? null),
      state == null ? null : stateText ?? json(state), state?.balance ?? 0, state?.pending ?? 0, state?.tier ?? null, iso(state?.next_due),
      json(coupons), check?.orderId ?? null, check?.version ?? null, check?.orderTag ?? null],
  );
  return rows[0].written;
}

async function findEvent(q, program, id) {
  const { rows } = await q.query('SELECT customer, result FROM events WHERE program = $1 AND event_id = $2', [program, id]);
  return rows[0] ?? null;
}

/**
 * @param {{query: Function, transaction: Function}} db
 * @param {{close?: () => Promise<void>, pipeline?: boolean}} [options]
 */
export function createSqlStore(db, { close, pipeline = false } = {}) {
  return {
    db,
    migrate: () => migrate(db),
    transaction: (fn) => db.transaction((tx) => fn(txOps(tx))),

    /**
     * The optimistic path's read, without locks or a transaction, in one round trip: the
     * event's stored outcome, the customer's account {state, version} (null if none) and
     * the order record with its row's tag (xmin) for `recordIfUnchanged` to check.
     */
    async peek(program, id, orderId, customer) {
      const { rows } = await db.query(
        `SELECT (SELECT row_to_json(e) FROM (SELECT customer, result FROM events WHERE program = $1 AND event_id = $2) e) AS found,
                o.customer AS order_customer, o.record::text AS record, o.xmin::text AS tag,
                a.state::text AS state, a.version
           FROM (SELECT 1) AS one
           LEFT JOIN orders o ON o.program = $1 AND o.order_id = $3
           LEFT JOIN accounts a ON a.program = $1 AND a.customer = $4`,
        [program, id, orderId, customer],
      );
      // State and record stay JSON text: the engine takes text, so neither is parsed here
      // nor stringified again for it.
      const r = rows[0];
      return {
        found: r.found ?? null,
        order: r.record == null ? null : { customer: r.order_customer, record: r.record, tag: r.tag },
        account: r.version == null ? null : { state: r.state, version: int(r.version) },
      };
    },

    /** `record` in its own transaction, if the account and order are still as `peek` read them. */
    recordIfUnchanged: (program, written, check) => writeRecord(db, program, written, check),

    /**
     * Bulk import (see chunk.js). `lockedChunk`: one transaction that reads the chunk's rows
     * under lock, runs `fn` (which applies the events through the chunk's operations) and
     * writes what they recorded. `openChunk`: the same reads without locks, outside any
     * transaction, so the engine can apply a chunk while the previous one is written;
     * `commit` then writes it in one transaction if nothing it read has changed (else 40001).
     * `pipeline`: whether that overlap gains anything (a pool: the reads and the write run
     * on other connections while this thread applies events; PGlite runs on this thread).
     */
    pipeline,
    lockedChunk: (program, events, fn) =>
      db.transaction(async (q) => {
        const c = await openChunk(q, program, events, { locked: true, claim: pipeline });
        const out = await fn(c.tx);
        await c.write(q);
        return out;
      }),
    async openChunk(program, events, { carry, settled } = {}) {
      const c = await openChunk(db, program, events, { carry, settled });
      return { tx: c.tx, carry: c.carry, commit: () => db.transaction((q) => c.write(q)) };
    },

    event: (program, id) => findEvent(db, program, id),

    /** The stored engine state, or null. */
    async account(program, customer) {
      const { rows } = await db.query('SELECT state FROM accounts WHERE program = $1 AND customer = $2', [program, customer]);
      return rows[0]?.state ?? null;
    },

    /** Entries newest first; `cursor` is the opaque `next` of the previous page. */
    async history(program, customer, { cursor = null, limit = 50 } = {}) {
      const { rows } = await db.query(
        `SELECT seq, data FROM entries
          WHERE program = $1 AND customer = $2 AND ($3::bigint IS NULL OR seq < $3::bigint)
          ORDER BY seq DESC LIMIT $4`,
        [program, customer, cursor, limit + 1],
      );
      const page = rows.slice(0, limit);
      const next = rows.length > limit ? String(page[page.length - 1].seq) : null;
      return { entries: page.map((r) => r.data), next };
    },

    /** Customers due by `now`, by the (program, next_due) index, after a keyset cursor. */
    async due(program, now, { after = null, limit = 100 } = {}) {
      const { rows } = await db.query(
        `SELECT customer, next_due FROM accounts
          WHERE program = $1 AND next_due <= $2
            AND ($3::timestamptz IS NULL OR (next_due, customer) > ($3::timestamptz, $4::text))
          ORDER BY next_due, customer LIMIT $5`,
        [program, now, after?.next_due ?? null, after?.customer ?? null, limit],
      );
      return rows.map((r) => ({ customer: r.customer, next_due: iso(r.next_due) }));
    },

    /** Raw events in the order they were applied: {seq, body}. */
    async events(program, { after = 0, limit = 5000 } = {}) {
      const { rows } = await db.query(
        'SELECT seq, body FROM events WHERE program = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [program, after, limit],
      );
      return rows.map((r) => ({ seq: int(r.seq), body: r.body }));
    },

    /** Stored accounts by customer: {customer, state, balance, version}. */
    async accounts(program, { after = '', limit = 5000 } = {}) {
      const { rows } = await db.query(
        `SELECT customer, state, balance, version FROM accounts
          WHERE program = $1 AND customer > $2 ORDER BY customer LIMIT $3`,
        [program, after, limit],
      );
      return rows.map((r) => ({ customer: r.customer, state: r.state, balance: int(r.balance), version: int(r.version) }));
    },

    /** Points donated per charity (from the `donate` ledger entries): [{charity, points, donations}]. */
    async donations(program) {
      const { rows } = await db.query(
        `SELECT data->>'charity' AS charity, -sum(points) AS points, count(*) AS donations FROM entries
          WHERE program = $1 AND type = 'donate' GROUP BY 1 ORDER BY 1`,
        [program],
      );
      return rows.map((r) => ({ charity: r.charity, points: int(r.points), donations: int(r.donations) }));
    },

    /** A coupon by code: {code, customer, reward, status, order_id, ...data}, or null. */
    async coupon(program, code) {
      const { rows } = await db.query('SELECT customer, reward, status, order_id, data FROM coupons WHERE program = $1 AND code = $2', [program, code]);
      const r = rows[0];
      return r ? { ...r.data, code, customer: r.customer, reward: r.reward, status: r.status, order_id: r.order_id ?? null } : null;
    },

    /** Compliance (data request): every row stored about one customer, oldest first. */
    async customerData(program, customer) {
      const all = (sql) => db.query(sql, [program, customer]).then((r) => r.rows);
      const [account] = await all(
        `SELECT state, balance, pending, tier, next_due, version, updated_at FROM accounts WHERE program = $1 AND customer = $2`);
      const entries = await all('SELECT data FROM entries WHERE program = $1 AND customer = $2 ORDER BY seq');
      const coupons = await all('SELECT code, reward, status, order_id, data, updated_at FROM coupons WHERE program = $1 AND customer = $2 ORDER BY code');
      const orders = await all('SELECT order_id, record, updated_at FROM orders WHERE program = $1 AND customer = $2 ORDER BY order_id');
      const events = await all('SELECT event_id, type, at, body, result, created_at FROM events WHERE program = $1 AND customer = $2 ORDER BY seq');
      const outbox = await all('SELECT key, type, effect, created_at, delivered_at FROM outbox WHERE program = $1 AND customer = $2 ORDER BY id');
      const contact = (await all('SELECT email, phone, name, locale, opt_out FROM notify_contacts WHERE program = $1 AND customer = $2'))[0] ?? null;
      const devices = await all('SELECT endpoint, created_at FROM push_subscriptions WHERE program = $1 AND customer = $2 ORDER BY created_at');
      const apps = await all('SELECT platform, token, locale, app, created_at FROM push_devices WHERE program = $1 AND customer = $2 ORDER BY created_at');
      return {
        state: account?.state ?? null,
        entries: entries.map((r) => r.data),
        coupons: coupons.map((r) => ({ ...r.data, code: r.code, reward: r.reward, status: r.status, order_id: r.order_id ?? null, updated_at: iso(r.updated_at) })),
        orders: orders.map((r) => ({ id: r.order_id, record: r.record, updated_at: iso(r.updated_at) })),
        events: events.map((r) => ({ id: r.event_id, type: r.type, at: iso(r.at), body: r.body, result: r.result, received_at: iso(r.created_at) })),
        notifications: outbox.map((r) => ({ key: r.key, type: r.type, effect: r.effect, created_at: iso(r.created_at), delivered_at: iso(r.delivered_at) })),
        contact,
        push_subscriptions: devices.map((r) => ({ endpoint: r.endpoint, created_at: iso(r.created_at) })),
        push_devices: apps.map((r) => ({ platform: r.platform, token: r.token, locale: r.locale ?? null, app: r.app ?? null, created_at: iso(r.created_at) })),
      };
    },

    /** Compliance (shop redact): deletes every row of a program; returns counts per table. */
    eraseProgram: (program) =>
      db.transaction(async (tx) => {
        const deleted = {};
        for (const table of ['events', 'entries', 'outbox', 'coupons', 'orders', 'accounts', 'notify_contacts', 'push_subscriptions', 'push_devices', 'notify_templates', 'parked_events', 'webhook_deliveries', 'data_exports']) {
          const { rows } = await tx.query(`WITH d AS (DELETE FROM ${table} WHERE program = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`, [program]);
          deleted[table] = int(rows[0].n);
        }
        return deleted;
      }),

    /** Counts for invariant checks: events and entries stored, and the sum of points. */
    async audit(program, customer) {
      const { rows } = await db.query(
        `SELECT (SELECT count(*) FROM events WHERE program = $1 AND customer = $2) AS events,
                count(*) AS entries, COALESCE(sum(points), 0) AS points
           FROM entries WHERE program = $1 AND customer = $2`,
        [program, customer],
      );
      return { events: int(rows[0].events), entries: int(rows[0].entries), points: int(rows[0].points) };
    },

    /** Parked events, oldest first: of one order, or all (with their metadata). */
    async parked(program, { orderId = null, withMeta = false } = {}) {
      const { rows } = await db.query(
        `SELECT body, order_id, parked_at FROM parked_events
          WHERE program = $1 AND ($2::text IS NULL OR order_id = $2) ORDER BY seq LIMIT 1000`,
        [program, orderId],
      );
      return rows.map((r) => (withMeta ? { event: r.body, order_id: r.order_id, parked_at: iso(r.parked_at) } : r.body));
    },
    unpark: (program, eventId) => db.query('DELETE FROM parked_events WHERE program = $1 AND event_id = $2', [program, eventId]),
    /** Orders with parked events that are in the ledger now. */
    async parkedReady(program) {
      const { rows } = await db.query(
        `SELECT DISTINCT p.order_id FROM parked_events p JOIN orders o ON o.program = p.program AND o.order_id = p.order_id
          WHERE p.program = $1`,
        [program],
      );
      return rows.map((r) => r.order_id);
    },

    close: async () => close?.(),
  };
}
