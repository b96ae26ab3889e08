// The engine through the npm package's JS API: objects in and out, LoyaltyError with code
// and path, time-zone tables from Intl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createEngine, LoyaltyError, zoneTable, replay } from '../../js/index.js';
import { Engine as NodeEngine } from '../../js/wasm.js';
import { initSync, Engine as CheckoutEngine } from '../../pkg/loyalty_engine.js';
import { history, richProgram } from './history.js';

const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const order = (id, at, customer, lines) => ({
  id: `ev-${id}`, type: 'order.placed', at, customer,
  order: { id, currency: 'EUR', lines: lines.map(([lid, quantity, unit_price, discount = '0']) => ({ id: lid, quantity, unit_price, discount })) },
});

test('earns, rewards and views through the JS API', () => {
  const engine = createEngine(seed, { secret: 's' });
  let out = engine.apply(null, order('o1', '2026-11-30T12:00:00+01:00', 'c1', [['a', 2, '129.90', '10.00']]));
  assert.equal(out.state.balance, 2498);
  assert.equal(out.order.earned, 2498);
  out = engine.apply(out.state, order('o2', '2026-11-30T13:00:00+01:00', 'c1', [['a', 1, '300.00']]));
  assert.deepEqual(out.entries.map((e) => [e.type, e.points, e.balance_after]), [['earn', 3000, 5498], ['redeem', -5000, 498]]);
  const view = engine.view(out.state);
  assert.deepEqual(view.next_expiry, { points: 498, at: '2027-11-30T23:59:59.999+01:00' });
  assert.match(view.coupons[0].code, /^LOY-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  const q = engine.quote(out.state, { at: '2026-12-01T10:00:00+01:00', currency: 'EUR', lines: [{ id: 'x', quantity: 1, unit_price: '150.00' }] });
  assert.deepEqual(q.coupons.map((c) => [c.usable, c.discount]), [[true, '15.00']]);
  assert.equal(q.points, 1500);
});

test('the state as text: stateText passed back gives what the object gives', () => {
  const engine = createEngine(seed, { secret: 's' });
  const first = engine.apply(null, order('o1', '2026-11-30T12:00:00+01:00', 'c1', [['a', 2, '129.90']]));
  assert.equal(typeof first.stateText, 'string');
  assert.deepEqual(JSON.parse(first.stateText), first.state);
  assert.ok(!Object.keys(first).includes('stateText'), 'not enumerable: stores that spread outcomes are unchanged');
  assert.equal(JSON.parse(JSON.stringify(first)).state.balance, 2598, 'the lazy state is serialised');
  const next = order('o2', '2026-11-30T13:00:00+01:00', 'c1', [['a', 1, '300.00']]);
  const byText = engine.apply(first.stateText, next);
  const byObject = createEngine(seed, { secret: 's' }).apply(first.state, next);
  assert.equal(byText.stateText, byObject.stateText);
  assert.deepEqual(byText.entries, byObject.entries);
  assert.equal(byText.state.balance, 598);
  // A host may replace the state on the outcome; the text keeps what the engine wrote.
  byText.state = { edited: true };
  assert.deepEqual(byText.state, { edited: true });
  assert.equal(JSON.parse(byText.stateText).balance, 598);
});

test('state texts passed back give what a parsed state gives, whether the engine still keeps them or not', () => {
  // The reference engine always parses: its states go in indented, never its own text.
  // 40 customers interleaved: the previous round's texts are still kept (64), so those
  // calls skip the parse; 100: they are gone and are parsed again. Round 2's outcome is
  // dropped for half the customers, so round 3 applies to an older text too.
  for (const customers of [40, 100]) {
    const byText = createEngine(seed, { secret: 's' });
    const reference = createEngine(seed, { secret: 's' });
    const texts = new Map();
    for (let round = 0; round < 4; round++) {
      for (let c = 0; c < customers; c++) {
        const id = `c${c}`;
        const e = order(`o${round}-${c}`, `2026-11-${10 + round}T12:00:00+01:00`, id, [['a', 1 + c % 3, '99.90']]);
        const text = texts.get(id) ?? null;
        const t = byText.apply(text, e);
        const r = reference.apply(text && JSON.stringify(JSON.parse(text), null, 1), e);
        assert.equal(t.stateText, r.stateText);
        assert.deepEqual(t.entries, r.entries);
        assert.deepEqual(t.effects, r.effects);
        if (round !== 2 || c % 2) texts.set(id, t.stateText);
      }
    }
  }
});

test('texts beyond ASCII cross into the wasm intact, one at a time and in batches', () => {
  const engine = createEngine(seed, { secret: 's' });
  const customer = 'Zoë-客户-🎉';
  const first = engine.apply(null, order('o-ü', '2026-11-30T12:00:00+01:00', customer, [['ä', 1, '10.00']]));
  assert.equal(first.state.customer, customer);
  assert.equal(first.order.id, 'o-ü');
  const next = engine.apply(first.stateText, order('o-🎉', '2026-11-30T13:00:00+01:00', customer, [['ö', 1, '20.00']]));
  assert.equal(next.state.balance, 300);
  const batch = engine.applyBatch([order('o-ß', '2026-11-30T14:00:00+01:00', customer, [['x', 1, '5.00']])], { states: { [customer]: next.state } });
  assert.equal(batch.states[customer].balance, 350);
});

test('refunds need the stored order record, as the host keeps it', () => {
  const engine = createEngine(seed);
  const placed = engine.apply(null, order('o1', '2026-11-30T12:00:00+01:00', 'c1', [['a', 4, '25.00']]));
  const refund = { id: 'r1', type: 'order.refunded', at: '2026-12-01T12:00:00+01:00', order_id: 'o1', lines: [{ id: 'a', quantity: 1 }] };
  const out = engine.apply(placed.state, refund, { order: placed.order });
  assert.equal(out.entries[0].points, -250);
  assert.equal(out.order.reversed, 250);
  const unknown = engine.apply(placed.state, { ...refund, id: 'r2', customer: 'c1' });
  assert.match(unknown.skipped, /not in the ledger/);
});

test('bad input throws LoyaltyError naming the field, and the engine keeps working', () => {
  assert.throws(() => createEngine({ ...seed, rewards: [{ id: 'r', points: 5, coupon: { type: 'percnt', value: '5' } }] }), (err) => {
    assert.ok(err instanceof LoyaltyError && err instanceof Error);
    assert.equal(err.code, 'invalid_program');
    assert.equal(err.path, 'rewards[0].coupon.type');
    assert.match(err.message, /^rewards\[0\]\.coupon\.type: unknown variant "percnt", expected one of percent, fixed, free_shipping, free_product$/);
    return true;
  });
  assert.throws(() => createEngine({ ...seed, timezone: 'Mars/Olympus' }), { code: 'invalid_program', path: 'timezone' });
  assert.throws(() => createEngine('{not json'), { code: 'invalid_program' });
  const engine = createEngine(seed);
  const bad = order('o1', '2026-11-30T12:00:00+01:00', 'c1', [['a', 1, '9.999']]);
  assert.throws(() => engine.apply(null, bad), { code: 'invalid_event', path: 'order.lines[0].unit_price' });
  assert.throws(() => engine.apply({ customer: 'c1', balance: 10 }, order('o2', '2026-11-30T12:00:00+01:00', 'c1', [['a', 1, '1.00']])), { code: 'invalid_state' });
  assert.equal(engine.apply(null, order('o3', '2026-11-30T12:00:00+01:00', 'c1', [['a', 1, '1.00']])).state.balance, 10);
});

test('zone tables from Intl match the real offsets', () => {
  const oslo = zoneTable('Europe/Oslo');
  const at = (iso) => oslo.changes.find(([t]) => t === Date.parse(iso) / 1000)?.[1];
  assert.equal(at('2026-03-29T01:00:00Z'), 7200, 'CEST from the last Sunday of March, 01:00 UTC');
  assert.equal(at('2026-10-25T01:00:00Z'), 3600);
  const kolkata = zoneTable('Asia/Kolkata');
  assert.deepEqual([kolkata.offset, kolkata.changes], [19800, []], 'half-hour offsets survive');
  assert.equal(zoneTable('Australia/Adelaide').changes.find(([t]) => t === Date.parse('2026-10-03T16:30:00Z') / 1000)?.[1], 37800);
  assert.equal(zoneTable('UTC'), null);
  assert.throws(() => zoneTable('Nowhere/Land'), { code: 'invalid_program', path: 'timezone' });
  // A zone west of UTC: an order at 23:30 local on Dec 31 expires at the end of that local day.
  const ny = createEngine({ ...seed, timezone: 'America/New_York', expiry: { mode: 'per_lot', after: 'P1Y' } });
  const out = ny.apply(null, order('o1', '2027-01-01T04:30:00Z', 'c1', [['a', 1, '1.00']]));
  assert.equal(ny.view(out.state).next_expiry.at, '2027-12-31T23:59:59.999-05:00');
});

test('applyBatch and replay give the same accounts as one apply per event', () => {
  const engine = createEngine(seed, { secret: 's' });
  const events = [];
  for (let i = 0; i < 300; i++) events.push(order(`o${i}`, `2026-0${1 + (i % 9)}-1${i % 10}T12:00:00+01:00`, `c${i % 7}`, [['a', 1 + (i % 3), '33.30', '1.00']]));
  const one = new Map();
  for (const e of events) one.set(e.customer, engine.apply(one.get(e.customer) ?? null, e).state);
  const { customers } = replay(engine, events);
  for (const [c, s] of one) assert.deepEqual(customers[c], engine.view(s), c);
  const batch = engine.applyBatch(events.slice(0, 10));
  assert.equal(Object.keys(batch.orders).length, 10);
  assert.throws(() => engine.applyBatch([events[0], { ...events[1], type: 'order.shiped' }]), { path: '[1].type' });
});

test('the checkout module quotes and views every state of a history as the Node module does', () => {
  initSync({ module: readFileSync(new URL('../../pkg/loyalty_engine_bg.wasm', import.meta.url)) });
  const program = JSON.stringify(richProgram);
  const zone = JSON.stringify(zoneTable(richProgram.timezone));
  const node = new NodeEngine(program, zone, 's');
  // A storefront holds no coupon secret: the checkout module is made without one.
  const checkout = new CheckoutEngine(program, zone, '');
  assert.equal(typeof checkout.apply, 'undefined', 'the checkout module cannot write the ledger');
  const events = history({ n: 600, secret: 's' });
  const states = new Map();
  const orders = new Map();
  let compared = 0;
  const both = (fn) => [checkout, node].map((engine) => {
    try {
      return fn(engine);
    } catch (err) {
      return `error ${err.message}`;
    }
  });
  for (const e of events) {
    const customer = e.customer ?? orders.get(e.order_id)?.customer;
    let out;
    try {
      out = node.apply(states.get(customer) ?? '', orders.get(e.order?.id ?? e.order_id)?.text ?? '', JSON.stringify(e), '');
    } catch {
      continue;
    }
    if (!customer) continue;
    const [state, order] = out.split('\n');
    states.set(customer, state);
    if (order) orders.set(JSON.parse(order).id, { customer, text: order });
    const cart = JSON.stringify({ at: e.at, currency: richProgram.currency, lines: [{ id: 'q1', sku: 'SKU-1', quantity: 2, unit_price: '74.50' }] });
    const [viewA, viewB] = both((engine) => engine.view(state));
    const [quoteA, quoteB] = both((engine) => engine.quote(state, cart));
    assert.equal(viewA, viewB, `view after ${e.id}`);
    assert.equal(quoteA, quoteB, `quote after ${e.id}`);
    assert.ok(!viewA.startsWith('error') && !quoteA.startsWith('error'), `${e.id}: ${viewA} ${quoteA}`);
    compared++;
  }
  assert.ok(compared > 500, `${compared} states compared`);
});

test('the shipped browser module stays within its 450,000-byte budget', () => {
  const size = statSync(new URL('../../pkg/loyalty_engine_bg.wasm', import.meta.url)).size;
  assert.ok(size <= 450_000, `pkg/loyalty_engine_bg.wasm is ${size} bytes`);
});
