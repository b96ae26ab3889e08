// The engine as JS sees it: objects in, objects out, LoyaltyError on bad input. The rules
// all live in the wasm; this file only converts.
import { Engine } from './wasm.js';
import { fromWasm, LoyaltyError } from './errors.js';
import { zoneTable } from './zone.js';

const json = (v) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function call(fn) {
  try {
    return fn();
  } catch (err) {
    throw fromWasm(err);
  }
}

/** The id of the order an event reads or writes: the host loads that order's record. */
export function orderIdOf(event) {
  return event?.order?.id ?? event?.order_id ?? null;
}

/**
 * Compiles a program once. `secret` keys the coupon codes (keep it out of the program).
 * @param {object|string} program
 * @param {{secret?: string}} [options]
 */
export function createEngine(program, { secret = '' } = {}) {
  const text = json(program);
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LoyaltyError('invalid_program', '', `not JSON: ${err.message}`);
  }
  const zone = zoneTable(parsed?.timezone);
  const inner = call(() => new Engine(text, json(zone), secret));
  return {
    program: parsed,
    apply: (state, event, { order, stock } = {}) => JSON.parse(call(() => inner.apply(json(state), json(order), json(event), json(stock)))),
    applyBatch: (events, { states, orders, stock } = {}) =>
      JSON.parse(call(() => inner.applyBatch(json(states), json(orders), json(events), json(stock)))),
    quote: (state, cart) => JSON.parse(call(() => inner.quote(json(state), json(cart)))),
    view: (state) => JSON.parse(call(() => inner.view(json(state)))),
    free: () => inner.free(),
  };
}
