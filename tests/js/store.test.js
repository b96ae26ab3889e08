// The durable ledger, one suite run against every store: memory, PGlite and PostgreSQL.
// Expected numbers come from the seed program: 10 points per EUR, floor, shipping and tax
// excluded, an automatic 10% coupon at 5000 points, points valid 12 months (rolling).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createLoyalty } from '../../js/loyalty.js';
import { openMemoryStore } from '../../js/stores/memory.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { LoyaltyError } from '../../js/errors.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const program = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const P = program.id;
const SECRET = 'test-secret';

// --- events -----------------------------------------------------------------------------
const line = (id, quantity, unit_price, discount = '0.00') => ({ id, quantity, unit_price, discount });
const placed = (id, customer, orderId, lines, at = '2026-01-10T10:00:00+01:00') => ({
  id, type: 'order.placed', at, customer,
  order: { id: orderId, currency: 'EUR', lines, shipping: '4.90', tax: '0.00', taxes_included: true, coupon_codes: [] },
});
const refunded = (id, orderId, refund, at = '2026-01-11T10:00:00+01:00') => ({ id, type: 'order.refunded', at, order_id: orderId, ...refund });
const adjusted = (id, customer, points, at = '2026-01-10T12:00:00+01:00') => ({ id, type: 'points.adjusted', at, customer, points, reason: 'test', by: 'staff-1' });

// Runs fn over items with at most `n` in flight.
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

// --- backends ---------------------------------------------------------------------------
const db = testDatabases('store');

