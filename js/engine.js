// The engine as JS sees it: objects in, objects out, LoyaltyError on bad input. The rules
// all live in the wasm; this file only converts.
import * as nodeModule from './wasm.js';
import { fromWasm, LoyaltyError } from './errors.js';
import { zoneTable } from './zone.js';

// Inputs may be objects or their JSON text: a host that keeps the text skips a stringify.
const json = (v) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

// An outcome keeps the engine's texts under a symbol: `stateText` / `orderText` read them
// (not enumerable, so spreading or stringifying an outcome is unchanged) and `state` /
// `order` parse them on first read, then become ordinary properties. Shared descriptors,
// no closures per apply (they cost 1.5 us a call), and accessors only: a hidden data
// property cost 0.55 us each, an accessor about 0.3 us.
const TEXTS = Symbol('texts');
const own = (o, key, v) => Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
const lazy = (key, at) => ({
  get() {
    const v = JSON.parse(this[TEXTS][at]);
    own(this, key, v);
    return v;
  },
  set(v) {
    own(this, key, v);
  },
  enumerable: true,
  configurable: true,
});
const text = (at) => ({ get() { return this[TEXTS][at]; }, configurable: true });
const [lazyState, lazyOrder, stateText, orderText] = [lazy('state', 0), lazy('order', 1), text(0), text(1)];

/**
 * The outcome of one apply, from the engine's three texts in one (state, order record,
 * rest; see `Outcome::write_parts`). `state` and `order` are parsed on first read;
 * `stateText` and `orderText` are their texts: a host that stores or passes back the texts
 * never pays for the parse, and the engine recognises its own state text without parsing
 * it. `order` is absent when the event made no order record, as before.
 */
function outcome(out) {
  const i = out.indexOf('\n');
  const j = out.indexOf('\n', i + 1);
  const rest = JSON.parse(out.slice(j + 1));
  rest[TEXTS] = [out.slice(0, i), out.slice(i + 1, j)];
  Object.defineProperty(rest, 'state', lazyState);
  Object.defineProperty(rest, 'stateText', stateText);
  if (j > i + 1) {
    Object.defineProperty(rest, 'order', lazyOrder);
    Object.defineProperty(rest, 'orderText', orderText);
  }
  return rest;
}

const encoder = new TextEncoder();

/**
 * Texts written straight into the wasm's input buffer, for `applyInput`, `applyBatchInput`
 * and `quoteInput` (the cart preview): wasm-bindgen copies a string argument char by char in JS (4 us for a
 * 1.6 KB state), encodeInto natively. Returns their byte lengths.
 */
export function input(memory, inner, texts) {
  let room = 0;
  for (const t of texts) room += t.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
  const at = inner.input(room);
  const bytes = new Uint8Array(memory.buffer, at, room); // after input(): it may grow the memory
  let used = 0;
  const lens = [];
  for (const t of texts) {
    // An absent input ('') is common (no order record, no stock): no call for it.
    const written = t === '' ? 0 : encoder.encodeInto(t, used ? bytes.subarray(used) : bytes).written;
    used += written;
    lens.push(written);
  }
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
 * `createEngine` over a loaded wasm-bindgen module of the engine (`{Engine, memory}`): the
 * Node module (the checkout module cannot apply: it has no ledger exports).
 */
export function engineOver({ Engine, memory }) {
  return (program, options) => create(Engine, memory, program, options);
}

/**
 * Compiles a program once. `secret` keys the coupon codes (keep it out of the program).
 * @param {object|string} program
 * @param {{secret?: string}} [options]
 */
export const createEngine = engineOver(nodeModule);

/** `createEngine` on a new instance of the module: after a trap, the old one is unusable. */
export const createEngineAfresh = async (program, options) => engineOver(await nodeModule.freshModule())(program, options);

function create(Engine, memory, program, { secret = '' } = {}) {
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
      outcome(call(() => inner.applyInput(...input(memory, inner, [json(state), json(order), json(event), json(stock)])))),
    applyBatch: (events, { states, orders, stock } = {}) =>
      JSON.parse(call(() => inner.applyBatchInput(...input(memory, inner, [json(states), json(orders), json(events), json(stock)])))),
    quote: (state, cart) => JSON.parse(call(() => inner.quoteInput(...input(memory, inner, [json(state), json(cart)])))),
    view: (state) => JSON.parse(call(() => inner.view(json(state)))),
    free: () => inner.free(),
  };
}
