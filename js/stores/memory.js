// An in-memory store with the SQL store's interface, for unit tests only: nothing
// survives the process. Transactions run one at a time and their writes are staged, so
// a throw leaves nothing behind, as a rollback would.
import { couponStatus, outboxKey, iso } from './values.js';

const key = (program, id) => `${program}\u0000${id}`;
const clone = (v) => (v == null ? v : structuredClone(v));

function duplicate(what) {
  const err = new Error(`duplicate key value violates unique constraint "${what}"`);
  err.code = '23505';
  return err;
}

export function openMemoryStore() {
  const accounts = new Map(); // key -> {program, customer, state, version}
  const events = new Map(); // key -> {seq, customer, body, result}
  const entries = []; // {seq, program, customer, id, data}
  const entryIds = new Set();
  const orders = new Map(); // key -> {customer, record}
  const coupons = new Map(); // key -> {customer, status, order_id, data}
  const outbox = [];
  const parkedEvents = new Map(); // key -> {seq, order_id, body, parked_at}
  let seq = 0;
  let tail = Promise.resolve();

  const findEvent = async (program, id) => {
    const e = events.get(key(program, id));
    return e ? { customer: e.customer, result: clone(e.result) } : null;
  };

  function txOps(staged, undo) {
    return {
      findEvent,
      lockOrder: async () => {},
      async park(program, orderId, event) {
        const k = key(program, event.id);
        if (!parkedEvents.has(k)) staged.push(() => parkedEvents.set(k, { program, seq: ++seq, order_id: orderId, body: clone(event), parked_at: new Date().toISOString() }));
      },
      rewardStock: async (program, reward) => [...coupons.values()].filter((c) => c.program === program && c.reward === reward && c.status !== 'cancelled').length,
      findOrder: async (program, orderId) => clone(orders.get(key(program, orderId)) ?? null),
      async lockAccount(program, customer) {
        const a = accounts.get(key(program, customer));
        return a ? { state: clone(a.state), version: a.version } : { state: null, version: 0 };
      },
      async lockDue(program, customer, now) {
        const a = accounts.get(key(program, customer));
        const due = a?.state?.next_due != null && a.state.next_due <= Date.parse(now);
        return due ? { state: clone(a.state), version: a.version } : null;
      },
      // Deletes at once (redact re-inserts the same event ids in this transaction); `undo`
      // puts everything back if the transaction throws.
      async eraseCustomer(program, customer) {
        const mine = (m) => [...m.entries()].filter(([k, v]) => k.startsWith(key(program, '')) && v.customer === customer);
        const evs = mine(events).sort((a, b) => a[1].seq - b[1].seq);
        const removed = { evs, orders: mine(orders), coupons: mine(coupons), account: accounts.get(key(program, customer)) };
        const keepEntries = entries.filter((e) => !(e.program === program && e.customer === customer));
        const keepOutbox = outbox.filter((o) => !(o.program === program && o.customer === customer));
        const oldEntries = entries.splice(0, entries.length, ...keepEntries);
        const oldOutbox = outbox.splice(0, outbox.length, ...keepOutbox);
        for (const [k] of evs) events.delete(k);
        for (const [k] of removed.orders) orders.delete(k);
        for (const [k] of removed.coupons) coupons.delete(k);
        accounts.delete(key(program, customer));
        undo.push(() => {
          for (const [k, v] of evs) events.set(k, v);
          for (const [k, v] of removed.orders) orders.set(k, v);
          for (const [k, v] of removed.coupons) coupons.set(k, v);
          if (removed.account) accounts.set(key(program, customer), removed.account);
          entries.splice(0, entries.length, ...oldEntries);
          outbox.splice(0, outbox.length, ...oldOutbox);
          for (const e of oldEntries) if (e.program === program && e.customer === customer) entryIds.add(key(program, e.id));
        });
        for (const e of oldEntries) if (e.program === program && e.customer === customer) entryIds.delete(key(program, e.id));
        return evs.map(([, e]) => clone(e.body));
      },
      async record(program, { event, customer, result, state, order, entries: es = [], effects = [] }) {
        if (events.has(key(program, event.id))) throw duplicate('events_pkey');
        for (const e of es) if (entryIds.has(key(program, e.id))) throw duplicate('entries_pkey');
        const copy = clone({ event, result, state, order, es, effects });
        staged.push(() => {
          events.set(key(program, event.id), { seq: ++seq, customer, body: copy.event, result: copy.result });
          if (!customer) return;
          for (const e of copy.es) {
            entryIds.add(key(program, e.id));
            entries.push({ seq: ++seq, program, customer, id: e.id, data: e });
          }
          for (const [i, f] of copy.effects.entries()) {
            outbox.push({ program, customer: f.customer ?? customer, key: outboxKey(event, f, i), effect: f });
            const status = couponStatus(f);
            if (f.type === 'coupon.issued') {
              coupons.set(key(program, f.coupon.code), { program, customer: f.customer, reward: f.reward, status, data: f.coupon });
            } else if (status) {
              const c = coupons.get(key(program, f.code));
              if (c) Object.assign(c, { status, order_id: f.order_id ?? c.order_id });
            }
          }
          if (copy.order) orders.set(key(program, copy.order.id), { customer: copy.order.customer, record: copy.order });
          if (copy.state) {
            const a = accounts.get(key(program, customer));
            accounts.set(key(program, customer), { program, customer, state: copy.state, version: (a?.version ?? 0) + 1 });
          }
        });
      },
    };
  }

  const mine = (program) => [...accounts.values()].filter((a) => a.program === program);

  return {
    db: null,
    migrate: async () => [],
    transaction(fn) {
      const run = tail.then(async () => {
        const staged = [];
        const undo = [];
        try {
          const out = await fn(txOps(staged, undo));
          for (const write of staged) write();
          return out;
        } catch (err) {
          for (const u of undo.reverse()) u();
          throw err;
        }
      });
      tail = run.catch(() => {});
      return run;
    },
    event: findEvent,
    async parked(program, { orderId = null, withMeta = false } = {}) {
      return [...parkedEvents.values()]
        .filter((p) => p.program === program && (orderId == null || p.order_id === orderId))
        .sort((a, b) => a.seq - b.seq)
        .map((p) => (withMeta ? { event: clone(p.body), order_id: p.order_id, parked_at: p.parked_at } : clone(p.body)));
    },
    unpark: async (program, eventId) => { parkedEvents.delete(key(program, eventId)); },
    parkedReady: async (program) => [...new Set([...parkedEvents.values()].filter((p) => p.program === program && orders.has(key(program, p.order_id))).map((p) => p.order_id))],
    account: async (program, customer) => clone(accounts.get(key(program, customer))?.state ?? null),
    async history(program, customer, { cursor = null, limit = 50 } = {}) {
      const rows = entries
        .filter((e) => e.program === program && e.customer === customer && (cursor == null || e.seq < Number(cursor)))
        .reverse();
      const page = rows.slice(0, limit);
      return { entries: clone(page.map((r) => r.data)), next: rows.length > limit ? String(page[page.length - 1].seq) : null };
    },
    async due(program, now, { after = null, limit = 100 } = {}) {
      const t = Date.parse(now);
      const cmp = (a, b) => a.state.next_due - b.state.next_due || (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : 0);
      const cursor = after && { state: { next_due: Date.parse(after.next_due) }, customer: after.customer };
      return mine(program)
        .filter((a) => a.state?.next_due != null && a.state.next_due <= t && (!cursor || cmp(a, cursor) > 0))
        .sort(cmp)
        .slice(0, limit)
        .map((a) => ({ customer: a.customer, next_due: iso(a.state.next_due) }));
    },
    async events(program, { after = 0, limit = 5000 } = {}) {
      return [...events.entries()]
        .filter(([k, e]) => k.startsWith(key(program, '')) && e.seq > after)
        .sort((a, b) => a[1].seq - b[1].seq)
        .slice(0, limit)
        .map(([, e]) => ({ seq: e.seq, body: clone(e.body) }));
    },
    async accounts(program, { after = '', limit = 5000 } = {}) {
      return mine(program)
        .filter((a) => a.customer > after)
        .sort((a, b) => (a.customer < b.customer ? -1 : 1))
        .slice(0, limit)
        .map((a) => ({ customer: a.customer, state: clone(a.state), balance: a.state?.balance ?? 0, version: a.version }));
    },
    async audit(program, customer) {
      const mineE = entries.filter((e) => e.program === program && e.customer === customer);
      const evs = [...events.entries()].filter(([k, e]) => k.startsWith(key(program, '')) && e.customer === customer);
      return { events: evs.length, entries: mineE.length, points: mineE.reduce((s, e) => s + e.data.points, 0) };
    },
    async donations(program) {
      const per = new Map();
      for (const { program: p, data: e } of entries) {
        if (p !== program || e.type !== 'donate') continue;
        const d = per.get(e.charity) ?? { charity: e.charity, points: 0, donations: 0 };
        d.points -= e.points;
        d.donations += 1;
        per.set(e.charity, d);
      }
      return [...per.values()].sort((a, b) => (a.charity < b.charity ? -1 : 1));
    },
    async coupon(program, code) {
      const c = coupons.get(key(program, code));
      return c ? { ...clone(c.data), code, customer: c.customer, reward: c.reward, status: c.status, order_id: c.order_id ?? null } : null;
    },
    async customerData(program, customer) {
      const a = accounts.get(key(program, customer));
      const evs = [...events.entries()].filter(([k, e]) => k.startsWith(key(program, '')) && e.customer === customer).sort((x, y) => x[1].seq - y[1].seq);
      return clone({
        state: a?.state ?? null,
        entries: entries.filter((e) => e.program === program && e.customer === customer).map((e) => e.data),
        coupons: [...coupons.entries()].filter(([, c]) => c.program === program && c.customer === customer)
          .map(([k, c]) => ({ ...c.data, code: k.slice(program.length + 1), reward: c.reward, status: c.status, order_id: c.order_id ?? null })),
        orders: [...orders.entries()].filter(([k, o]) => k.startsWith(key(program, '')) && o.customer === customer).map(([, o]) => ({ id: o.record.id, record: o.record })),
        events: evs.map(([, e]) => ({ id: e.body.id, type: e.body.type, at: e.body.at, body: e.body, result: e.result })),
        notifications: outbox.filter((o) => o.program === program && o.customer === customer).map((o) => ({ key: o.key, type: o.effect.type, effect: o.effect })),
      });
    },
    async eraseProgram(program) {
      const mineKeys = (m) => [...m.keys()].filter((k) => k.startsWith(key(program, '')));
      const deleted = { events: 0, entries: 0, outbox: 0, coupons: 0, orders: 0, accounts: 0 };
      for (const [name, m] of [['events', events], ['coupons', coupons], ['orders', orders], ['accounts', accounts]]) {
        for (const k of mineKeys(m)) { m.delete(k); deleted[name]++; }
      }
      for (const [name, list] of [['entries', entries], ['outbox', outbox]]) {
        const keep = list.filter((x) => x.program !== program);
        deleted[name] = list.length - keep.length;
        list.splice(0, list.length, ...keep);
      }
      for (const k of [...entryIds]) if (k.startsWith(key(program, ''))) entryIds.delete(k);
      return deleted;
    },
    /** Test hook: overwrite a stored state, as a bad migration or manual edit would. */
    async tamper(program, customer, fn) {
      const a = accounts.get(key(program, customer));
      a.state = fn(clone(a.state));
    },
    close: async () => {},
  };
}
