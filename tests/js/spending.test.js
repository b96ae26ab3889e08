// Spending and programs through the npm package (docs/spending.md): each feature once through
// the wasm, with the shapes a host sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEngine, LoyaltyError } from '../../js/index.js';

const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const program = (patch) => ({ ...seed, rewards: [], ...patch });
const adjust = (id, customer, points) => ({ id, type: 'points.adjusted', at: '2026-01-05T10:00:00Z', customer, points, reason: 'test', by: 'staff' });
const order = (id, at, amount, extra = {}) => ({
  id: `ev-${id}`, type: 'order.placed', at, customer: 'c1',
  order: { id, currency: 'EUR', lines: [{ id: 'l1', sku: 'TOTE-01', categories: ['bags'], quantity: 1, unit_price: amount }], ...extra },
});

/** Applies events in order, as a host keeps states, order records and stock counts. */
function host(engine) {
  const states = {}, orders = {}, stock = {}, effects = [], entries = [];
  return {
    states, orders, stock, effects, entries,
    send(event) {
      const customer = event.customer ?? orders[event.order_id]?.customer;
      const out = engine.apply(states[customer] ?? null, event, { order: orders[event.order?.id ?? event.order_id] ?? null, stock });
      states[customer] = out.state;
      if (out.order) orders[out.order.id] = out.order;
      for (const e of out.effects) {
        const delta = e.type === 'coupon.issued' ? 1 : e.type === 'coupon.cancelled' ? -1 : 0;
        if (delta) stock[e.reward] = (stock[e.reward] ?? 0) + delta;
      }
      effects.push(...out.effects);
      entries.push(...out.entries);
      return out;
    },
  };
}

test('catalogue: stock, a free product in the quote, cancel with points back', () => {
  const engine = createEngine(program({ rewards: [{ id: 'tote', points: 1500, stock: 1, coupon: { type: 'free_product', product: 'TOTE-01' } }] }));
  const h = host(engine);
  h.send(adjust('a1', 'c1', 2000));
  h.send(adjust('a2', 'c2', 2000));
  const first = h.send({ id: 'r1', type: 'reward.redeemed', at: '2026-01-06T10:00:00Z', customer: 'c1', reward: 'tote' });
  const code = first.effects.find((e) => e.type === 'coupon.issued').coupon.code;
  assert.equal(h.send({ id: 'r2', type: 'reward.redeemed', at: '2026-01-06T11:00:00Z', customer: 'c2', reward: 'tote' }).skipped, 'out of stock: all 1 of tote are taken');
  const q = engine.quote(h.states.c1, { at: '2026-01-07T10:00:00Z', currency: 'EUR', lines: [{ id: 'l1', sku: 'TOTE-01', quantity: 1, unit_price: '24.90' }] });
  assert.deepEqual(q.coupons.map((c) => [c.type, c.usable, c.discount]), [['free_product', true, '24.90']]);
  const cancel = h.send({ id: 'x1', type: 'coupon.cancelled', at: '2026-01-07T10:00:00Z', customer: 'c1', code });
  assert.deepEqual(cancel.entries.map((e) => [e.type, e.points, e.coupon]), [['restore', 1500, code]]);
  assert.deepEqual(cancel.effects, [{ type: 'coupon.cancelled', customer: 'c1', code, reward: 'tote', points: 1500 }]);
  assert.equal(h.states.c1.balance, 2000);
  assert.equal(engine.view(h.states.c1).coupons[0].status, 'cancelled');
  assert.equal(h.send({ id: 'r3', type: 'reward.redeemed', at: '2026-01-08T11:00:00Z', customer: 'c2', reward: 'tote' }).skipped, undefined);
  assert.throws(() => engine.apply(null, { id: 'r4', type: 'reward.redeemed', at: '2026-01-08T11:00:00Z', customer: 'c3', reward: 'tote' }),
    (e) => e instanceof LoyaltyError && e.code === 'invalid_context' && e.path === 'stock');
});

