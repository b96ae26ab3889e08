// The engine as JS sees it: objects in, objects out, LoyaltyError on bad input. The rules
// all live in the wasm; this file only converts.
import { Engine, memory } from './wasm.js';
import { fromWasm, LoyaltyError } from './errors.js';
import { zoneTable } from './zone.js';

// Inputs may be objects or their JSON text: a host that keeps the text skips a stringify.
const json = (v) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

// `state` of an outcome: parsed from `stateText` on first read, then an ordinary property.
// One shared descriptor, no closures per apply (those cost 1.5 us of the 30 us of a call).
const own = (o, v) => Object.defineProperty(o, 'state', { value: v, writable: true, enumerable: true, configurable: true });
const lazyState = {
  get() {
    const v = JSON.parse(this.stateText);
    own(this, v);
    return v;
  },
  set(v) {
    own(this, v);
  },
  enumerable: true,
  configurable: true,
};
const stateText = { value: '', writable: true, configurable: true };

/**
 * The outcome of one apply. `state` is parsed from the engine's text on first read and
 * `stateText` (not enumerable) is that text: a host that stores or passes back the text
 * never pays for the parse, and the engine recognises its own text without parsing it.
 */
function outcome(rest, text) {
  stateText.value = text;
  Object.defineProperty(rest, 'stateText', stateText);
  stateText.value = ''; // the descriptor must not keep the last state alive
  return Object.defineProperty(rest, 'state', lazyState);
}

const encoder = new TextEncoder();

/**
 * Texts written straight into the wasm's input buffer, for `applyInput`, `applyBatchInput`
 * and `quoteInput` (the cart preview): wasm-bindgen copies a string argument char by char in JS (4 us for a
 * 1.6 KB state), encodeInto natively. Returns their byte lengths.
 */
function input(inner, texts) {
  let room = 0;
  for (const t of texts) room += t.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
  const at = inner.input(room);
  const bytes = new Uint8Array(memory.buffer, at, room); // after input(): it may grow the memory
  let used = 0;
  const lens = texts.map((t) => {
    const { written } = encoder.encodeInto(t, used ? bytes.subarray(used) : bytes);
    used += written;
    return written;
  });
  return lens;
}

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
    apply: (state, event, { order, stock } = {}) =>
      outcome(JSON.parse(call(() => inner.applyInput(...input(inner, [json(state), json(order), json(event), json(stock)])))), inner.lastState()),
    applyBatch: (events, { states, orders, stock } = {}) =>
      JSON.parse(call(() => inner.applyBatchInput(...input(inner, [json(states), json(orders), json(events), json(stock)])))),
    quote: (state, cart) => JSON.parse(call(() => inner.quoteInput(...input(inner, [json(state), json(cart)])))),
    view: (state) => JSON.parse(call(() => inner.view(json(state)))),
    free: () => inner.free(),
  };
}
