// A chunk of events for bulk import. It offers the transaction operations loyalty.js
// applies an event with (findEvent, lockOrder, findOrder, lockAccount, rewardStock,
// record), served from memory: `openChunk` reads every row the chunk names in a few
// statements; each event's writes are kept in memory, so later events in the chunk see
// them; `write` stores them all with one multi-row statement per table. Anything the
// preload did not cover (a referrer named by a derived event) is read on demand.
//
// Two modes:
// - locked: the reads take the locks a webhook takes, inside the transaction that writes
//   (orders, advisory, before accounts, row locks, each set in sorted order), so a live
//   webhook for the same customer waits for the chunk or the chunk for it, and two
//   importers cannot deadlock.
// - optimistic (for pipelining, PostgreSQL): the reads take no lock, so the engine can
//   apply this chunk while the previous one is still being written; `carry` (what that
//   chunk will have stored) stands in for the rows it has not committed yet. `write` then
//   takes the same locks in the same order and checks that nothing it read has changed
//   (account versions, order owners, reward stock); if anything has, it throws a
//   serialization failure (40001) and the caller applies the chunk again, locked.
import { orderIdOf } from '../engine.js';
import { rewardStock } from './sql.js';
import { int, iso, couponStatus, outboxKey, orderLockSql } from './values.js';

const strings = (values) => [...new Set(values.filter((v) => typeof v === 'string'))].sort();
const conflict = (what) => Object.assign(new Error(`import chunk: ${what} changed while the chunk was applied`), { code: '40001' });

const lockOrderIds = (q, program, ids) =>
  q.query(
    `SELECT count(${orderLockSql('$1', 'o')})
       FROM (SELECT o FROM unnest($2::text[]) AS o ORDER BY o) s`,
    [program, ids],
  );

/**
 * @param {{query: Function}} q the transaction's query function (locked) or the pool's (optimistic)
 * @param {string} program
 * @param {object[]} events the chunk, in order
 * @param {{locked?: boolean, claim?: boolean, carry?: object|null, settled?: Promise|null}} [options]
 *   `claim` (locked, on a store other connections write to): the chunk's new customers get
 *   their account rows at read time, so no live webhook creates one first (PGlite, one
 *   connection, needs none of it); `carry`: the previous chunk's `carry`, while it is being
 *   written; `settled`: resolves once it is.
 */
