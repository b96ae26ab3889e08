// The durable loyalty engine: every event is applied by the wasm engine and written in one
// store transaction, so the ledger, the outbox, coupons, orders and the account move
// together, and the event id makes redelivery a no-op that returns the first result. SQL
// stores run the engine outside the transaction and write only if what it read is unchanged
// (`optimistic`); otherwise the engine runs inside it, under the locks (`applyIn`).
import { createHmac, randomUUID } from 'node:crypto';
import { createEngine, createEngineAfresh, orderIdOf } from './engine.js';
import { replay } from './replay.js';
import { importEvents, isTick } from './import.js';
import { LoyaltyError } from './errors.js';

const NEEDS_ORDER = new Set(['order.refunded', 'order.cancelled']);

// What a refund or cancellation answers while its order has not arrived.
const parkedResult = (event, orderId) =>
  ({ event: event.id, customer: event.customer ?? null, entries: [], effects: [], parked: `order ${orderId} is not in the ledger yet: applied when it arrives` });

// Events the engine derived for other accounts (a referrer's reward); none for a redelivery.
const derived = (result) => (result && !result.duplicate ? (result.effects ?? []).filter((f) => f.type === 'event').map((f) => f.event) : []);

function checkCustomer(customer, path = 'customer') {
  if (typeof customer !== 'string' || customer === '') {
    throw new LoyaltyError('invalid_event', path, `must be a non-empty string (ids beyond 2^53 lose digits as numbers), got ${typeof customer}`);
  }
}

function checkEvent(event) {
  if (event == null || typeof event !== 'object') throw new LoyaltyError('invalid_event', '', 'must be an object');
  if (typeof event.id !== 'string' || event.id === '') throw new LoyaltyError('invalid_event', 'id', 'must be a non-empty string');
  if (event.customer !== undefined) checkCustomer(event.customer);
  // The year 9999 parses, but no date arithmetic or column should meet it: beyond these
  // bounds an event is a mistake, refused once, not a failure retried forever.
  if (typeof event.at === 'string') {
    const t = Date.parse(event.at);
    if (Number.isFinite(t) && (t < EARLIEST || t > LATEST)) throw new LoyaltyError('invalid_event', 'at', `${event.at} is outside 1970-01-01 to 2199-12-31`);
  }
}
const EARLIEST = 0;
const LATEST = Date.UTC(2199, 11, 31, 23, 59, 59);

const toIso = (now) => {
  const d = now instanceof Date ? now : new Date(now ?? Date.now());
  if (Number.isNaN(d.getTime())) throw new LoyaltyError('invalid_time', 'now', `not a time: ${now}`);
  return d.toISOString();
};

// Key order is not preserved by jsonb: compare states by content.
const canonical = (v) =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]`
  : v && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`
  : JSON.stringify(v ?? null);

/**
 * @param {{program: object|string, store: object, secret?: string}} options
 * @example
 *   const loyalty = createLoyalty({ program, store: await openPgliteStore({ dataDir }), secret });
 *   await loyalty.handle({ id: 'e1', type: 'order.placed', at, customer: 'c1', order });
 */
