// Bulk import of a history: events in chunks, one store transaction per chunk
// (`store.chunk`: locks and rows for the whole chunk in a few statements, multi-row
// writes at the end). Each event still goes through the same per-event code as
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

const isTick = (e) => e?.type === 'clock.tick' && e.customer === undefined;
const report = (index, event, err) => ({ index, event: typeof event?.id === 'string' ? event.id : null, code: err.code ?? 'error', path: err.path ?? '', message: err.message });

/**
 * @param {{store: object, program: string, applyOne: Function, handle: Function, tick: Function}} loyalty
 * @param {object[]} events in the order they happened
 * @param {{chunk?: number, onError?: 'stop'|'skip', onProgress?: (done: number) => void}} [options]
 * @returns {Promise<{events: number, done: number, applied: number, duplicates: number, skipped: number, ticks: number, ticked: number, errors: object[], stopped: object|null}>}
 */
export async function importEvents({ store, program, applyOne, handle, tick }, events, { chunk = 2000, onError = 'stop', onProgress = () => {} } = {}) {
  if (!Number.isInteger(chunk) || chunk < 1) throw new LoyaltyError('invalid_request', 'chunk', 'must be a positive integer');
  if (onError !== 'stop' && onError !== 'skip') throw new LoyaltyError('invalid_request', 'onError', 'must be "stop" or "skip"');
  const s = { events: events.length, done: 0, applied: 0, duplicates: 0, skipped: 0, ticks: 0, ticked: 0, errors: [], stopped: null };
  // Stores without bulk support (the memory store) take one transaction per event.
  const apply = store.chunk ? applyOne : (_tx, e) => handle(e);
  const count = (r) => {
    if (r.duplicate) s.duplicates++;
    else if (r.skipped) s.skipped++;
    else s.applied++;
  };

  // Applies events[from, to) in one chunk; returns the index it stopped at, or null.
  async function runChunk(from, to) {
    const slice = events.slice(from, to);
    const body = async (tx) => {
      const results = [];
      for (let k = 0; k < slice.length; k++) {
        try {
          results.push(await apply(tx, slice[k]));
        } catch (err) {
          if (!(err instanceof LoyaltyError)) throw err;
          results.push({ error: report(from + k, slice[k], err) });
          if (onError === 'stop') break;
        }
      }
      return results;
    };
    const results = store.chunk ? await retry(() => store.chunk(program, slice, body)) : await body(null);
    for (const r of results) {
      if (r.error) s.errors.push(r.error);
      else count(r);
    }
    const last = results[results.length - 1];
    const stopped = last?.error && onError === 'stop' ? last.error : null;
    s.done = from + results.length - (stopped ? 1 : 0);
    return stopped;
  }

  for (let i = 0; i < events.length;) {
    if (isTick(events[i])) {
      // A tick for everyone: the chunks before it are committed, and the due accounts are
      // ticked as handle would (one transaction each, by the due index).
      try {
        const t = await tick(events[i].at);
        s.ticks++;
        s.ticked += t.ticked;
        s.errors.push(...t.errors.map((e) => ({ index: i, event: `tick:${t.at}:${e.customer}`, code: e.code, path: '', message: e.message })));
      } catch (err) {
        if (!(err instanceof LoyaltyError)) throw err;
        s.errors.push(report(i, events[i], err));
        if (onError === 'stop') {
          s.stopped = s.errors[s.errors.length - 1];
          break;
        }
      }
      s.done = ++i;
      onProgress(s.done);
      continue;
    }
    let end = i;
    while (end < events.length && end - i < chunk && !isTick(events[end])) end++;
    const stopped = await runChunk(i, end);
    onProgress(s.done);
    if (stopped) {
      s.stopped = stopped;
      break;
    }
    i = end;
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