const backends = {
  memory: async () => {
    const store = openMemoryStore();
    return { stores: [store], open: async () => store };
  },
  pglite: async () => {
    const dir = await db.pgliteDir();
    const store = await openPgliteStore({ dataDir: dir });
    return { stores: [store], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: async () => {
    const url = await db.postgresUrl();
    const store = await openPostgresStore({ connectionString: url, max: 10 });
    // A second pool on the same database: a second server process.
    const other = await openPostgresStore({ connectionString: url, max: 10 });
    return { stores: [store, other] };
  },
};

// One loyalty per store (all on the same data), closed after fn.
async function withLoyalty(backend, fn) {
  const { stores, cleanup } = await backends[backend]();
  const all = stores.map((store) => ({ store, loyalty: createLoyalty({ program, store, secret: SECRET }) }));
  try {
    await fn({ ...all[0], others: all.slice(1) });
  } finally {
    for (const { loyalty } of all) await loyalty.close();
    cleanup?.();
  }
}

// Direct edits and counts, in SQL or in memory.
async function tamper(store, customer) {
  if (store.tamper) return store.tamper(P, customer, (s) => ({ ...s, balance: s.balance + 1 }));
  await store.db.query(
    `UPDATE accounts SET state = jsonb_set(state, '{balance}', to_jsonb((state->>'balance')::bigint + 1))
      WHERE program = $1 AND customer = $2`,
    [P, customer],
  );
}

async function eventRows(store, id) {
  if (!store.db) return (await store.event(P, id)) ? 1 : 0;
  const { rows } = await store.db.query('SELECT count(*)::int AS n FROM events WHERE program = $1 AND event_id = $2', [P, id]);
  return rows[0].n;
}

// --- the suite --------------------------------------------------------------------------
function suite(backend) {
  const it = (name, fn) => test(name, () => withLoyalty(backend, fn));

  it('earns and reverses exact points; refunds find the customer by the order', async ({ loyalty, store }) => {
    // 2 x 50.00 + 29.90 = 129.90 EUR (shipping excluded) -> 1299 points.
    const e1 = await loyalty.handle(placed('e1', 'c1', 'o1', [line('l1', 2, '50.00'), line('l2', 1, '29.90')]));
    assert.equal(e1.balance, 1299);
    assert.deepEqual(e1.entries.map((e) => [e.type, e.points, e.balance_after]), [['earn', 1299, 1299]]);
    // One unit of l1 back: keeps 79.90 -> 799, reverses 500. No customer on the event.
    const e2 = await loyalty.handle(refunded('e2', 'o1', { lines: [{ id: 'l1', quantity: 1 }] }));
    assert.equal(e2.customer, 'c1');
    assert.deepEqual(e2.entries.map((e) => [e.type, e.points, e.balance_after]), [['reverse', -500, 799]]);
    // 250.00 -> 2500; cancelled -> all 2500 back.
    await loyalty.handle(placed('e3', 'c1', 'o2', [line('l1', 1, '250.00')], '2026-01-12T10:00:00+01:00'));
    assert.equal((await loyalty.account('c1')).balance, 3299);
    const e4 = await loyalty.handle({ id: 'e4', type: 'order.cancelled', at: '2026-01-13T10:00:00+01:00', order_id: 'o2' });
    assert.equal(e4.balance, 799);
    // 29.90 refunded by amount: 1299 x 29.90 / 134.80 (order total) = 288.13 of the
    // earn goes, the order keeps floor(799 - 288.13) = 510.
    const e5 = await loyalty.handle(refunded('e5', 'o1', { amount: '29.90' }, '2026-01-14T10:00:00+01:00'));
    assert.deepEqual(e5.entries.map((e) => [e.type, e.points, e.balance_after]), [['reverse', -289, 510]]);
    // The rest of l1 and l2: nothing is left, and never more than was earned.
    const e6 = await loyalty.handle(refunded('e6', 'o1', { lines: [{ id: 'l1', quantity: 1 }, { id: 'l2', quantity: 1 }] }, '2026-01-15T10:00:00+01:00'));
    assert.equal(e6.balance, 0);
    const view = await loyalty.account('c1');
    assert.equal(view.balance, 0);
    assert.deepEqual(await store.audit(P, 'c1'), { events: 6, entries: 6, points: 0 });
    assert.equal(await loyalty.account('nobody'), null);
  });

  it('a redelivered event returns the first result and writes nothing', async ({ loyalty, store }) => {
    const first = await loyalty.handle(placed('e1', 'c1', 'o1', [line('l1', 1, '600.00')]));
    // 6000 points cross the 5000 threshold: a coupon is issued and 5000 redeemed.
    assert.equal(first.balance, 1000);
    assert.equal(first.effects.filter((f) => f.type === 'coupon.issued').length, 1);
    const again = await loyalty.handle(placed('e1', 'c1', 'o1', [line('l1', 1, '600.00')]));
    assert.deepEqual(again, { ...first, duplicate: true });
    const refund = refunded('e2', 'o1', { lines: [{ id: 'l1', quantity: 1 }] });
    const r1 = await loyalty.handle(refund);
    const r2 = await loyalty.handle(refund);
    assert.deepEqual(r2, { ...r1, duplicate: true });
    assert.equal(await eventRows(store, 'e1'), 1);
    assert.equal(await eventRows(store, 'e2'), 1);
    const audit = await store.audit(P, 'c1');
    assert.deepEqual(audit, { events: 2, entries: 3, points: (await loyalty.account('c1')).balance });
    // Same code on redelivery: the coupon is derived from the event id.
    assert.equal((await loyalty.account('c1')).coupons.length, 1);
  });

  it('a refund and a cancellation before their order are parked, then applied right after it, once', async ({ loyalty, store }) => {
    // Platforms do not deliver in order: the refund comes first.
    const r = await loyalty.handle(refunded('r1', 'late', { amount: '10.00' }));
    assert.equal(r.customer, null);
    assert.match(r.parked, /late/);
    assert.equal(await eventRows(store, 'r1'), 0, 'the refund has not used up its event id');
    assert.deepEqual((await loyalty.parked()).map((p) => [p.event.id, p.order_id]), [['r1', 'late']]);
    // A redelivery while parked parks nothing twice.
    await loyalty.handle(refunded('r1', 'late', { amount: '10.00' }));
    assert.equal((await loyalty.parked()).length, 1);
    // The order arrives: the parked refund is applied at once, as if it had come after it.
    await loyalty.handle(placed('p1', 'c9', 'late', [line('l1', 1, '100.00')]));
    await loyalty.handle(placed('p2', 'c10', 'ctl', [line('l1', 1, '100.00')]));
    await loyalty.handle(refunded('r2', 'ctl', { amount: '10.00' }));
    const expected = (await loyalty.account('c10')).balance;
    assert.ok(expected < 1000, `the refund reversed points (${expected})`);
    assert.equal((await loyalty.account('c9')).balance, expected);
    assert.deepEqual(await loyalty.parked(), []);
    assert.equal(await eventRows(store, 'r1'), 1);
    // Delivered again later: a duplicate, nothing reversed twice.
    assert.equal((await loyalty.handle(refunded('r1', 'late', { amount: '10.00' }))).duplicate, true);
    assert.equal((await loyalty.account('c9')).balance, expected);
  });

  it('a batch stops at its first failure and says where; the events before it stay applied', async ({ loyalty }) => {
    const out = await loyalty.handleMany([adjusted('b1', 'cb', 10), { id: 'b2', type: 'points.adjusted', at: 'never', customer: 'cb', points: 1, reason: 'r', by: 's' }, adjusted('b3', 'cb', 5)]);
    assert.equal(out.length, 2);
    assert.equal(out[1].index, 1);
    assert.equal(out[1].event, 'b2');
    assert.ok(out[1].error.code);
    assert.equal((await loyalty.account('cb')).balance, 10, 'b3 was not applied after the failure');
  });

  it('one event id sent for several customers at once is applied once', async ({ loyalty, store, others }) => {
    // Different account rows, so no row lock serializes them: the events primary key
    // does, and the losers return the winner's result. Rounds, so pools are warm.
    const sides = [loyalty, ...others.map((o) => o.loyalty)];
    for (let round = 0; round < 5; round++) {
      const id = `same-${round}`;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => sides[i % sides.length].handle(adjusted(id, `c${round}-${i}`, 10))));
      const winners = results.filter((r) => !r.duplicate);
      assert.equal(winners.length, 1);
      for (const r of results) if (r !== winners[0]) assert.deepEqual(r, { ...winners[0], duplicate: true });
      assert.equal(await eventRows(store, id), 1);
      for (let i = 0; i < 8; i++) {
        const c = `c${round}-${i}`;
        assert.equal((await loyalty.account(c))?.balance ?? null, c === winners[0].customer ? 10 : null);
      }
    }
  });

  // SQL stores apply an event without holding locks (peek, engine, recordIfUnchanged): the
  // write must refuse when what was read has moved, and write nothing.
  if (backend !== 'memory') {
    it('an event for a known customer is written without a store transaction; a new customer takes the locked one', async ({ loyalty, store }) => {
      await loyalty.handle(placed('e1', 'c1', 'o1', [line('l1', 1, '50.00')]));
      const transaction = store.transaction;
      let n = 0;
      store.transaction = (fn) => {
        n++;
        return transaction(fn);
      };
      try {
        await loyalty.handle(adjusted('a1', 'c1', 5));
        assert.equal(n, 0, 'peek, engine, loyalty_record');
        await loyalty.handle(adjusted('a2', 'c2', 5));
        assert.equal(n, 1, 'no account yet: the locked path creates it');
      } finally {
        store.transaction = transaction;
      }
      assert.equal((await loyalty.account('c1')).balance, 505);
      assert.equal((await loyalty.account('c2')).balance, 5);
    });

    it('an optimistic write refuses when the account or the order moved since the read, and writes nothing', async ({ loyalty, store }) => {
      await loyalty.handle(placed('e1', 'c1', 'o1', [line('l1', 1, '50.00')]));
      const refund = refunded('e2', 'o1', { amount: '10.00' });
      const write = (seen) => store.recordIfUnchanged(P, {
        event: refund, customer: 'c1', result: { event: 'e2', customer: 'c1', entries: [], effects: [] },
        state: seen.account.state, entries: [], effects: [],
      }, { orderId: 'o1', version: seen.account.version, orderTag: seen.order.tag });

      let seen = await store.peek(P, 'e2', 'o1', 'c1');
      assert.equal(seen.found, null);
      assert.equal(seen.order.customer, 'c1');
      await loyalty.handle(adjusted('a1', 'c1', 5)); // the account moves
      assert.equal(await write(seen), false);
      assert.equal(await eventRows(store, 'e2'), 0);

      seen = await store.peek(P, 'e2', 'o1', 'c1');
      await store.db.query('UPDATE orders SET updated_at = now() WHERE program = $1 AND order_id = $2', [P, 'o1']); // the order moves
      assert.equal(await write(seen), false);
      assert.equal(await eventRows(store, 'e2'), 0);

      seen = await store.peek(P, 'e2', 'o1', 'c1');
      assert.equal(await write(seen), true);
      assert.equal(await eventRows(store, 'e2'), 1);
      assert.deepEqual((await store.peek(P, 'e2', 'o1', 'c1')).found.customer, 'c1');
    });
  }

  it('customers and event ids must be strings', async ({ loyalty }) => {
    const bad = { ...placed('e1', 'c1', 'o1', [line('l1', 1, '10.00')]), customer: 1234567890123456789 };
    await assert.rejects(loyalty.handle(bad), (e) => e instanceof LoyaltyError && e.code === 'invalid_event' && e.path === 'customer');
    await assert.rejects(loyalty.handle({ ...bad, customer: 'c1', id: 7 }), (e) => e.code === 'invalid_event' && e.path === 'id');
    await assert.rejects(loyalty.account(42), (e) => e.code === 'invalid_event');
    // An engine error writes nothing.
    await assert.rejects(loyalty.handle({ ...placed('e2', 'c2', 'o2', [line('l1', 1, '10.001')]) }), LoyaltyError);
    assert.equal(await loyalty.account('c2'), null);
  });

  it('adjust, redeem, quote and 50 concurrent events on one customer', async ({ loyalty, store }) => {
    await loyalty.adjust('c1', { points: 4990, reason: 'welcome', by: 'staff-1', id: 'a1', at: '2026-01-10T09:00:00Z' });
    assert.deepEqual((await loyalty.quote('c1', { at: '2026-01-10T10:00:00Z', currency: 'EUR', lines: [line('l1', 1, '12.34')] })).points, 123);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => loyalty.handle(adjusted(`adj-${i}`, 'c1', 1, `2026-01-10T10:00:${String(i).padStart(2, '0')}Z`))),
    );
    assert.equal(results.filter((r) => r.duplicate).length, 0);
    // 4990 + 50 = 5040: the automatic reward takes 5000 once the threshold is crossed.
    const view = await loyalty.account('c1');
    assert.equal(view.balance, 40);
    assert.equal(view.coupons.length, 1);
    const audit = await store.audit(P, 'c1');
    assert.equal(audit.points, 40);
    assert.equal(audit.events, 51);
    const skipped = await loyalty.redeem('c1', { reward: 'threshold-10pct', id: 'rd1', at: '2026-01-11T10:00:00Z' });
    assert.match(skipped.skipped, /not enough points/);
  });

  it('history pages over every entry once, newest first', async ({ loyalty }) => {
    for (let i = 0; i < 23; i++) await loyalty.handle(adjusted(`h${i}`, 'c1', i + 1, `2026-01-10T10:${String(i).padStart(2, '0')}:00Z`));
    await loyalty.handle(adjusted('other', 'c2', 5));
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const page = await loyalty.history('c1', { cursor, limit: 5 });
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.next;
      pages++;
    } while (cursor);
    assert.equal(pages, 5);
    assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => `h${22 - i}#0`));
    await assert.rejects(loyalty.history('c1', { cursor: 'x' }), (e) => e.code === 'invalid_request');
  });

  it('tick touches only due accounts, found by the index', async ({ loyalty, store }) => {
    // 990 recent earners (due in ~10 months) and 10 whose points expired at 2026-01-01.
    const events = Array.from({ length: 1000 }, (_, i) => {
      const old = i % 100 === 7;
      return placed(`s${i}`, `cust-${i}`, `so${i}`, [line('l1', 1, '10.00')], old ? '2025-01-01T10:00:00+01:00' : '2026-01-02T10:00:00+01:00');
    });
    await pool(events, 10, (e) => loyalty.handle(e));
    const before = new Map((await store.accounts(P, { limit: 2000 })).map((a) => [a.customer, a]));
    const now = '2026-01-05T00:00:00.000Z';
    const summary = await loyalty.tick(now);
    assert.deepEqual({ due: summary.due, ticked: summary.ticked, errors: summary.errors }, { due: 10, ticked: 10, errors: [] });
    const afterTick = await store.accounts(P, { limit: 2000 });
    const changed = afterTick.filter((a) => a.version !== before.get(a.customer).version).map((a) => a.customer).sort();
    assert.deepEqual(changed, events.filter((e) => e.at.startsWith('2025')).map((e) => e.customer).sort());
    for (const c of changed) {
      assert.equal((await loyalty.account(c)).balance, 0);
      const { entries } = await loyalty.history(c, { limit: 1 });
      assert.deepEqual([entries[0].type, entries[0].points, entries[0].event], ['expire', -100, `tick:${now}:${c}`]);
    }
    // Nothing is due any more; the same instant again is a no-op.
    assert.equal((await loyalty.tick(now)).due, 0);
    assert.deepEqual((await loyalty.rebuild()).differences, []);
  });

  it('redact keeps the anonymised ledger balanced; dataRequest returns everything; coupon by code', async ({ loyalty, store }) => {
    const C = 'cust-private-4711';
    await loyalty.handle(placed('r1', C, 'ro1', [line('l1', 1, '600.00'), line('l2', 2, '20.00')]));
    await loyalty.handle(refunded('r2', 'ro1', { lines: [{ id: 'l2', quantity: 1 }] }));
    await loyalty.adjust(C, { points: 50, reason: 'goodwill', by: 'staff-1', id: `adj:${C}`, at: '2026-01-12T10:00:00Z' });
    await loyalty.handle(placed('r3', 'c2', 'ro2', [line('l1', 1, '80.00')]));
    // A tick's event id embeds the customer: tick:<at>:<customer>. The coupon expires.
    await loyalty.tick('2026-03-01T00:00:00Z');
    await loyalty.handle(placed('r4', C, 'ro3', [line('l1', 1, '30.00')], '2026-03-02T10:00:00+01:00'));

    const [issued] = (await loyalty.account(C)).coupons;
    const byCode = await loyalty.coupon(issued.code);
    assert.deepEqual([byCode.customer, byCode.reward, byCode.status, byCode.code], [C, 'threshold-10pct', 'expired', issued.code]);
    assert.equal(await loyalty.coupon('LOY-NONE'), null);

    if (store.db) {
      // Contact details and devices the notification dispatcher keeps are personal data too.
      await store.db.query(`INSERT INTO notify_contacts (program, customer, email, name) VALUES ($1, $2, 'ann@example.com', 'Ann')`, [P, C]);
      await store.db.query(`INSERT INTO push_subscriptions (program, customer, endpoint, keys) VALUES ($1, $2, 'https://push.example/1', '{}')`, [P, C]);
    }
    const data = await loyalty.dataRequest(C);
    if (store.db) {
      assert.equal(data.contact.email, 'ann@example.com');
      assert.deepEqual(data.push_subscriptions.map((d) => d.endpoint), ['https://push.example/1']);
    }
    const balance = (await loyalty.account(C)).balance;
    assert.equal(data.account.balance, balance);
    assert.equal(data.state.customer, C);
    assert.deepEqual(data.events.map((e) => e.id), ['r1', 'r2', `adj:${C}`, `tick:2026-03-01T00:00:00.000Z:${C}`, 'r4']);
    assert.deepEqual(data.orders.map((o) => o.id).sort(), ['ro1', 'ro3']);
    assert.equal(data.coupons.length, 1);
    assert.equal(data.entries.reduce((s, e) => s + e.points, 0), balance);
    assert.ok(data.notifications.length > 0);
    const historyBefore = (await loyalty.history(C, { limit: 100 })).entries.map((e) => [e.type, e.points, e.balance_after]);

    const r = await loyalty.redact(C);
    assert.match(r.anonymous, /^anon-[0-9a-f]{32}$/);
    assert.deepEqual([r.events, r.balance], [5, balance]);
    assert.equal(await loyalty.account(C), null);
    const empty = await loyalty.dataRequest(C);
    assert.deepEqual([empty.account, empty.entries, empty.coupons, empty.orders, empty.events], [null, [], [], [], []]);
    // The ledger is kept under the anonymous id, entry for entry, and stays balanced.
    assert.equal((await loyalty.account(r.anonymous)).balance, balance);
    assert.deepEqual((await loyalty.history(r.anonymous, { limit: 100 })).entries.map((e) => [e.type, e.points, e.balance_after]), historyBefore);
    assert.equal((await store.audit(P, r.anonymous)).points, balance);
    assert.deepEqual((await loyalty.rebuild()).differences, []);
    // Nothing anywhere still names the customer.
    assert.doesNotMatch(JSON.stringify(await loyalty.dataRequest(r.anonymous)), new RegExp(C));
    if (store.db) {
      for (const t of ['accounts', 'events', 'entries', 'outbox', 'coupons', 'orders', 'notify_contacts', 'push_subscriptions', 'notify_deliveries']) {
        const { rows } = await store.db.query(`SELECT count(*)::int AS n FROM ${t} x WHERE x::text LIKE $1`, [`%${C}%`]);
        assert.equal(rows[0].n, 0, t);
      }
    }
    // A late redelivery of an old order webhook still dedupes: nothing is awarded again.
    const late = await loyalty.handle(placed('r1', C, 'ro1', [line('l1', 1, '600.00'), line('l2', 2, '20.00')]));
    assert.equal(late.duplicate, true);
    assert.equal(await loyalty.account(C), null);
    // Redacting again, or a customer we never saw, is a no-op; the other customer is untouched.
    assert.equal((await loyalty.redact(C)).events, 0);
    assert.equal((await loyalty.account('c2')).balance, 800);

    // shop/redact: every row of the program goes.
    const deleted = await loyalty.redactShop();
    assert.equal(deleted.accounts, 2);
    assert.equal(deleted.events, 6);
    assert.deepEqual(await loyalty.rebuild(), { events: 0, accounts: 0, differences: [] });
    assert.equal(await loyalty.account('c2'), null);
  });

  it('rebuild reproduces every account, and finds a tampered one', async ({ loyalty, store }) => {
    await loyalty.handle(placed('m1', 'c1', 'o1', [line('l1', 3, '200.00'), line('l2', 2, '15.50')]));
    await loyalty.handle(placed('m2', 'c2', 'o2', [line('l1', 1, '80.00')]));
    await loyalty.handle(refunded('m3', 'o1', { lines: [{ id: 'l2', quantity: 1 }] }));
    await loyalty.adjust('c2', { points: -300, reason: 'correction', by: 'staff-2', id: 'm4', at: '2026-01-11T11:00:00Z' });
    await loyalty.handle({ id: 'm5', type: 'coupon.used', at: '2026-01-12T10:00:00Z', customer: 'c1', code: (await loyalty.account('c1')).coupons[0].code, order_id: 'o9' });
    await loyalty.handle({ id: 'm6', type: 'order.cancelled', at: '2026-01-13T10:00:00Z', order_id: 'o2' });
    await loyalty.handle(refunded('m7', 'ghost', { amount: '1.00' }));
    await loyalty.tick('2026-03-01T00:00:00Z');
    await loyalty.handle(placed('m8', 'c3', 'o3', [line('l1', 1, '45.67')], '2026-03-02T10:00:00Z'));
    const clean = await loyalty.rebuild();
    assert.equal(clean.accounts, 3);
    assert.deepEqual(clean.differences, []);
    await tamper(store, 'c2');
    const { differences } = await loyalty.rebuild();
    // SQL stores also see the balance column disagree with the tampered state.
    assert.deepEqual(differences.map((d) => d.customer), ['c2']);
    assert.equal(differences[0].fields[0], 'balance');
    assert.equal(differences[0].rebuilt.balance + 1, differences[0].stored.balance);
  });
}