export async function openChunk(q, program, events, { locked = false, claim = false, carry = null, settled = null } = {}) {
  const seen = new Map(); // event id -> {customer, result}: stored before, or recorded here
  // States and order records read from the database stay JSON text: the engine takes
  // text, so they are neither parsed here nor serialized again for it.
  const orders = new Map(); // order id -> {customer, record} | null
  const accounts = new Map(); // customer -> {state, version} | null (no row)
  // What the chunk was computed from, checked by an optimistic write.
  const owners = new Map(); // order id -> customer | null
  const versions = new Map(); // customer -> version | null
  const created = new Set(); // claim: account rows this chunk created empty
  const stored = new Map(); // stock-limited reward -> coupons counted before this chunk
  const issued = new Map(); // reward -> this chunk's coupons issued less cancelled
  const w = { events: [], entries: [], outbox: [], orders: new Map(), accounts: new Map(), couponsNew: new Map(), couponsSet: new Map() };

  async function loadOrders(ids) {
    const fresh = ids.filter((id) => !orders.has(id));
    for (const id of fresh) {
      const o = carry?.orders.get(id);
      if (o) orders.set(id, o);
    }
    const rest = fresh.filter((id) => !orders.has(id));
    if (locked && rest.length) await lockOrderIds(q, program, rest);
    const { rows } = rest.length ? await q.query('SELECT order_id, customer, record::text AS record FROM orders WHERE program = $1 AND order_id = ANY($2::text[])', [program, rest]) : { rows: [] };
    for (const id of rest) orders.set(id, null);
    for (const r of rows) orders.set(r.order_id, { customer: r.customer, record: r.record });
    for (const id of fresh) owners.set(id, orders.get(id)?.customer ?? null);
  }

  async function loadAccounts(customers) {
    const fresh = customers.filter((c) => !accounts.has(c));
    for (const c of fresh) {
      const a = carry?.accounts.get(c);
      if (a) accounts.set(c, a);
    }
    const rest = fresh.filter((c) => !accounts.has(c));
    if (claim && rest.length) {
      // A live webhook could create a missing account between this read and the write, and
      // the chunk's insert would fail (23505); under steady live traffic every retry can
      // meet a new one. So the missing rows are created here, empty (state NULL, as
      // lockAccount creates one), and locked with the rest; the write updates them and
      // removes those it wrote no state for.
      const { rows } = await q.query(
        'INSERT INTO accounts (program, customer) SELECT $1, c FROM unnest($2::text[]) AS c ORDER BY c ON CONFLICT DO NOTHING RETURNING customer',
        [program, rest],
      );
      for (const r of rows) created.add(r.customer);
    }
    const sql = `SELECT customer, state::text AS state, version FROM accounts WHERE program = $1 AND customer = ANY($2::text[]) ORDER BY customer${locked ? ' FOR UPDATE' : ''}`;
    const { rows } = rest.length ? await q.query(sql, [program, rest]) : { rows: [] };
    for (const c of rest) accounts.set(c, null);
    for (const r of rows) accounts.set(r.customer, { state: r.state, version: int(r.version) });
    for (const c of fresh) versions.set(c, accounts.get(c)?.version ?? null);
  }

  async function loadEvents(ids) {
    const rest = ids.filter((id) => !seen.has(id) && !carry?.events.has(id));
    for (const id of ids) if (carry?.events.has(id)) seen.set(id, carry.events.get(id));
    if (rest.length === 0) return;
    // An import only counts its duplicates: their stored results are not read back.
    const { rows } = await q.query('SELECT event_id, customer FROM events WHERE program = $1 AND event_id = ANY($2::text[])', [program, rest]);
    for (const r of rows) seen.set(r.event_id, { customer: r.customer, result: null });
  }

  await loadOrders(strings(events.map(orderIdOf)));
  await loadAccounts(strings([...events.map((e) => e?.customer), ...[...orders.values()].map((o) => o?.customer)]));
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
      if (!known.has(id)) {
        await loadEvents([id]);
        known.add(id);
      }
      return seen.get(id) ?? null;
    },
    async lockOrder(_program, orderId) {
      await loadOrders([orderId]);
    },
    async findOrder(_program, orderId) {
      await loadOrders([orderId]);
      return orders.get(orderId);
    },
    async lockAccount(_program, customer) {
      await loadAccounts([customer]);
      return accounts.get(customer) ?? { state: null, version: 0 };
    },
    async rewardStock(_program, reward) {
      if (!stored.has(reward)) {
        await settled; // the previous chunk's coupons count
        stored.set(reward, await rewardStock(q, program, reward));
      }
      return stored.get(reward) + (issued.get(reward) ?? 0);
    },
    async record(_program, { event, customer, result, state, order, entries = [], effects = [] }) {
      if (seen.has(event.id)) throw Object.assign(new Error(`event ${event.id} is recorded twice in one chunk`), { code: '23505' });
      seen.set(event.id, { customer, result });
      w.events.push({ id: event.id, customer, type: event.type, at: event.at, body: event, result });
      if (!customer) return;
      for (const e of entries) w.entries.push({ customer, event: event.id, e });
      effects.forEach((f, i) => {
        w.outbox.push({ key: outboxKey(event, f, i), event: event.id, customer: f.customer ?? customer, f });
        const status = couponStatus(f);
        if (f.type === 'coupon.issued') {
          if (w.couponsNew.has(f.coupon.code)) throw Object.assign(new Error(`coupon ${f.coupon.code} is issued twice`), { code: '23505' });
          w.couponsNew.set(f.coupon.code, { customer: f.customer, reward: f.reward, status, order_id: null, data: f.coupon });
        } else if (status) {
          setCoupon(f.code, status, f.order_id ?? null);
        }
        const delta = f.type === 'coupon.issued' ? 1 : f.type === 'coupon.cancelled' ? -1 : 0;
        if (delta) issued.set(f.reward, (issued.get(f.reward) ?? 0) + delta);
      });
      if (order) {
        const o = { customer: order.customer, record: order };
        orders.set(order.id, o);
        w.orders.set(order.id, o);
      }
      if (state) {
        const next = { state, version: (accounts.get(customer)?.version ?? 0) + 1 };
        accounts.set(customer, next);
        w.accounts.set(customer, next);
      }
    },
  };

  /** Optimistic only: takes the locks and throws 40001 if anything read has changed since. */
  async function verify(t) {
    const ids = [...owners.keys()].sort();
    if (ids.length) {
      await lockOrderIds(t, program, ids);
      // A separate statement: its snapshot is taken after the locks are held.
      const { rows } = await t.query('SELECT order_id, customer FROM orders WHERE program = $1 AND order_id = ANY($2::text[])', [program, ids]);
      const now = new Map(rows.map((r) => [r.order_id, r.customer]));
      for (const id of ids) if ((now.get(id) ?? null) !== owners.get(id)) throw conflict(`order ${id}`);
    }
    const customers = [...versions.keys()].sort();
    if (customers.length) {
      const { rows } = await t.query(
        'SELECT customer, version FROM accounts WHERE program = $1 AND customer = ANY($2::text[]) ORDER BY customer FOR UPDATE',
        [program, customers],
      );
      const now = new Map(rows.map((r) => [r.customer, int(r.version)]));
      for (const c of customers) if ((now.get(c) ?? null) !== versions.get(c)) throw conflict(`account ${c}`);
    }
    for (const [reward, n] of stored) if ((await rewardStock(t, program, reward)) !== n) throw conflict(`stock of ${reward}`);
  }

  /**
   * Writes everything the chunk recorded; the caller's transaction commits it. Each table
   * gets one statement whose rows arrive as one JSON array (one parameter, parsed once by
   * the server: far cheaper than the driver's escaping of a text array per column).
   */
  async function write(t) {
    if (w.events.length === 0) return dropEmpty(t); // all duplicates: nothing to lock or write
    if (!locked) await verify(t);
    const rows = (sql, list) => (list.length ? t.query(sql, [program, JSON.stringify(list)]) : null);
    const each = (cols) => `FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS u(x, n) ${cols}`;
    const account = ([customer, a]) => ({ customer, state: a.state, version: a.version, next_due: iso(a.state.next_due) });
    const written = [...w.accounts].sort(([a], [b]) => (a < b ? -1 : 1));
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
      [...w.orders.values()].map((o) => o.record),
    );
    // New accounts are inserted whole (a concurrent creator makes this fail on the primary
    // key, 23505, and the chunk is applied again, claiming them); existing ones are updated.
    await rows(
      `INSERT INTO accounts (program, customer, state, balance, pending, tier, next_due, version)
       SELECT $1, x->>'customer', x->'state', (x->'state'->>'balance')::bigint, (x->'state'->>'pending')::bigint,
              x->'state'->>'tier', (x->>'next_due')::timestamptz, (x->>'version')::bigint ${each('ORDER BY n')}`,
      written.filter(([c]) => versions.get(c) == null).map(account),
    );
    await rows(
      `UPDATE accounts a SET state = x->'state', balance = (x->'state'->>'balance')::bigint, pending = (x->'state'->>'pending')::bigint,
              tier = x->'state'->>'tier', next_due = (x->>'next_due')::timestamptz, version = (x->>'version')::bigint, updated_at = now()
         ${each("WHERE a.program = $1 AND a.customer = x->>'customer'")}`,
      written.filter(([c]) => versions.get(c) != null).map(account),
    );
    await dropEmpty(t);
  }

  // The rows created empty (claim, see loadAccounts) that got no state: removed again.
  async function dropEmpty(t) {
    const empty = [...created].filter((c) => !w.accounts.has(c));
    if (empty.length) await t.query('DELETE FROM accounts WHERE program = $1 AND customer = ANY($2::text[]) AND state IS NULL', [program, empty]);
  }

  // What the next chunk may take instead of reading rows this one has not committed yet.
  const next = () => ({ accounts: w.accounts, orders: w.orders, events: new Map(w.events.map((e) => [e.id, { customer: e.customer, result: e.result }])) });

  return { tx, write, carry: next };
}