export function createLoyalty({ program, store, secret = '' }) {
  let engine = createEngine(program, { secret });
  // Anything the engine throws that is not a LoyaltyError is a trap (out of memory, a bug):
  // that wasm instance cannot be trusted again, so the next call gets a new one.
  let broken = false;
  async function renew() {
    const fresh = await createEngineAfresh(program, { secret });
    try { engine.free(); } catch { /* the broken instance may not even free */ }
    engine = fresh;
    broken = false;
  }
  // The engine to call now: a trapped one is replaced first.
  async function live() {
    if (broken) await renew();
    return engine;
  }
  const trapped = (err) => !(err instanceof LoyaltyError) && (err instanceof WebAssembly.RuntimeError || err?.name === 'RuntimeError' || /unreachable|memory access out of bounds|recursive use/.test(String(err?.message)));
  const P = engine.program.id;
  // Rewards with a program-wide stock: redeeming one needs the count issued so far.
  const stocked = new Set((engine.program.rewards ?? []).filter((r) => r.stock != null).map((r) => r.id));
  const needsStock = (event) => event.type === 'reward.redeemed' && stocked.has(event.reward);

  const again = (stored) => ({ ...stored.result, duplicate: true });

  // The body of one transaction. `due` is set for ticks: lock only if still due and free.
  async function applyIn(tx, event, { due } = {}) {
    const orderId = orderIdOf(event);
    // SQL stores do the first steps in two round trips (begin, orderAndAccount); the
    // memory store takes the step-by-step path below.
    if (tx.begin) {
      const first = await tx.begin(P, event.id, orderId);
      if (first) return again(first);
      if (event.customer !== undefined && !due) {
        const both = await tx.orderAndAccount(P, orderId, event.customer);
        if (both && !(NEEDS_ORDER.has(event.type) && !both.order)) return (await applyAndRecord(tx, event, event.customer, both.account.state, both.order)).result;
      }
    } else {
      const first = await tx.findEvent(P, event.id);
      if (first) return again(first);
      if (orderId != null) await tx.lockOrder(P, orderId);
    }
    const order = orderId == null ? null : await tx.findOrder(P, orderId);
    if (!order && orderId != null && NEEDS_ORDER.has(event.type) && tx.park) {
      // Platforms do not deliver in order: a refund can come before its order. Parked
      // under the order's lock, it is applied right after the order (see `handle`), and
      // its event id stays unused until then.
      await tx.park(P, orderId, event);
      return parkedResult(event, orderId);
    }
    const customer = event.customer ?? order?.customer;
    if (!customer) {
      if (orderId == null || !NEEDS_ORDER.has(event.type)) engine.apply(null, event, {}); // throws the engine's error
      // Recorded, so a redelivery gets the same answer and rebuild sees the same skip.
      const result = { event: event.id, customer: null, entries: [], effects: [], skipped: `order ${orderId} is not in the ledger: no customer to apply it to` };
      await tx.record(P, { event, customer: null, result });
      return result;
    }
    const row = due ? await tx.lockDue(P, customer, event.at) : await tx.lockAccount(P, customer);
    if (!row) return null;
    // A concurrent delivery of this event that committed while we waited for the account
    // lock makes the events insert fail with 23505; run() then returns its result.
    return (await applyAndRecord(tx, event, customer, row.state, order)).result;
  }

  // The engine on one account: the result to answer with and everything to write.
  function compute(event, customer, state, order, stock) {
    // As replay does: an order record of another customer is not this event's order.
    const record = order?.customer === customer ? order.record : null;
    const out = engine.apply(state, event, { order: record, stock });
    const result = {
      event: event.id,
      customer,
      balance: out.state.balance,
      entries: out.entries,
      effects: out.effects,
      ...(out.skipped ? { skipped: out.skipped } : {}),
      ...(out.duplicate ? { skipped: 'already applied to this account' } : {}),
    };
    // `stateText` and `orderText` are the engine's own JSON: a SQL store binds them as is.
    // `order` stays lazy: a store that takes `orderText` never parses the record.
    const written = { event, customer, result, state: out.state, stateText: out.stateText, get order() { return out.order; }, orderText: out.orderText, entries: out.entries, effects: out.effects };
    return { result, written, out };
  }

  // Applies one event to a locked account and writes everything it did.
  async function applyAndRecord(tx, event, customer, state, order) {
    const stock = needsStock(event) ? { [event.reward]: await tx.rewardStock(P, event.reward) } : undefined;
    const done = compute(event, customer, state, order, stock);
    await tx.record(P, done.written);
    return done;
  }

  // SQL stores: one read, the engine, one write, no transaction held in between. The write
  // takes the locked path's locks and writes only if the account and the order are still as
  // read. Null sends the event down the locked path: no account yet, a stock-limited
  // redemption (its count is read under a lock), a change in between, or an engine error
  // (which the locked path, on current data, gives again if it is real).
  async function optimistic(event) {
    if (!store.peek || event.customer === undefined || needsStock(event)) return null;
    const orderId = orderIdOf(event);
    const seen = await store.peek(P, event.id, orderId, event.customer);
    if (seen.found) return again(seen.found);
    if (!seen.account || (NEEDS_ORDER.has(event.type) && !seen.order)) return null;
    let done;
    try {
      done = compute(event, event.customer, seen.account.state, seen.order);
    } catch {
      return null;
    }
    const check = { orderId, version: seen.account.version, orderTag: seen.order?.tag ?? null };
    return (await store.recordIfUnchanged(P, done.written, check)) ? done.result : null;
  }

  async function run(event, options) {
    try {
      return (!options?.due && (await optimistic(event))) || (await store.transaction((tx) => applyIn(tx, event, options)));
    } catch (err) {
      // Two deliveries raced past the check: the loser rolled back (on the events primary
      // key, 23505, or on an engine error from applying it to the winner's state); the
      // winner's result is the answer.
      const stored = await store.event(P, event.id).catch(() => null);
      if (stored) return again(stored);
      throw err;
    }
  }

  /** Applies one event durably; a redelivery returns the first result with `duplicate`. */
  async function handle(event) {
    await live();
    try {
      return await handleOn(event);
    } catch (err) {
      if (trapped(err)) broken = true;
      throw err;
    }
  }

  /**
   * The health check's canary: the engine applies a fixed event (nothing is stored). A
   * trapped instance is replaced and tried once more; true when the engine answers.
   */
  async function canary() {
    const event = { id: 'health:canary', type: 'points.adjusted', at: '2026-01-01T00:00:00Z', customer: 'health-check', points: 1, reason: 'canary', by: 'health' };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return (await live()).apply(null, event).state.balance === 1;
      } catch (err) {
        if (err instanceof LoyaltyError) return false;
        broken = true;
      }
    }
    return false;
  }

  async function handleOn(event) {
    checkEvent(event);
    if (isTick(event)) return tick(event.at);
    // The first read (peek, or the transaction's first statement) finds a redelivery.
    const result = await run(event);
    // Derived events follow in their own transactions; each is idempotent by its id, so a
    // retry after a crash is safe.
    for (const e of derived(result)) await handle(e);
    if (event.type === 'order.placed' && result && !result.duplicate) await unpark(event.order?.id);
    return result;
  }

  // Applies the events parked for an order, in their order of arrival. Each is removed only
  // after it is applied, and applying is idempotent by event id: a crash in between applies
  // nothing twice.
  async function unpark(orderId) {
    if (!store.parked || orderId == null) return;
    for (const body of await store.parked(P, { orderId })) {
      await run(body);
      await store.unpark(P, body.id);
    }
  }

  /** Events waiting for their order: [{event, order_id, parked_at}] (the admin shows them). */
  const parked = async () => (store.parked ? store.parked(P, { withMeta: true }) : []);

  /**
   * Ticks every account due by `now`. Candidates come from the (program, next_due) index
   * in batches; each is applied in its own transaction that locks the row with
   * SKIP LOCKED and re-checks that it is still due, so several tickers share the work.
   * Each account gets its own event `tick:<iso now>:<customer>` (with `customer` set),
   * stored in `events` like any other: entry ids, notification keys and coupon codes all
   * derive from the event id and must differ per account, and rebuild replays it.
   */
  async function tick(now, { batch = 100 } = {}) {
    const at = toIso(now);
    const summary = { at, due: 0, ticked: 0, skipped: 0, errors: [] };
    // A parked event whose order arrived by a path that did not drain it (an import).
    for (const orderId of store.parkedReady ? await store.parkedReady(P) : []) await unpark(orderId);
    let after = null;
    for (;;) {
      const due = await store.due(P, at, { after, limit: batch });
      if (due.length === 0) return summary;
      after = due[due.length - 1];
      summary.due += due.length;
      for (const { customer } of due) {
        const event = { id: `tick:${at}:${customer}`, type: 'clock.tick', at, customer };
        try {
          const r = await run(event, { due: true });
          if (r && !r.duplicate) summary.ticked++;
          else summary.skipped++;
        } catch (err) {
          // One broken account must not stop the others.
          summary.errors.push({ customer, code: err.code ?? 'error', message: err.message });
        }
      }
    }
  }

  /**
   * Handles events in order, each in its own transaction, and stops at the first failure:
   * history is order-dependent, so the events after it are not applied. The failure is the
   * last result, with its `index` in the batch; the events before it stay applied, and
   * sending the batch again after a fix applies the rest (event ids dedupe).
   */
  async function handleMany(events) {
    const out = [];
    let index = 0;
    for (const e of events) {
      try {
        out.push(await handle(e));
      } catch (err) {
        out.push({ event: e?.id ?? null, index, error: { code: err.code ?? 'error', path: err.path ?? '', message: err.message } });
        break;
      }
      index++;
    }
    return out;
  }

  // One event and the events it derives, inside a caller's transaction (a bulk import's
  // chunk), in the order handle applies them.
  // `held`: an import's refunds and cancellations whose order has not come yet, by order id.
  // They are applied right after their order, as `handle` applies parked events; kept
  // until the import ends (a chunk applied again after a conflict meets them again, and
  // their event ids make the second application a duplicate).
  async function applyOne(tx, event, held) {
    checkEvent(event);
    const orderId = orderIdOf(event);
    if (held && orderId != null && NEEDS_ORDER.has(event.type) && !(await tx.findOrder(P, orderId))) {
      if (!held.has(orderId)) held.set(orderId, new Map());
      held.get(orderId).set(event.id, event);
      return parkedResult(event, orderId);
    }
    const result = await applyIn(tx, event);
    for (const e of derived(result)) await applyOne(tx, e, held);
    if (held && event.type === 'order.placed' && !result?.duplicate) {
      for (const e of held.get(event.order.id)?.values() ?? []) await applyOne(tx, e, held);
    }
    return result;
  }

  /**
   * Imports a history at bulk speed: chunks of events, one transaction each, with the
   * outcome handle gives event by event (see import.js for chunks and bad events).
   * @param {object[]} events
   * @param {{chunk?: number, onError?: 'stop'|'skip', onProgress?: (done: number) => void}} [options]
   */
  async function importMany(events, options) {
    const held = new Map();
    const summary = await importEvents({ store, program: P, applyOne: (tx, e) => applyOne(tx, e, held), handle, tick }, events, options);
    // Whatever still waits for its order is parked as a webhook's would be.
    if (store.parked) {
      for (const [orderId, waiting] of held) {
        for (const e of waiting.values()) {
          if (!(await store.event(P, e.id))) await store.transaction((tx) => tx.park(P, orderId, e));
        }
      }
    }
    return summary;
  }

  /**
   * Recomputes every account from the stored events with an in-memory replay and lists
   * the accounts whose stored state differs (or exists on one side only).
   */
  async function rebuild() {
    const bodies = [];
    for (let after = 0; ;) {
      const page = await store.events(P, { after });
      if (page.length === 0) break;
      for (const e of page) bodies.push(e.body);
      after = page[page.length - 1].seq;
    }
    const { states } = replay(engine, bodies);
    const differences = [];
    let accounts = 0;
    for (let after = ''; ;) {
      const page = await store.accounts(P, { after });
      if (page.length === 0) break;
      for (const a of page) {
        accounts++;
        const rebuilt = states.get(a.customer) ?? null;
        states.delete(a.customer);
        const fields = diffFields(a.state, rebuilt);
        if (a.state && a.balance !== a.state.balance) fields.push('balance column');
        if (fields.length) differences.push({ customer: a.customer, fields, stored: a.state, rebuilt });
      }
      after = page[page.length - 1].customer;
    }
    for (const [customer, rebuilt] of states) differences.push({ customer, fields: ['missing'], stored: null, rebuilt });
    return { events: bodies.length, accounts, differences };
  }

  const quote = async (customer, cart) => {
    if (customer != null) checkCustomer(customer);
    const state = customer == null ? null : await store.account(P, customer);
    return (await live()).quote(state, cart);
  };

  /** The account view, or null without an account; `orNew` views one as a new member's. */
  async function account(customer, { orNew = false } = {}) {
    checkCustomer(customer);
    const state = (await store.account(P, customer)) ?? (orNew ? { customer, balance: 0 } : null);
    return state ? (await live()).view(state) : null;
  }

  async function history(customer, { cursor = null, limit = 50 } = {}) {
    checkCustomer(customer);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new LoyaltyError('invalid_request', 'limit', 'must be an integer from 1 to 1000');
    if (cursor != null && !/^\d+$/.test(String(cursor))) throw new LoyaltyError('invalid_request', 'cursor', 'is not a cursor from a previous page');
    return store.history(P, customer, { cursor: cursor == null ? null : String(cursor), limit });
  }

  // Staff and storefront actions become events like any other: id for idempotency, the
  // host's clock for `at` (the engine has none).
  function adjust(customer, { points, reason, by, id, at } = {}) {
    checkCustomer(customer);
    return handle({ id: id ?? `adjust:${randomUUID()}`, type: 'points.adjusted', at: toIso(at), customer, points, reason, by });
  }

  function redeem(customer, { reward, id, at } = {}) {
    checkCustomer(customer);
    return handle({ id: id ?? `redeem:${randomUUID()}`, type: 'reward.redeemed', at: toIso(at), customer, reward });
  }

  /** A coupon by its code: {code, customer, reward, status, order_id, ...as issued}, or null. */
  async function coupon(code) {
    if (typeof code !== 'string' || code === '') throw new LoyaltyError('invalid_request', 'code', 'must be a non-empty string');
    return store.coupon(P, code);
  }

  /** Points donated per charity, for payout: [{charity, name, points, donations}]. */
  async function donations() {
    const names = new Map((engine.program.donations?.charities ?? []).map((c) => [c.id, c.name ?? c.id]));
    return (await store.donations(P)).map((d) => ({ ...d, name: names.get(d.charity) ?? d.charity }));
  }

  // --- compliance (GDPR; Shopify customers/redact, customers/data_request, shop/redact) ---
  //
  // What the ledger stores about a customer is the platform's opaque customer id plus what
  // the events carried (canonical events have no names, emails or addresses); the
  // notification tables add a contact (email, phone, name) and push subscriptions, which
  // redact deletes outright. Erasure of the ledger therefore PSEUDONYMISES: the id is
  // replaced, everywhere, by `anon-<HMAC-SHA256(secret, id)>` (the program secret keys it,
  // so nobody without it can re-identify the id by hashing candidates; the same customer
  // always maps to the same anonymous id). The ledger is kept, balanced, for the merchant's
  // accounting.
  //
  // Event ids that embed the customer (ticks: `tick:<at>:<customer>`, or any id with the
  // customer as a `:`-separated segment) are rewritten too, and the engine derives entry
  // ids and coupon codes from event ids. So redact does not patch rows: it takes the
  // customer's events in their order, rewrites them, deletes every row of the customer
  // (events, entries, outbox and their deliveries, coupons, orders, account, notification
  // contact, push subscriptions) and re-applies the rewritten events through the engine in
  // the same transaction. `balance == sum(entries)` and `rebuild`
  // stay exact by construction (accounts are independent, so replaying them after the
  // others gives the same states). Event ids that did not embed the customer (orders,
  // refunds) are unchanged, so a late redelivery of an old webhook still dedupes and
  // awards nothing. Pending notifications are not re-queued: there is nobody to notify.
  // Free text in `reason` fields is the merchant's; it is kept as written.

  const anonymousId = (customer) => `anon-${createHmac('sha256', `loyalty-redact:${secret}`).update(customer).digest('hex').slice(0, 32)}`;

  // Every string equal to the customer id (its own `customer`, a referral's `ref`), and
  // every `:`-separated run of an event id equal to it (ids may contain `:` themselves).
  function pseudonymise(value, customer, anon) {
    if (typeof value === 'string') return value === customer ? anon : value;
    if (Array.isArray(value)) return value.map((v) => pseudonymise(v, customer, anon));
    if (value && typeof value === 'object') {
      const out = {};
      for (const [k, v] of Object.entries(value)) out[k] = pseudonymise(v, customer, anon);
      return out;
    }
    return value;
  }
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const idPattern = (customer) => `(^|:)${escapeRe(customer)}(?=:|$)`;
  const rewriteId = (id, customer, anon) => id.replace(new RegExp(idPattern(customer), 'g'), (_, a) => `${a}${anon}`);

  /**
   * Erases a customer's identity, keeping the anonymised ledger. The accounts whose events
   * name the customer (a referrer's `referral:<friend>:qualified`, a friend's `ref`) are
   * re-applied too, so the id survives nowhere: not in ids, refs, entry reasons or states.
   * Re-applied outbox rows are settled (they went out the first time), and who cancelled
   * a coupon and why, and its store sync, are carried over.
   */
  async function redact(customer) {
    checkCustomer(customer);
    const anon = anonymousId(customer);
    if (anon === customer) return { customer, anonymous: anon, events: 0, balance: null };
    return store.transaction(async (tx) => {
      const others = tx.mentioning ? await tx.mentioning(P, customer, idPattern(customer)) : [];
      // Every account's events, erased, then applied again in their original order across
      // accounts: a friend's order derives the referrer's event, so interleaving matters.
      const all = [];
      const notes = [];
      for (const who of [customer, ...others]) {
        if (tx.couponNotes) notes.push(...(await tx.couponNotes(P, who)));
        const rows = await tx.eraseCustomer(P, who, { keepContact: who !== customer, withSeq: true });
        rows.forEach((r, i) => all.push({ seq: r.seq ?? i, who, body: r.body ?? r }));
      }
      all.sort((a, b) => a.seq - b.seq);
      const states = new Map();
      const orders = new Map();
      for (const { who, body } of all) {
        const target = who === customer ? anon : who;
        if (!states.has(target)) states.set(target, (await tx.lockAccount(P, target)).state);
        const event = { ...pseudonymise(body, customer, anon), id: rewriteId(body.id, customer, anon) };
        const orderId = orderIdOf(event);
        const order = orderId == null ? null : orders.get(orderId) ?? (await tx.findOrder(P, orderId));
        const { out } = await applyAndRecord(tx, event, target, states.get(target), order);
        states.set(target, out.state);
        if (out.order) orders.set(out.order.id, { customer: out.order.customer, record: out.order });
      }
      if (tx.restoreCouponNotes) await tx.restoreCouponNotes(P, notes);
      const count = all.filter((x) => x.who === customer).length;
      const balance = states.get(anon)?.balance ?? null;
      if (tx.settleOutbox) await tx.settleOutbox(P, [anon, ...others]);
      return { customer, anonymous: anon, events: count, balance, rewritten: others };
    });
  }

  /** Everything stored about a customer: account, entries, coupons, orders, events. */
  async function dataRequest(customer) {
    checkCustomer(customer);
    const data = await store.customerData(P, customer);
    return { program: P, customer, account: data.state ? engine.view(data.state) : null, ...data };
  }

  /** Erases every row of this program (Shopify shop/redact): returns rows deleted per table. */
  const redactShop = () => store.eraseProgram(P);

  async function close() {
    await store.close();
    engine.free();
  }

  return { program: engine.program, handle, handleMany, parked, canary, importMany, quote, account, history, adjust, redeem, tick, rebuild, coupon, donations, redact, dataRequest, redactShop, close };
}

function diffFields(stored, rebuilt) {
  if (!stored || !rebuilt) return stored || rebuilt ? ['missing'] : [];
  const keys = new Set([...Object.keys(stored), ...Object.keys(rebuilt)]);
  return [...keys].filter((k) => canonical(stored[k]) !== canonical(rebuilt[k])).sort();
}
