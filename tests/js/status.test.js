// The status rules through the npm package: ways to earn, referrals, product rules, tiers,
// campaigns and pending points, as the shipped wasm runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEngine, createLoyalty, openMemoryStore, replay } from '../../js/index.js';

const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const order = (id, at, customer, lines) => ({
  id: `ev-${id}`, type: 'order.placed', at, customer,
  order: { id, currency: 'EUR', lines: lines.map(([lid, quantity, unit_price, categories = []]) => ({ id: lid, quantity, unit_price, categories })) },
});

test('tiers upgrade at once, multiply later orders and show their perks in quotes', () => {
  const program = {
    ...seed,
    rewards: [...seed.rewards, { id: 'gold-gift', points: 1, coupon: { type: 'free_shipping' } }],
    tiers: { basis: 'spend', window: 'calendar_year', levels: [
      { name: 'Bronze', threshold: '0' },
      { name: 'Gold', threshold: '500.00', perks: { multiplier: '2', percent_off: '5', free_shipping: true, entry_reward: 'gold-gift' } },
    ] },
  };
  const engine = createEngine(program, { secret: 's' });
  let out = engine.apply(null, order('o1', '2026-03-01T10:00:00+01:00', 'c1', [['a', 1, '600.00']]));
  assert.equal(engine.view(out.state).tier, 'Gold');
  assert.deepEqual(engine.view(out.state).tier_progress, { basis: 'spend', current: '600.00', next_tier: null, needed: '0.00' });
  const bronze = engine.apply(null, order('o0', '2026-03-01T10:00:00+01:00', 'c2', [['a', 1, '120.00']])).state;
  assert.deepEqual(engine.view(bronze).tier_progress, { basis: 'spend', current: '120.00', next_tier: 'Gold', needed: '380.00' });
  assert.ok(out.effects.some((e) => e.type === 'tier.changed' && e.to === 'Gold'));
  assert.ok(out.state.coupons.some((c) => c.reward === 'gold-gift'), 'entry reward');
  out = engine.apply(out.state, order('o2', '2026-03-02T10:00:00+01:00', 'c1', [['a', 1, '10.00']]));
  assert.equal(out.entries[0].points, 200, 'x2 at Gold');
  const q = engine.quote(out.state, { at: '2026-03-03T10:00:00+01:00', currency: 'EUR', lines: [{ id: 'x', quantity: 1, unit_price: '10.00' }] });
  assert.equal(q.points, 200);
  assert.equal(q.perks.percent_off, '5');
  assert.equal(q.perks.free_shipping, true);
});

test('campaigns, product rules and pending points', () => {
  const program = {
    ...seed,
    earn: { ...seed.earn, rules: [{ match: { category: ['gift-card'] }, exclude: true }] },
    campaigns: [{ id: 'weekend', multiplier: '2', weekdays: [6, 7] }],
    pending: { window: 'P14D' },
  };
  const engine = createEngine(program);
  // Saturday in Oslo: x2, and the gift card earns nothing; the points wait 14 days.
  let out = engine.apply(null, order('o1', '2026-03-28T12:00:00+01:00', 'c1', [['a', 1, '10.00'], ['g', 1, '50.00', ['gift-card']]]));
  assert.deepEqual([out.entries[0].type, out.entries[0].points, out.entries[0].pending], ['pending', 0, 200]);
  assert.deepEqual([out.state.balance, out.state.pending], [0, 200]);
  out = engine.apply(out.state, { id: 't1', type: 'clock.tick', at: '2026-04-12T00:00:00+02:00', customer: 'c1' });
  assert.deepEqual([out.entries[0].type, out.state.balance, out.state.pending], ['release', 200, 0]);
});

test('ways to earn and referrals across accounts in one replay', () => {
  const program = {
    ...seed,
    actions: { signup: { points: 100, limits: { lifetime: 1 } } },
    referral: { referrer_points: 500, friend_reward: 'welcome' },
    rewards: [...seed.rewards, { id: 'welcome', points: 1, coupon: { type: 'fixed', value: '5.00' } }],
  };
  const engine = createEngine(program, { secret: 's' });
  const at = (d) => `2026-01-0${d}T10:00:00+01:00`;
  const { customers } = replay(engine, [
    { id: 'a1', type: 'action.completed', at: at(1), customer: 'alice', action: 'signup' },
    { id: 'a2', type: 'action.completed', at: at(2), customer: 'alice', action: 'signup' },
    { id: 'r1', type: 'action.completed', at: at(3), customer: 'bob', action: 'referral', ref: 'alice' },
    order('o1', at(4), 'bob', [['a', 1, '20.00']]),
  ]);
  assert.equal(customers.alice.balance, 100 + 500, 'signup once, then the referral');
  assert.equal(customers.bob.balance, 200);
  assert.equal(customers.bob.coupons[0].value, '5.00', 'the friend\'s welcome coupon');
});

test("a customer with no account is viewed as the engine views a new member, and none is opened", async () => {
  const program = { ...seed, tiers: { basis: 'spend', window: 'calendar_year', levels: [{ name: 'Bronze', threshold: '0' }, { name: 'Gold', threshold: '500.00' }] } };
  const store = openMemoryStore();
  const loyalty = createLoyalty({ program, store, secret: 's' });
  assert.equal(await loyalty.account('new'), null);
  const view = await loyalty.account('new', { orNew: true });
  assert.deepEqual(view, createEngine(program, { secret: 's' }).view({ customer: 'new', balance: 0 }));
  // Spend is an amount in the program's currency, as for any account.
  assert.deepEqual(view.tier_progress, { basis: 'spend', current: '0.00', next_tier: 'Gold', needed: '500.00' });
  assert.equal(await loyalty.account('new'), null);
  await loyalty.close();
});
