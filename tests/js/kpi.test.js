// Admin KPIs, customer search and coupon cancel against hand-computed values on a small
// seeded ledger, on PGlite (a migrated template copied per test) and on PostgreSQL when
// DATABASE_URL is set (required in CI).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { kpis, pointValue, currencyDigits } from '../../js/stores/kpi.js';
import { buildApp } from '../../js/server/app.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const program = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const TOKEN = 'kpi-token';
const auth = { authorization: `Bearer ${TOKEN}` };

// --- backends ------------------------------------------------------------------------
const db = testDatabases('kpi');

const backends = {
  async pglite() {
    const dir = await db.pgliteDir();
    return { store: await openPgliteStore({ dataDir: dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  async postgres() {
    return { store: await openPostgresStore({ connectionString: await db.postgresUrl(), max: 6 }) };
  },
};

async function withSeeded(backend, fn) {
  const { store, cleanup } = await backends[backend]();
  const loyalty = createLoyalty({ program, store, secret: 'kpi-secret' });
  try {
    await seed(loyalty);
    await fn({ loyalty, store });
  } finally {
    await loyalty.close();
    cleanup?.();
  }
}

// --- the seeded ledger ------------------------------------------------------------------
// Seed program: 10 points per EUR (floor), 5000 points -> automatic 10% coupon (min 100.00),
// points valid 12 months (rolling), time zone Europe/Oslo (UTC+1 in January).
const order = (id, customer, orderId, total, at) => ({
  id, type: 'order.placed', at, customer,
  order: { id: orderId, currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: total }] },
});

async function seed(loyalty) {
  const run = async (e) => {
    const r = await loyalty.handle(e);
    assert.ok(!r.error && !r.skipped, JSON.stringify(r));
  };
  // d: 200 points a year before the window; they expire on 2026-01-03 (local).
  await run(order('d1', 'd', 'o-d1', '20.00', '2025-01-03T12:00:00+01:00'));
  // a: two orders in the window, 1000 + 500.
  await run(order('a1', 'a', 'o-a1', '100.00', '2026-01-05T10:00:00+01:00'));
  // b: 6000 at 00:30 local on 01-10 (23:30 UTC on 01-09): 5000 redeemed for the coupon.
  await run(order('b1', 'b', 'o-b1', '600.00', '2026-01-10T00:30:00+01:00'));
  // b: refund 100.00 of it: 1000 points reversed (balance 1000 -> 0).
  await run({ id: 'b1-refund', type: 'order.refunded', at: '2026-01-12T12:00:00+01:00', order_id: 'o-b1', amount: '100.00' });
  // c: a staff grant of 300 (an adjustment, not a purchase).
  await run({ id: 'c-grant', type: 'points.adjusted', at: '2026-01-15T12:00:00Z', customer: 'c', points: 300, reason: 'goodwill', by: 'staff' });
  // a: second order at 23:30 local on 01-20.
  await run(order('a2', 'a', 'o-a2', '50.00', '2026-01-20T23:30:00+01:00'));
  // The tick expires d's 200 points.
  const t = await loyalty.tick('2026-01-25T00:00:00Z');
  assert.equal(t.errors.length, 0, JSON.stringify(t.errors));
  // e: after the window (a member, and in the liability, not in the window's numbers).
  await run(order('e1', 'e', 'o-e1', '100.00', '2026-03-01T10:00:00+01:00'));
}

// January 2026 in Oslo.
const WINDOW = { from: '2026-01-01T00:00:00+01:00', to: '2026-02-01T00:00:00+01:00' };

function expectJanuary(k) {
  assert.equal(k.members, 5); // a, b, c, d, e
  // Purchases in the 90 days before 2026-02-01 local: a and b (d's is a year old, e's later).
  assert.equal(k.active_members, 2);
  assert.equal(k.buyers, 2);
  assert.equal(k.repeat_buyers, 1); // a ordered twice
  assert.equal(k.repeat_purchase_rate, 0.5);
  assert.equal(k.earned, 1000 + 6000 + 500);
  assert.equal(k.redeemed, 5000);
  assert.equal(k.expired, 200);
  assert.equal(k.reversed, 1000);
  assert.equal(k.adjusted, 300);
  assert.equal(k.redemption_rate, 0.6667); // 5000 / 7500
  assert.equal(k.breakage, 0.0267); // 200 / 7500
  // Balances now: a 1500, b 0, c 300, d 0, e 1000. A point is worth 10% of 100.00 / 5000.
  assert.deepEqual(k.liability, { points: 2800, pending: 0, value: '5.60', currency: 'EUR', point_value: { minor_units: 1000, per_points: 5000 } });
  assert.deepEqual(k.coupons, { issued: 1, used: 0, expired: 0, cancelled: 0 });
  assert.equal(k.timezone, 'Europe/Oslo');
  // Every local day of January, zeros included; b's order counts on 01-10 (local), not 01-09.
  assert.equal(k.days.length, 31);
  assert.equal(k.days[0].day, '2026-01-01');
  assert.equal(k.days[30].day, '2026-01-31');
  const active = k.days.filter((d) => d.earned || d.redeemed || d.expired);
  assert.deepEqual(active, [
    // d's points lapse at the end of local 2026-01-03 (the tick on 01-25 finds them).
    { day: '2026-01-03', earned: 0, redeemed: 0, expired: 200 },
    { day: '2026-01-05', earned: 1000, redeemed: 0, expired: 0 },
    { day: '2026-01-10', earned: 6000, redeemed: 5000, expired: 0 },
    { day: '2026-01-20', earned: 500, redeemed: 0, expired: 0 },
  ]);
  const sum = (f) => k.days.reduce((s, d) => s + d[f], 0);
  assert.deepEqual([sum('earned'), sum('redeemed'), sum('expired')], [k.earned, k.redeemed, k.expired]);
}

function suite(backend) {
  test(`${backend}: KPIs over January match the hand-computed values`, () =>
    withSeeded(backend, async ({ store }) => {
      expectJanuary(await kpis(store.db, program, WINDOW));
      // The window's edges: [from, to). Only a's first order falls in Jan 5 local.
      const day5 = await kpis(store.db, program, { from: '2026-01-05T00:00:00+01:00', to: '2026-01-06T00:00:00+01:00' });
      assert.deepEqual([day5.earned, day5.buyers, day5.redeemed, day5.days.length], [1000, 1, 0, 1]);
      // b's order is 23:30 UTC on 01-09: outside a UTC window of 01-10, inside Oslo's.
      const utc10 = await kpis(store.db, program, { from: '2026-01-10T00:00:00Z', to: '2026-01-11T00:00:00Z' });
      assert.equal(utc10.earned, 0);
      const empty = await kpis(store.db, program, { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' });
      assert.deepEqual([empty.earned, empty.redemption_rate, empty.breakage, empty.repeat_purchase_rate], [0, null, null, null]);
    }));

  test(`${backend}: the admin API: KPIs, search, the customer's coupons and coupon cancel`, () =>
    withSeeded(backend, async ({ loyalty, store }) => {
      const app = buildApp({ loyalty, store, token: TOKEN, now: () => new Date('2026-02-01T12:00:00Z') });
      try {
        const get = (url) => app.inject({ url, headers: auth });
        let res = await get(`/api/kpis?from=${encodeURIComponent(WINDOW.from)}&to=${encodeURIComponent(WINDOW.to)}`);
        assert.equal(res.statusCode, 200, res.body);
        expectJanuary(res.json());
        // Default window: the 30 days before now.
        res = await get('/api/kpis');
        assert.equal(res.json().from, '2026-01-02T12:00:00.000Z');
        assert.deepEqual([res.json().earned, res.json().expired], [7500, 200]);
        assert.equal((await get('/api/kpis?from=nope')).statusCode, 400);
        assert.equal((await get('/api/kpis?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).statusCode, 400);
        assert.equal((await app.inject({ url: '/api/kpis' })).statusCode, 401);

        // Search by id prefix, in id order; LIKE wildcards are literal.
        await loyalty.adjust('ab_1', { points: 5, reason: 'r', by: 's', at: '2026-01-30T00:00:00Z' });
        await loyalty.adjust('abc', { points: 7, reason: 'r', by: 's', at: '2026-01-30T00:00:00Z' });
        res = await get('/api/customers?q=a');
        assert.deepEqual(res.json().customers.map((c) => c.customer), ['a', 'ab_1', 'abc']);
        const { last_activity, ...first } = res.json().customers[0];
        assert.deepEqual(first, { customer: 'a', balance: 1500, pending: 0, tier: null, email: null, name: null });
        assert.ok(!Number.isNaN(Date.parse(last_activity)));
        assert.deepEqual((await get('/api/customers?q=ab_')).json().customers.map((c) => c.customer), ['ab_1']);
        assert.deepEqual((await get('/api/customers?q=a%25')).json().customers, []);
        assert.deepEqual((await get('/api/customers?q=&limit=2')).json().customers.map((c) => c.customer), ['a', 'ab_1']);
        assert.equal((await get('/api/customers?q=a&limit=0')).statusCode, 400);
        assert.equal((await app.inject({ url: '/api/customers?q=a' })).statusCode, 401);

        // b's coupon: cancel it with a reason; the engine no longer offers it.
        const [coupon] = (await get('/api/customers/b/coupons')).json().coupons;
        assert.equal(coupon.status, 'issued');
        const cart = { currency: 'EUR', at: '2026-01-20T10:00:00Z', lines: [{ id: 'l', quantity: 1, unit_price: '200.00' }] };
        assert.equal((await loyalty.quote('b', cart)).coupons[0].usable, true);
        const cancel = (body) => app.inject({ method: 'POST', url: `/api/coupons/${coupon.code}/cancel`, headers: auth, payload: body });
        assert.equal((await cancel({ by: 'staff' })).statusCode, 400); // a reason is required
        const before = (await loyalty.account('b')).balance;
        res = await cancel({ reason: 'issued by mistake', by: 'staff' });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().status, 'cancelled');
        // A threshold reward's points do not come back (they would issue it again at once);
        // a catalogue reward's do (tests/spending.rs).
        assert.equal(res.json().account.balance, before);
        assert.notEqual((await loyalty.history('b')).entries[0].type, 'restore');
        const stored = (await get('/api/customers/b/coupons')).json().coupons[0];
        assert.equal(stored.status, 'cancelled');
        // `by` is who signed in (the operator token here), not what the body said.
        assert.deepEqual(stored.cancelled, { reason: 'issued by mistake', by: 'token', at: '2026-02-01T12:00:00.000Z' });
        assert.equal((await loyalty.quote('b', cart)).coupons.find((c) => c.code === coupon.code)?.usable ?? false, false);
        assert.equal((await cancel({ reason: 'again', by: 'staff' })).json().duplicate, true);
        assert.equal((await app.inject({ method: 'POST', url: '/api/coupons/NOPE/cancel', headers: auth, payload: { reason: 'r', by: 's' } })).statusCode, 404);
        // The cancel is an event: a rebuild reproduces every account.
        assert.deepEqual((await loyalty.rebuild()).differences, []);
        assert.equal((await kpis(store.db, program, WINDOW)).coupons.cancelled, 1);
      } finally {
        await app.close();
      }
    }));
}

test('point value from the catalogue, in minor units', () => {
  assert.deepEqual(pointValue(program), { minor: 1000n, points: 5000 });
  const two = { currency: 'JPY', rewards: [
    { id: 'a', points: 100, coupon: { type: 'fixed', value: '500' } },
    { id: 'b', points: 1000, coupon: { type: 'percent', value: '12.5', min_order: '10000' } },
    { id: 'c', points: 10, coupon: { type: 'free_shipping' } },
  ] };
  assert.deepEqual(pointValue(two), { minor: 500n, points: 100 }); // 5 yen a point beats 1.25
  assert.equal(pointValue({ currency: 'EUR', rewards: [] }), null);
  assert.deepEqual([currencyDigits('EUR'), currencyDigits('JPY'), currencyDigits('KWD')], [2, 0, 3]);
});

describe('pglite', () => suite('pglite'));

// PostgreSQL: required in CI, optional on a laptop without a server.
if (!DATABASE_URL && process.env.CI) {
  test('postgres', () => assert.fail('DATABASE_URL is not set: the PostgreSQL suite cannot run in CI'));
} else {
  describe('postgres', { skip: DATABASE_URL ? false : 'DATABASE_URL is not set' }, () => suite('postgres'));
}
