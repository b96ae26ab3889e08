// `npm run bench`: wasm size, cold start, and events/s through apply and applyBatch for a
// 3-line order on an account with a year of history, with native Rust on the same workload
// in the same run as the baseline of every ratio.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createEngine, zoneTable } from '../../js/index.js';
import { input } from '../../js/engine.js';
import { Engine as NodeEngine, memory as nodeMemory } from '../../js/wasm.js';
import * as checkout from '../../pkg/loyalty_engine.js';

const root = new URL('../../', import.meta.url).pathname;
const seed = JSON.parse(readFileSync(`${root}presets/seed.json`, 'utf8'));
const engine = createEngine(seed, { secret: 'bench' });
const DAY = 86_400_000;
const iso = (ms) => new Date(ms).toISOString();
const start = Date.parse('2025-01-06T10:00:00Z');

const order = (n, customer, at) => ({
  id: `ev-${customer}-${n}`, type: 'order.placed', at: iso(at), customer,
  order: { id: `o-${customer}-${n}`, currency: 'EUR', shipping: '4.90', lines: [
    { id: 'l1', sku: 'TEE', product_id: '1001', categories: ['apparel'], quantity: 2, unit_price: '24.90', discount: '2.00' },
    { id: 'l2', sku: 'MUG', product_id: '1002', categories: ['home'], quantity: 1, unit_price: '12.50' },
    { id: 'l3', sku: 'CAP', product_id: '1003', categories: ['apparel'], quantity: 3, unit_price: '19.00', discount: '5.70' },
  ] },
});

/** An account after `weeks` of weekly orders, a refund every fifth week and the coupons it earned. */
function history(customer, weeks) {
  let state = null;
  const orders = new Map();
  for (let w = 0; w < weeks; w++) {
    const at = start + w * 7 * DAY;
    const out = engine.apply(state, order(w, customer, at));
    state = out.state;
    orders.set(out.order.id, out.order);
    if (w % 5 === 4) {
      const id = `o-${customer}-${w - 1}`;
      const r = engine.apply(state, { id: `rf-${customer}-${w}`, type: 'order.refunded', at: iso(at + DAY), order_id: id, lines: [{ id: 'l3', quantity: 1 }] }, { order: orders.get(id) });
      state = r.state;
    }
    state = engine.apply(state, { id: `t-${w}`, type: 'clock.tick', at: iso(at + 2 * DAY), customer }).state;
  }
  return { state, end: start + weeks * 7 * DAY };
}

function rate(fn, n) {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i);
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return n / ((performance.now() - t) / 1000);
}

const year = history('c1', 52);
const events = Array.from({ length: 5000 }, (_, i) => order(1000 + i, 'c1', year.end + i * 60_000));

