// A generated store history for the import tests: orders, refunds (by line, by amount,
// without customer, before their order), cancellations, adjustments, actions, referrals
// (derived events for the referrer), redemptions, coupon uses, redeliveries, ticks per
// customer and for everyone, over a year and a half, from a seeded generator.
import { readFileSync } from 'node:fs';
import { createEngine } from '../../js/index.js';

const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));

/** The seed program with every rule the history exercises. */
export const richProgram = {
  ...seed,
  actions: { signup: { points: 100, limits: { lifetime: 1 } } },
  referral: { referrer_points: 500, friend_reward: 'welcome' },
  pending: { window: 'P14D' },
  rewards: [...seed.rewards, { id: 'welcome', points: 1, coupon: { type: 'fixed', value: '5.00' } }],
  tiers: { basis: 'spend', window: 'calendar_year', levels: [{ name: 'Bronze', threshold: '0' }, { name: 'Gold', threshold: '900.00', perks: { multiplier: '2' } }] },
};

function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @param {{n?: number, seed?: number, customerTicks?: boolean, everyoneTicks?: boolean, secret: string}} options
 * @returns {object[]} events in order
 */
export function history({ n = 400, seed: s = 7, everyoneTicks = true, secret }) {
  const rnd = mulberry32(s);
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  const customers = Array.from({ length: 12 }, (_, i) => `c${i + 1}`);
  const friends = [];
  const orders = []; // {id, customer, lines}
  const out = [];
  let t = Date.parse('2026-01-01T09:00:00Z');
  let k = 0;
  const at = () => new Date((t += Math.floor(rnd() * 40 * 3600_000))).toISOString().replace('.000Z', '+00:00');
  const price = () => `${5 + Math.floor(rnd() * 55)}.${String(Math.floor(rnd() * 100)).padStart(2, '0')}`;
  const place = (customer, id = `o${++k}`) => {
    const lines = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, j) => ({ id: `l${j + 1}`, sku: `S${j}`, quantity: 1 + Math.floor(rnd() * 3), unit_price: price(), discount: '0.00' }));
    orders.push({ id, customer, lines });
    return { id: `ev-${id}`, type: 'order.placed', at: at(), customer, order: { id, currency: 'EUR', lines, shipping: '4.90', tax: '0.00', taxes_included: true, coupon_codes: [] } };
  };
  // The engine follows along, so coupons can be used soon after they are issued.
  const engine = createEngine(richProgram, { secret });
  const states = {};
  const records = {};
  const coupons = [];
  const push = (e) => {
    out.push(e);
    let r;
    try {
      r = engine.applyBatch([e], { states, orders: records });
    } catch {
      return; // an event the engine rejects (a refund of more than is left): kept, as in real exports
    }
    Object.assign(states, r.states);
    Object.assign(records, r.orders);
    for (const f of r.effects) if (f.type === 'coupon.issued') coupons.push(f);
  };
  while (out.length < n) {
    const r = rnd();
    const c = rnd() < 0.15 && friends.length ? pick(friends) : pick(customers);
    const o = orders.length ? pick(orders) : null;
    let e;
    if (everyoneTicks && out.length % 40 === 39) e = { id: `tick-${k++}`, type: 'clock.tick', at: at() };
    else if (r < 0.40 || !o) e = place(c);
    else if (r < 0.47) e = { id: `rf-${k++}`, type: 'order.refunded', at: at(), order_id: o.id, lines: [{ id: 'l1', quantity: 1 }] };
    else if (r < 0.52) e = { id: `ra-${k++}`, type: 'order.refunded', at: at(), order_id: o.id, amount: '3.00', ...(rnd() < 0.5 ? { customer: o.customer } : {}) };
    else if (r < 0.55) e = { id: `cx-${k++}`, type: 'order.cancelled', at: at(), order_id: o.id };
    else if (r < 0.58) {
      // A refund before its order: recorded as skipped; the order then arrives.
      const id = `late${k++}`;
      push({ id: `rf-${id}`, type: 'order.refunded', at: at(), order_id: id, amount: '1.00' });
      e = place(c, id);
    } else if (r < 0.63) e = { id: `adj-${k++}`, type: 'points.adjusted', at: at(), customer: c, points: rnd() < 0.7 ? 250 : -300, reason: 'service', by: 'staff-1' };
    else if (r < 0.66) e = { id: `su-${k++}`, type: 'action.completed', at: at(), customer: c, action: 'signup', ref: 'web' };
    else if (r < 0.70) {
      const friend = `f${k++}`;
      friends.push(friend);
      e = { id: `ref-${friend}`, type: 'action.completed', at: at(), customer: friend, action: 'referral', ref: pick(customers) };
    } else if (r < 0.75) e = pick(out); // a redelivery
    else if (r < 0.78) e = { id: `tk-${k++}`, type: 'clock.tick', at: at(), customer: c };
    else if (r < 0.81) e = { id: `rd-${k++}`, type: 'reward.redeemed', at: at(), customer: c, reward: 'threshold-10pct' };
    else if (r < 0.83) e = { ...out.find((x) => x.type === 'order.placed' && x.order.id === o.id), id: `again-${k++}`, at: at() }; // same order, another event id
    else if (r < 0.90 && coupons.length) {
      const f = coupons.splice(Math.floor(rnd() * coupons.length), 1)[0];
      e = { id: `use-${f.coupon.code}`, type: 'coupon.used', at: at(), customer: f.customer, code: f.coupon.code, order_id: `o-used-${k++}` };
    } else e = place(c);
    push(e);
  }
  return out;
}

/** Every table a ledger writes, row for row in write order, without clocks or serials. */
export async function dump(db, program) {
  const all = (sql) => db.query(sql, [program]).then((r) => r.rows.map((row) => JSON.parse(JSON.stringify(row))));
  return {
    events: await all('SELECT event_id, customer, type, at, body, result FROM events WHERE program = $1 ORDER BY seq'),
    entries: await all('SELECT id, customer, event_id, type, points::text, balance_after::text, at, data FROM entries WHERE program = $1 ORDER BY seq'),
    outbox: await all('SELECT key, event_id, customer, type, effect, attempts, delivered_at FROM outbox WHERE program = $1 ORDER BY id'),
    coupons: await all('SELECT code, customer, reward, status, order_id, data FROM coupons WHERE program = $1 ORDER BY code'),
    orders: await all('SELECT order_id, customer, record FROM orders WHERE program = $1 ORDER BY order_id'),
    accounts: await all('SELECT customer, state, balance::text, pending::text, tier, next_due, version::text FROM accounts WHERE program = $1 ORDER BY customer'),
  };
}