test('pay with points: the quote shows the most, the order commits it, a cancel gives it back', () => {
  const engine = createEngine(program({ pay_with_points: { points: 100, value: '1.00', min_points: 500, max_share: '50' } }));
  const h = host(engine);
  h.send(adjust('a1', 'c1', 4321));
  const q = engine.quote(h.states.c1, { at: '2026-01-06T10:00:00Z', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '60.00' }] });
  assert.deepEqual(q.pay_with_points, { points: 3000, discount: '30.00' });
  const out = h.send(order('o1', '2026-01-06T10:00:00Z', '60.00', { points_spent: 3000 }));
  assert.deepEqual(out.entries.map((e) => [e.type, e.points, e.order_id]), [['redeem', -3000, 'o1'], ['earn', 600, 'o1']]);
  assert.equal(out.order.points_spent, 3000);
  assert.throws(() => engine.apply(h.states.c1, order('o2', '2026-01-06T11:00:00Z', '60.00', { points_spent: 3000 })),
    (e) => e instanceof LoyaltyError && e.path === 'order.points_spent');
  h.send({ id: 'c-o1', type: 'order.cancelled', at: '2026-01-07T10:00:00Z', order_id: 'o1' });
  assert.equal(h.states.c1.balance, 4321);
});

test('memberships: perks in the quote, the view, and the lapse', () => {
  const engine = createEngine(program({
    rewards: [{ id: 'monthly', points: 1, coupon: { type: 'free_shipping', valid_for: 'P1M' } }],
    memberships: [{ id: 'plus', name: 'Plus', fee: '4.99', period: 'month', perks: { percent_off: '20', free_shipping: true, multiplier: '2', monthly_reward: 'monthly' } }],
  }));
  const h = host(engine);
  const started = h.send({ id: 'm1', type: 'membership.started', at: '2026-01-15T10:00:00Z', customer: 'c1', plan: 'plus' });
  assert.deepEqual(started.effects.find((e) => e.type === 'membership.changed'),
    { type: 'membership.changed', customer: 'c1', plan: 'plus', status: 'active', until: '2026-02-14T23:59:59.999+01:00', fee: '4.99' });
  const q = engine.quote(h.states.c1, { at: '2026-01-16T10:00:00Z', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '10.00' }] });
  assert.deepEqual([q.points, q.perks.percent_off, q.perks.free_shipping, q.rules], [200, '20', true, ['membership:plus']]);
  assert.deepEqual(engine.view(h.states.c1).membership, { plan: 'plus', status: 'active', until: '2026-02-14T23:59:59.999+01:00' });
  h.send({ id: 't1', type: 'clock.tick', at: '2026-02-16T00:00:00Z', customer: 'c1' });
  assert.equal(engine.view(h.states.c1).membership.status, 'lapsed');
  assert.equal(h.effects.filter((e) => e.type === 'coupon.issued').length, 1);
});

test('donations: entries name the charity; too few points is skipped, not an error', () => {
  const engine = createEngine(program({ donations: { charities: [{ id: 'trees', name: 'One Tree Planted' }], min_points: 100 } }));
  const h = host(engine);
  h.send(adjust('a1', 'c1', 250));
  const out = h.send({ id: 'd1', type: 'points.donated', at: '2026-01-06T10:00:00Z', customer: 'c1', charity: 'trees', points: 200 });
  assert.deepEqual(out.entries.map((e) => [e.type, e.points, e.charity, e.reason]), [['donate', -200, 'trees', 'donation to One Tree Planted']]);
  assert.match(h.send({ id: 'd2', type: 'points.donated', at: '2026-01-06T11:00:00Z', customer: 'c1', charity: 'trees', points: 100 }).skipped, /not enough points/);
  assert.equal(h.states.c1.balance, 50);
});

test('offers and coalitions: a category offer once, a brand rate per order', () => {
  const engine = createEngine(program({
    rewards: [{ id: 'gift', points: 1, coupon: { type: 'fixed', value: '10.00' } }],
    offers: [{ id: 'bag-fan', when: { bought: { category: 'bags', times: 2 } }, reward: 'gift' }],
    brands: [{ id: 'pb', points_per_unit: '3' }, { id: 'we' }],
  }));
  const h = host(engine);
  h.send(order('o1', '2026-01-06T10:00:00Z', '100.00', { brand: 'pb' }));
  h.send(order('o2', '2026-01-07T10:00:00Z', '100.00', { brand: 'we' }));
  h.send(order('o3', '2026-01-08T10:00:00Z', '100.00', { brand: 'we' }));
  assert.equal(h.states.c1.balance, 300 + 1000 + 1000);
  assert.deepEqual(h.effects.filter((e) => e.type === 'coupon.issued').map((e) => [e.reward, e.points, e.coupon.value]), [['gift', 0, '10.00']]);
  assert.throws(() => engine.apply(h.states.c1, order('o4', '2026-01-09T10:00:00Z', '1.00', { brand: 'zz' })), (e) => e.path === 'order.brand');
});