// One apply per event against the same year-old account. The fast path is the one a host
// that stores the engine's text takes: `stateText` in, entries and effects out, the new
// state as text. The engine keeps the accounts it wrote (keyed by their exact JSON), so its
// own text skips parsing. `applyRateObject` passes and reads the state as an object: a
// stringify and a parse in JS, and the stringify gives back the engine's own text, so it is
// still a cache hit. `applyRateMiss` passes a state this engine never wrote (as loaded from a
// store that reorders keys, or written by another process), parsed in full.
const yearText = JSON.stringify(year.state); // the engine's own text: same keys, same order
let sink = 0;
const applyRate = rate((i) => { sink += engine.apply(yearText, events[i % events.length]).stateText.length; }, 50_000);
// The same with the event as JSON text, as the native baseline reads it: like for like.
const eventTexts = events.map((e) => JSON.stringify(e));
const applyRateText = rate((i) => { sink += engine.apply(yearText, eventTexts[i % events.length]).stateText.length; }, 50_000);
// The wasm call alone, texts in and texts out as in the native baseline: no JS objects made.
const raw = new NodeEngine(JSON.stringify(seed), JSON.stringify(zoneTable(seed.timezone)), 'bench');
// A redelivery of the year's last order writes the state back unchanged: now this engine's own text.
raw.applyInput(...input(nodeMemory, raw, [yearText, '', JSON.stringify(order(51, 'c1', start + 51 * 7 * DAY)), '']));
const rawRate = rate((i) => { sink += raw.applyInput(...input(nodeMemory, raw, [yearText, '', eventTexts[i % events.length], ''])).length; }, 50_000);
// What JS alone spends on one apply with an event object, no engine: stringify the event,
// parse the outcome's entries and effects (the state and order stay text).
const applyOut = raw.applyInput(...input(nodeMemory, raw, [yearText, '', eventTexts[0], '']));
const applyRest = applyOut.slice(applyOut.lastIndexOf('\n') + 1);
const applyFloor = rate((i) => { sink += JSON.stringify(events[i % events.length]).length + JSON.parse(applyRest).entries.length; }, 50_000);
// A cart quote on the year-old account: the checkout module (pkg/, size-optimised; what a
// storefront runs, with no ledger exports) against the Node module, same texts in.
checkout.initSync({ module: readFileSync(`${root}pkg/loyalty_engine_bg.wasm`) });
const zoneText = JSON.stringify(zoneTable(seed.timezone));
const cartText = JSON.stringify({ at: iso(start + 53 * 7 * DAY), currency: 'EUR', lines: order(0, 'c1', start).order.lines });
const quoters = { checkout: new checkout.Engine(JSON.stringify(seed), zoneText, ''), node: new NodeEngine(JSON.stringify(seed), zoneText, '') };
const quoteRate = {};
for (const [name, q] of Object.entries(quoters)) quoteRate[name] = rate(() => { sink += q.quote(yearText, cartText).length; }, 20_000);
// Text or objects across the boundary, each call as the shim makes it: JSON text (through the
// input buffer where the shim uses it) and JSON.parse/stringify in JS, or serde-wasm-bindgen
// building and reading JS objects.
const crossing = {
  view: [() => JSON.parse(raw.view(yearText)), () => raw.viewObject(yearText)],
  quote: [() => JSON.parse(raw.quoteInput(...input(nodeMemory, raw, [yearText, cartText]))), () => raw.quoteObject(yearText, cartText)],
  'apply, event in': [
    (i) => raw.applyInput(...input(nodeMemory, raw, [yearText, '', JSON.stringify(events[i % events.length]), ''])),
    (i) => raw.applyObject(yearText, '', events[i % events.length], ''),
  ],
};
const crossingRate = Object.fromEntries(Object.entries(crossing).map(([k, [text, object]]) => {
  assert.deepEqual(object(0), text(0), `${k}: both ways give the same answer`);
  return [k, { text: rate((i) => { sink += text(i) ? 1 : 0; }, 20_000), object: rate((i) => { sink += object(i) ? 1 : 0; }, 20_000) }];
}));
const applyRateObject = rate((i) => { sink += engine.apply(year.state, events[i % events.length]).state.balance; }, 50_000);
const other = createEngine(seed, { secret: 'bench' });
const applyRateMiss = rate((i) => { sink += other.apply(year.state, events[i % events.length]).state.balance; }, 50_000);

// History length must not matter: the same apply on a month-old and a three-year-old account.
const byAge = {};
for (const [name, weeks] of [['1 month', 4], ['1 year', 52], ['3 years', 156]]) {
  const h = history('c1', weeks);
  const evs = events.map((e, i) => ({ ...e, at: iso(h.end + i * 60_000) }));
  const text = JSON.stringify(h.state);
  byAge[name] = { stateBytes: text.length, rate: rate((i) => { sink += engine.apply(text, evs[i % evs.length]).stateText.length; }, 20_000) };
}

// applyBatch: 1,000 events over 100 year-old accounts per call.
const batchStates = {};
for (let c = 0; c < 100; c++) batchStates[`c${c}`] = { ...year.state, customer: `c${c}` };
const batchEvents = Array.from({ length: 1000 }, (_, i) => order(2000 + i, `c${i % 100}`, year.end + i * 60_000));
const batchRounds = 50;
const batchRate = rate(() => engine.applyBatch(batchEvents, { states: batchStates }), batchRounds) * 1000;
const batchText = JSON.stringify(batchEvents);
const batchRateText = rate(() => engine.applyBatch(batchText, { states: batchStates }), batchRounds) * 1000;
const statesText = JSON.stringify(batchStates);
const batchRateRaw = rate(() => { sink += raw.applyBatchInput(...input(nodeMemory, raw, [statesText, '', batchText, ''])).length; }, batchRounds) * 1000;
// What JS alone spends converting one batch, no engine at all: the ceiling of the JS API
// whatever the wasm does. Its output (states, order records, entries, effects; DESIGN.md's
// shapes) is about 1.2 KB per event.
const batchOut = raw.applyBatchInput(...input(nodeMemory, raw, [statesText, '', batchText, '']));
const parseFloor = rate(() => { sink += JSON.parse(batchOut).entries.length; }, batchRounds) * 1000;
const stringifyFloor = rate(() => { sink += JSON.stringify(batchEvents).length; }, batchRounds) * 1000;

// Native baseline: the same workload through the same Rust code, compiled for this machine.
mkdirSync(`${root}target/bench`, { recursive: true });
const workload = `${root}target/bench/workload.json`;
writeFileSync(workload, JSON.stringify({ program: seed, zone: zoneTable(seed.timezone), state: year.state, events: batchEvents.map((e, i) => ({ ...e, customer: 'c1', id: `n${i}`, order: { ...e.order, id: `n${i}` } })), batch_states: batchStates }));
execFileSync('cargo', ['build', '--quiet', '--profile', 'bench-native', '--example', 'bench_native'], { cwd: root, stdio: 'inherit' });
const native = JSON.parse(execFileSync(`${root}target/bench-native/examples/bench_native`, [workload], { encoding: 'utf8' }));

