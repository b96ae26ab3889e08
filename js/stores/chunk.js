// A chunk of events in one SQL transaction, for bulk import. It offers the transaction
// operations loyalty.js applies an event with (findEvent, lockOrder, findOrder,
// lockAccount, record), served from memory: `open` takes every lock and reads every row
// the chunk names in a few statements; each event's writes are kept in memory, so later
// events in the chunk see them; `flush` writes them all with one multi-row statement per
// table. Anything the preload did not cover (a referrer named by a
// derived event) is read and locked on demand, as the one-event path does.
//
// Locks are taken as a webhook takes them, orders (advisory) before accounts (row locks),
// each set in sorted order, so a live webhook for the same customer or order waits for
// the chunk to commit (or the chunk for it) and two importers cannot deadlock.
import { orderIdOf } from '../engine.js';
import { COUPON_STATUS, rewardStock } from './sql.js';

const int = (v) => (v == null ? v : Number(v));
const iso = (ms) => (ms == null ? null : new Date(ms).toISOString());
const strings = (values) => [...new Set(values.filter((v) => typeof v === 'string'))].sort();

/**
 * @param {{query: Function}} q a transaction's query function
 * @param {string} program
 * @param {object[]} events the chunk, in order
 */
export async function openChunk(q, program, events) {
  const seen = new Map(); // event id -> {customer, result}: stored before, or recorded here
  const orders = new Map(); // order id -> {customer, record} | null
  const accounts = new Map(); // customer -> {state, version}
  const created = new Set(); // customers whose row this chunk inserted (state NULL until flush)
  const w = { events: [], entries: [], outbox: [], orders: new Map(), accounts: new Map(), couponsNew: new Map(), couponsSet: new Map() };
  // Stock-limited rewards: the stored count (read once, under its lock) and this chunk's
  // coupons issued less cancelled, per reward.
  const stored = new Map();
  const issued = new Map();

  async function lockOrders(ids) {
    if (ids.length === 0) return;
    await q.query(
      `SELECT count(pg_advisory_xact_lock(hashtextextended($1 || '/' || o, 0)))
         FROM (SELECT o FROM unnest($2::text[]) AS o ORDER BY o) s`,
      [program, ids],
    );
    const { rows } = await q.query('SELECT order_id, customer, record FROM orders WHERE program = $1 AND order_id = ANY($2::text[])', [program, ids]);
    for (const id of ids) orders.set(id, null);
    for (const r of rows) orders.set(r.order_id, { customer: r.customer, record: r.record });
  }

  async function lockAccounts(customers) {
    const fresh = customers.filter((c) => !accounts.has(c));
    if (fresh.length === 0) return;
    // Rows for new customers first (a concurrent creator makes this wait for its commit),
    // then every row locked in customer order.
    const { rows: made } = await q.query(
      `INSERT INTO accounts (program, customer) SELECT $1, c FROM unnest($2::text[]) AS c ORDER BY c
       ON CONFLICT DO NOTHING RETURNING customer`,
      [program, fresh],
    );
    for (const r of made) created.add(r.customer);
    const { rows } = await q.query(
      'SELECT customer, state, version FROM accounts WHERE program = $1 AND customer = ANY($2::text[]) ORDER BY customer FOR UPDATE',
      [program, fresh],
    );
    for (const r of rows) accounts.set(r.customer, { state: r.state, version: int(r.version) });
  }

  async function loadEvents(ids) {
    if (ids.length === 0) return;
    const { rows } = await q.query('SELECT event_id, customer, result FROM events WHERE program = $1 AND event_id = ANY($2::text[])', [program, ids]);
    for (const r of rows) seen.set(r.event_id, { customer: r.customer, result: r.result });
  }

  await lockOrders(strings(events.map(orderIdOf)));
  const owners = [...orders.values()].filter(Boolean).map((o) => o.customer);
  await lockAccounts(strings([...events.map((e) => e?.customer), ...owners]));
  const ids = strings(events.map((e) => e?.id));
  await loadEvents(ids);
  const known = new Set(ids); // ids looked up: a miss is not asked again

  function setCoupon(code, status, orderId) {
    const pending = w.couponsNew.get(code);
    if (pending) {
      pending.status = status;
      pending.order_id = orderId ?? pending.order_id;
      return;
    }
    const prev = w.couponsSet.get(code);
    w.couponsSet.set(code, { status, order_id: orderId ?? prev?.order_id ?? null });
  }

  const tx = {
    async findEvent(_program, id) {
      if (!seen.has(id) && !known.has(id)) {
        await loadEvents([id]);
        known.add(id);
      }
      return seen.get(id) ?? null;
    },
    async lockOrder(_program, orderId) {
      if (!orders.has(orderId)) await lockOrders([orderId]);
    },
    async rewardStock(_program, reward) {
      if (!stored.has(reward)) stored.set(reward, await rewardStock(q, program, reward));
      return stored.get(reward) + (issued.get(reward) ?? 0);
    },
    async findOrder(_program, orderId) {
      if (!orders.has(orderId)) await lockOrders([orderId]);
      return orders.get(orderId);
    },
    async lockAccount(_program, customer) {
      if (!accounts.has(customer)) await lockAccounts([customer]);
      return accounts.get(customer);
    },
    async record(_program, { event, customer, result, state, order, entries = [], effects = [] }) {
      if (seen.has(event.id)) throw Object.assign(new Error(`event ${event.id} is recorded twice in one chunk`), { code: '23505' });
      seen.set(event.id, { customer, result });
      w.events.push({ id: event.id, customer, type: event.type, at: event.at, body: event, result });
      if (!customer) return;
      for (const e of entries) w.entries.push({ customer, event: event.id, e });
      effects.forEach((f, i) => {
        w.outbox.push({ key: f.key ?? `${event.id}:${i}`, event: event.id, customer: f.customer ?? customer, f });
        if (f.type === 'coupon.issued') {
          if (w.couponsNew.has(f.coupon.code)) throw Object.assign(new Error(`coupon ${f.coupon.code} is issued twice`), { code: '23505' });
          w.couponsNew.set(f.coupon.code, { customer: f.customer, reward: f.reward, status: f.coupon.status ?? 'issued', order_id: null, data: f.coupon });
        } else if (COUPON_STATUS[f.type]) {
          setCoupon(f.code, COUPON_STATUS[f.type], f.order_id ?? null);
        }
        const delta = f.type === 'coupon.issued' ? 1 : f.type === 'coupon.cancelled' ? -1 : 0;
        if (delta) issued.set(f.reward, (issued.get(f.reward) ?? 0) + delta);
      });
      if (order) {
        orders.set(order.id, { customer: order.customer, record: order });
        w.orders.set(order.id, order);
      }
      if (state) {
        const next = { state, version: accounts.get(customer).version + 1 };
        accounts.set(customer, next);
        w.accounts.set(customer, next);
      }
    },
  };

  /**
   * Writes everything the chunk recorded; the caller's transaction commits it. Each table
   * gets one statement whose rows arrive as one JSON array (one parameter, parsed once by
   * the server: far cheaper than the driver's escaping of a text array per column).
   */
  async function flush() {
    const rows = (sql, list) => (list.length ? q.query(sql, [program, JSON.stringify(list)]) : null);
    const each = (cols) => `FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS u(x, n) ${cols}`;
    await rows(
      `INSERT INTO events (program, event_id, customer, type, at, body, result)
       SELECT $1, x->>'id', x->>'customer', x->>'type', (x->>'at')::timestamptz, x->'body', x->'result' ${each('ORDER BY n')}`,
      w.events,
    );
    await rows(
      `INSERT INTO entries (program, id, customer, event_id, type, points, balance_after, at, data)
       SELECT $1, x->'e'->>'id', x->>'customer', x->>'event', x->'e'->>'type', (x->'e'->>'points')::bigint,
              (x->'e'->>'balance_after')::bigint, (x->'e'->>'at')::timestamptz, x->'e' ${each('ORDER BY n')}`,
      w.entries,
    );
    await rows(
      `INSERT INTO outbox (program, key, event_id, customer, type, effect)
       SELECT $1, x->>'key', x->>'event', x->>'customer', x->'f'->>'type', x->'f' ${each('ORDER BY n')}`,
      w.outbox,
    );
    await rows(
      `INSERT INTO coupons (program, code, customer, reward, status, order_id, data)
       SELECT $1, x->>'code', x->>'customer', x->>'reward', x->>'status', x->>'order_id', x->'data' ${each('')}`,
      [...w.couponsNew].map(([code, c]) => ({ code, ...c })),
    );
    await rows(
      `UPDATE coupons c SET status = x->>'status', order_id = COALESCE(x->>'order_id', c.order_id), updated_at = now()
         ${each("WHERE c.program = $1 AND c.code = x->>'code'")}`,
      [...w.couponsSet].map(([code, c]) => ({ code, ...c })),
    );
    await rows(
      `INSERT INTO orders (program, order_id, customer, record)
       SELECT $1, x->>'id', x->>'customer', x ${each('')}
       ON CONFLICT (program, order_id) DO UPDATE SET customer = EXCLUDED.customer, record = EXCLUDED.record, updated_at = now()`,
      [...w.orders.values()],
    );
    await rows(
      `UPDATE accounts a SET state = x->'state', balance = (x->'state'->>'balance')::bigint, pending = (x->'state'->>'pending')::bigint,
              tier = x->'state'->>'tier', next_due = (x->>'next_due')::timestamptz, version = (x->>'version')::bigint, updated_at = now()
         ${each("WHERE a.program = $1 AND a.customer = x->>'customer'")}`,
      [...w.accounts].map(([customer, a]) => ({ customer, state: a.state, version: a.version, next_due: iso(a.state.next_due) })),
    );
    // Rows made for customers whose events all failed or were duplicates: as a rollback would.
    const unused = [...created].filter((c) => !w.accounts.has(c));
    if (unused.length) await q.query('DELETE FROM accounts WHERE program = $1 AND customer = ANY($2::text[]) AND state IS NULL', [program, unused]);
  }

  return { tx, flush };
}
