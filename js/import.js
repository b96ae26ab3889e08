// Bulk import of a history: events in chunks, one store transaction per chunk
// (stores/chunk.js: the rows for the whole chunk in a few statements, multi-row writes at
// the end). On PostgreSQL the chunks are pipelined: the engine applies chunk N+1 while
// chunk N is written, and chunk N+1's write checks, under the locks, that nothing it read
// has changed since (else it is applied again, locked). Each event still goes through the same per-event code as
// loyalty.handle (`applyOne`), so balances, entries, outbox rows, coupons and stored
// results are the ones handle would give, event ids dedupe, and derived events
// (referrals) follow their event inside the chunk.
//
// A bad event (the engine or the checks reject it, a LoyaltyError) stops the import by
// default: the events before it are committed, nothing after it is applied, and the
// report names it. A ledger is order-dependent (a refund needs its order, a redemption
// its balance), so applying the rest without it would store outcomes a corrected re-run
// could not change; fix it and run again: everything already imported dedupes.
// `onError: 'skip'` reports it and goes on instead, as handleMany does.
// Any other error (the database, a crash) rolls the current chunk back and is thrown:
// only whole chunks are ever committed.
import { LoyaltyError } from './errors.js';

const RETRYABLE = new Set(['23505', '40P01', '40001']); // a concurrent writer won a race: redo the chunk

/** A tick for every account (no customer): loyalty.tick, not one account's event. */
export const isTick = (e) => e?.type === 'clock.tick' && e.customer === undefined;
const report = (index, event, err) => ({ index, event: typeof event?.id === 'string' ? event.id : null, code: err.code ?? 'error', path: err.path ?? '', message: err.message });

/**
 * @param {{store: object, program: string, applyOne: Function, handle: Function, tick: Function}} loyalty
 * @param {object[]} events in the order they happened
 * @param {{chunk?: number, onError?: 'stop'|'skip', onProgress?: (done: number) => void}} [options]
 * @returns {Promise<{events: number, done: number, applied: number, duplicates: number, skipped: number, ticks: number, ticked: number, retries: number, errors: object[], stopped: object|null}>}
 */