// Cold start: a fresh Node process from import to the first apply's result.
const cold = [];
for (let i = 0; i < 5; i++) {
  const script = `const t=performance.now();const {createEngine}=await import(${JSON.stringify(`${root}js/index.js`)});` +
    `const e=createEngine(${JSON.stringify(JSON.stringify(seed))});e.apply(null,${JSON.stringify(events[0])});console.log(performance.now()-t)`;
  cold.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
}
cold.sort((a, b) => a - b);

const wasm = readFileSync(`${root}pkg/loyalty_engine_bg.wasm`);
const nodeWasm = readFileSync(`${root}pkg/node/loyalty_engine_node_bg.wasm`);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const size = (b) => `${fmt(b.length)} bytes raw, ${fmt(gzipSync(b, { level: 9 }).length)} gzipped`;
const rows = [
  ['browser module size (pkg/, after wasm-opt)', size(wasm), `${(wasm.length / 450_000 * 100).toFixed(0)}% of the 450,000-byte budget`],
  ['Node module size (pkg/node/)', size(nodeWasm), 'no cap: servers'],
  ['cold start, import to first apply', `${cold[2].toFixed(1)} ms (median of 5)`, ''],
  ['native apply, own state text (baseline)', `${fmt(native.apply_cached)} events/s`, '1.00x'],
  ['wasm apply via JS API, 1 call/event, state text', `${fmt(applyRate)} events/s`, `${(native.apply_cached / applyRate).toFixed(2)}x native time`],
  ['  same, event as JSON text (as native reads it)', `${fmt(applyRateText)} events/s`, `${(native.apply_cached / applyRateText).toFixed(2)}x native time`],
  ['  the wasm call alone: texts in, texts out', `${fmt(rawRate)} events/s`, `${(native.apply_cached / rawRate).toFixed(2)}x native time`],
  ['  same, state as an object in and out', `${fmt(applyRateObject)} events/s`, `${(native.apply_cached / applyRateObject).toFixed(2)}x native time`],
  ['JS alone, no engine: stringify the event, parse entries and effects', `${fmt(applyFloor)} events/s`, 'ceiling with event objects'],
  ['native apply, state parsed (baseline)', `${fmt(native.apply)} events/s`, '1.00x'],
  ['wasm apply, state not written by this engine', `${fmt(applyRateMiss)} events/s`, `${(native.apply / applyRateMiss).toFixed(2)}x native time`],
  ['native applyBatch, 1,000 events/call', `${fmt(native.batch)} events/s`, '1.00x'],
  ['wasm applyBatch via JS API', `${fmt(batchRate)} events/s`, `${(native.batch / batchRate).toFixed(2)}x native time`],
  ['  same, events as one JSON text', `${fmt(batchRateText)} events/s`, `${(native.batch / batchRateText).toFixed(2)}x native time`],
  ['  the wasm call alone: texts in, text out', `${fmt(batchRateRaw)} events/s`, `${(native.batch / batchRateRaw).toFixed(2)}x native time`],
  [`JS alone, no engine: JSON.parse of the batch's output (${fmt(batchOut.length / 1000)} B/event)`, `${fmt(parseFloor)} events/s`, 'ceiling of the JS API'],
  ['JS alone, no engine: JSON.stringify of its events', `${fmt(stringifyFloor)} events/s`, 'ceiling with event objects'],
  ...Object.entries(crossingRate).flatMap(([k, r]) => [
    [`${k}: JSON text across the boundary (baseline)`, `${fmt(r.text)} calls/s`, '1.00x'],
    [`  same, JS objects by serde-wasm-bindgen`, `${fmt(r.object)} calls/s`, `${(r.text / r.object).toFixed(2)}x text time`],
  ]),
  ['wasm quote, Node module (baseline)', `${fmt(quoteRate.node)} quotes/s`, '1.00x'],
  ['  same, checkout module (what a storefront runs)', `${fmt(quoteRate.checkout)} quotes/s`, `${(quoteRate.node / quoteRate.checkout).toFixed(2)}x Node module time`],
  ...Object.entries(byAge).map(([k, v]) => [`wasm apply, account with ${k} of history`, `${fmt(v.rate)} events/s (state ${fmt(v.stateBytes)} B)`, `${(byAge['1 month'].rate / v.rate).toFixed(2)}x the 1-month time`]),
];
const w = rows.reduce((m, r) => Math.max(m, r[0].length), 0);
console.log('\nloyalty-engine bench: 3-line order, seed program, account with a year of history\n');
for (const [a, b, c] of rows) console.log(`${a.padEnd(w)}  ${b.padEnd(42)} ${c}`);