for (const backend of ['memory', 'pglite']) describe(backend, () => suite(backend));

// PostgreSQL: required in CI, optional on a laptop without a server.
if (!DATABASE_URL && process.env.CI) {
  test('postgres', () => assert.fail('DATABASE_URL is not set: the PostgreSQL suite cannot run in CI'));
} else {
  describe('postgres', { skip: DATABASE_URL ? false : 'DATABASE_URL is not set' }, () => {
    suite('postgres');

    test('200 concurrent events for one customer across two pools', () =>
      withLoyalty('postgres', async ({ loyalty, store, others: [two] }) => {
        const events = Array.from({ length: 200 }, (_, i) => adjusted(`p${i}`, 'c1', 3, `2026-01-10T10:00:00.${String(i).padStart(3, '0')}Z`));
        await Promise.all(events.map((e, i) => (i % 2 ? two.loyalty : loyalty).handle(e)));
        // 600 points: below the 5000 threshold, so nothing is redeemed.
        assert.equal((await loyalty.account('c1')).balance, 600);
        assert.deepEqual(await store.audit(P, 'c1'), { events: 200, entries: 200, points: 600 });
        const { rows } = await store.db.query('SELECT balance, version FROM accounts WHERE program = $1 AND customer = $2', [P, 'c1']);
        assert.deepEqual([Number(rows[0].balance), Number(rows[0].version)], [600, 200]);
      }));

    test('1,000 concurrent orders for one customer across two pools: the exact balance', () =>
      withLoyalty('postgres', async ({ loyalty, store, others: [two] }) => {
        // 12.30 EUR each: 123 points, 123,000 in all, so the 5000-point reward is taken 24
        // times and 3,000 points remain, whatever order the orders commit in.
        const events = Array.from({ length: 1000 }, (_, i) => placed(`k${i}`, 'c1', `ko${i}`, [line('l1', 1, '12.30')]));
        const results = await Promise.all(events.map((e, i) => (i % 2 ? two.loyalty : loyalty).handle(e)));
        assert.equal(results.filter((r) => r.duplicate).length, 0);
        const view = await loyalty.account('c1');
        assert.equal(view.balance, 3000);
        assert.equal(view.coupons.length, 24);
        assert.deepEqual(await store.audit(P, 'c1'), { events: 1000, entries: 1024, points: 3000 });
        const { rows } = await store.db.query(
          `SELECT a.balance, a.version, (SELECT sum(points) FROM entries e WHERE e.program = a.program AND e.customer = a.customer) AS sum
             FROM accounts a WHERE program = $1 AND customer = $2`, [P, 'c1']);
        assert.deepEqual([Number(rows[0].balance), Number(rows[0].sum), Number(rows[0].version)], [3000, 3000, 1000]);
        assert.deepEqual((await loyalty.rebuild()).differences, []);
      }));

    test('50 concurrent deliveries of one event across two pools award once', () =>
      withLoyalty('postgres', async ({ loyalty, store, others: [two] }) => {
        const e = placed('dup', 'c1', 'o1', [line('l1', 1, '123.45')]);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? two.loyalty : loyalty).handle(e)));
        assert.equal(results.filter((r) => !r.duplicate).length, 1);
        for (const r of results) assert.equal(r.balance, 1234);
        assert.equal(await eventRows(store, 'dup'), 1);
        assert.deepEqual(await store.audit(P, 'c1'), { events: 1, entries: 1, points: 1234 });
      }));

    test('two tickers at once tick each due account once', () =>
      withLoyalty('postgres', async ({ loyalty, store, others: [two] }) => {
        const events = Array.from({ length: 60 }, (_, i) => placed(`s${i}`, `cust-${i}`, `so${i}`, [line('l1', 1, '10.00')], '2025-01-01T10:00:00+01:00'));
        await pool(events, 10, (e) => loyalty.handle(e));
        const now = '2026-01-05T00:00:00.000Z';
        const [a, b] = await Promise.all([loyalty.tick(now, { batch: 7 }), two.loyalty.tick(now, { batch: 7 })]);
        assert.equal(a.ticked + b.ticked, 60);
        assert.deepEqual([...a.errors, ...b.errors], []);
        const { rows } = await store.db.query("SELECT count(*)::int AS n FROM events WHERE type = 'clock.tick'");
        assert.equal(rows[0].n, 60);
        const { rows: versions } = await store.db.query('SELECT DISTINCT version FROM accounts');
        assert.deepEqual(versions.map((r) => Number(r.version)), [2]);
      }));
  });
}