export async function importEvents({ store, program, applyOne, handle, tick }, events, { chunk = 2000, onError = 'stop', onProgress = () => {} } = {}) {
  if (!Number.isInteger(chunk) || chunk < 1) throw new LoyaltyError('invalid_request', 'chunk', 'must be a positive integer');
  if (onError !== 'stop' && onError !== 'skip') throw new LoyaltyError('invalid_request', 'onError', 'must be "stop" or "skip"');
  const s = { events: events.length, done: 0, applied: 0, duplicates: 0, skipped: 0, ticks: 0, ticked: 0, retries: 0, errors: [], stopped: null };
  // Stores without bulk support (the memory store) take one transaction per event.
  const bulk = Boolean(store.lockedChunk);
  const apply = bulk ? applyOne : (_tx, e) => handle(e);

  // Applies events[from, to) through a chunk's operations, in order; a bad event is
  // reported in place, and ends the chunk when onError is 'stop'.
  async function applyAll(tx, from, to) {
    const results = [];
    for (let k = from; k < to; k++) {
      // Between events, let the previous chunk's write proceed (its replies are handled
      // here); without this the whole chunk would run before its next statement is sent.
      if ((k - from) % 64 === 63) await new Promise(setImmediate);
      try {
        results.push(await apply(tx, events[k]));
      } catch (err) {
        if (!(err instanceof LoyaltyError)) throw err;
        results.push({ error: report(k, events[k], err) });
        if (onError === 'stop') break;
      }
    }
    return results;
  }

  // Reads, engine and writes in one transaction, under the locks a webhook takes.
  const locked = (from, to) => retry(() => store.lockedChunk(program, events.slice(from, to), (tx) => applyAll(tx, from, to)));

  // Pipelined (PostgreSQL): a chunk is applied on unlocked reads while the previous one
  // (`prev`) is written; what that one will have stored stands in for its rows.
  async function prepare(from, to, prev) {
    const c = await store.openChunk(program, events.slice(from, to), { carry: prev?.job.c.carry(), settled: prev?.done });
    return { from, to, c, results: await applyAll(c.tx, from, to) };
  }
  // Writes a prepared chunk; if anything it read has changed meanwhile (a live webhook for
  // one of its customers), it is applied again, locked.
  async function commit(job) {
    try {
      await job.c.commit();
      return { results: job.results, clean: true };
    } catch (err) {
      if (!RETRYABLE.has(err?.code)) throw err;
    }
    s.retries++;
    return { results: await locked(job.from, job.to), clean: false };
  }

  // Counts a committed chunk; returns the bad event that stopped it, or null.
  function finish(from, results) {
    for (const r of results) {
      if (r.error) s.errors.push(r.error);
      else if (r.duplicate) s.duplicates++;
      else if (r.skipped) s.skipped++;
      else s.applied++;
    }
    const last = results[results.length - 1];
    const stopped = last?.error && onError === 'stop' ? last.error : null;
    s.done = from + results.length - (stopped ? 1 : 0);
    onProgress(s.done);
    return stopped;
  }

  let writing = null; // {job, done}: the chunk being written
  // Waits for the chunk being written: {stopped, clean}.
  async function settle() {
    if (!writing) return { stopped: null, clean: true };
    const { job, done } = writing;
    writing = null;
    const { results, clean } = await done;
    return { stopped: finish(job.from, results), clean };
  }

  // A tick for everyone: the chunks before it are committed, and the due accounts are
  // ticked as handle would (one transaction each, by the due index).
  async function applyTick(i) {
    const prev = await settle();
    if (prev.stopped) return prev.stopped;
    try {
      const t = await tick(events[i].at);
      s.ticks++;
      s.ticked += t.ticked;
      s.errors.push(...t.errors.map((e) => ({ index: i, event: `tick:${t.at}:${e.customer}`, code: e.code, path: '', message: e.message })));
    } catch (err) {
      if (!(err instanceof LoyaltyError)) throw err;
      s.errors.push(report(i, events[i], err));
      if (onError === 'stop') return s.errors[s.errors.length - 1];
    }
    s.done = i + 1;
    onProgress(s.done);
    return null;
  }

  // Applies events[from, to) as one chunk. Pipelined, it is applied while the previous
  // chunk is written, and its own write is left running. Returns the bad event that
  // stops the import, or null.
  async function applyChunk(from, to) {
    if (!store.pipeline) return finish(from, bulk ? await locked(from, to) : await applyAll(null, from, to));
    let job = await prepare(from, to, writing);
    const prev = await settle();
    if (prev.stopped) return prev.stopped;
    // The previous chunk was applied again, locked: what it carried may differ.
    if (!prev.clean) job = await prepare(from, to, null);
    writing = { job, done: commit(job) };
    writing.done.catch(() => {}); // settle awaits it; meanwhile it is not unhandled
    return null;
  }

  try {
    for (let i = 0; i < events.length && !s.stopped;) {
      if (isTick(events[i])) {
        s.stopped = await applyTick(i);
        i++;
        continue;
      }
      let end = i;
      while (end < events.length && end - i < chunk && !isTick(events[end])) end++;
      s.stopped = await applyChunk(i, end);
      i = end;
    }
    s.stopped ??= (await settle()).stopped;
  } finally {
    // After an error the chunk being written still ends (commit or rollback) before this
    // returns, so the caller may close the store.
    await writing?.done.catch(() => {});
  }
  return s;
}

async function retry(fn, attempts = 3) {
  for (let n = 1; ; n++) {
    try {
      return await fn();
    } catch (err) {
      if (n >= attempts || !RETRYABLE.has(err?.code)) throw err;
    }
  }
}
