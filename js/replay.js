// Replays a history of events through the engine, keeping accounts and order records in
// memory: the same work a store does, without the store. Events go through `applyBatch`
// in chunks, so only the accounts a chunk touches cross the wasm boundary.
import { orderIdOf } from './engine.js';

const CHUNK = 5000;

/**
 * @param {ReturnType<import('./engine.js').createEngine>} engine
 * @param {Iterable<object>} events in the order they happened
 * @param {{onProgress?: (done: number) => void}} [options]
 * @returns {{customers: Record<string, object>, effects: object[], skipped: object[], states: Map, orders: Map}}
 */
export function replay(engine, events, { onProgress } = {}) {
  const states = new Map();
  const orders = new Map();
  const effects = [];
  const skipped = [];
  let chunk = [];
  let done = 0;

  const flush = () => {
    if (chunk.length === 0) return;
    const needStates = {};
    const needOrders = {};
    const everyone = chunk.some((e) => e.type === 'clock.tick' && !e.customer);
    for (const [c, s] of states) if (everyone) needStates[c] = s;
    for (const e of chunk) {
      if (e.customer && states.has(e.customer)) needStates[e.customer] = states.get(e.customer);
      const id = orderIdOf(e);
      const rec = id != null && orders.get(id);
      if (rec) {
        needOrders[id] = rec;
        if (states.has(rec.customer)) needStates[rec.customer] = states.get(rec.customer);
      }
    }
    const out = engine.applyBatch(chunk, { states: needStates, orders: needOrders });
    for (const [c, s] of Object.entries(out.states)) states.set(c, s);
    for (const [id, o] of Object.entries(out.orders)) orders.set(id, o);
    for (const e of out.effects) effects.push(e);
    for (const s of out.skipped) skipped.push(s);
    done += chunk.length;
    chunk = [];
    onProgress?.(done);
  };

  for (const e of events) {
    chunk.push(e);
    if (chunk.length >= CHUNK) flush();
  }
  flush();

  const customers = {};
  for (const c of [...states.keys()].sort()) customers[c] = engine.view(states.get(c));
  return { customers, effects, skipped, states, orders };
}
