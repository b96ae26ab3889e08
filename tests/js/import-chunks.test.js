// loyalty.importMany (chunks of events, one transaction each) against loyalty.handle (one
// transaction per event), on PGlite and on PostgreSQL (DATABASE_URL): the same rows in every
// table, idempotent, whole chunks only after a crash, a bad event reported by index and field.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { testDatabases, DATABASE_URL } from './databases.js';
import { history, richProgram, dump } from './history.js';

const SECRET = 'import-secret';
const P = richProgram.id;
const db = testDatabases('import_chunks');

const backends = {
  pglite: async () => openPgliteStore({ dataDir: await db.pgliteDir() }),
  ...(DATABASE_URL ? { postgres: async () => openPostgresStore({ connectionString: await db.postgresUrl(), max: 4 }) } : {}),
};

async function ledger(open) {
  const store = await open();
  return { store, loyalty: createLoyalty({ program: richProgram, store, secret: SECRET }) };
}

const full = history({ n: 400, secret: SECRET });
// Without ticks for everyone, chunk boundaries fall every `chunk` events exactly.
const noTicks = history({ n: 240, seed: 11, everyoneTicks: false, secret: SECRET });

/** Makes the n-th chunk's last write fail (after its other writes), as a lost connection would. */
function failOnce(store, n) {
  const transaction = store.db.transaction;
  let chunks = 0;
  store.db.transaction = (fn) =>
    transaction((q) =>
      fn({
        query(text, params) {
          if (/^\s*INSERT INTO events/.test(text)) chunks++; // a chunk's flush (one event's record starts WITH)
          if (text.includes('UPDATE accounts a SET') && chunks === n) throw new Error('connection lost');
          return q.query(text, params);
        },
      }));
  return () => (store.db.transaction = transaction);
}

const idsIn = async (store) => new Set((await store.db.query('SELECT event_id FROM events WHERE program = $1', [P])).rows.map((r) => r.event_id));

for (const [name, open] of Object.entries(backends)) {
  describe(name, () => {
    test('a chunked import stores what handle stores, row for row; a second import changes nothing', async () => {
      const one = await ledger(open);
      const bulk = await ledger(open);
      try {
        // Event by event, going on past a failure as `onError: 'skip'` does (handleMany
        // stops at its first failure).
        const handled = [];
        for (const e of full) {
          try {
            handled.push(await one.loyalty.handle(e));
          } catch (err) {
            handled.push({ event: e.id, error: { code: err.code, path: err.path ?? '', message: err.message } });
          }
        }
        const s = await bulk.loyalty.importMany(full, { chunk: 7, onError: 'skip' });
        const expected = await dump(one.store.db, P);
        const got = await dump(bulk.store.db, P);
        for (const table of Object.keys(expected)) assert.deepEqual(got[table], expected[table], table);

        // The history exercises what the test claims: redeliveries, skips, an engine error
        // reported in place, ticks, referrals (derived events), used coupons.
        assert.equal(s.done, full.length);
        assert.deepEqual(s.errors.map((e) => [e.index, e.path]), handled.flatMap((r, i) => (r.error ? [[i, r.error.path]] : [])));
        assert.equal(s.errors.length, 1);
        assert.ok(s.duplicates > 5 && s.skipped > 5 && s.ticks > 5 && s.ticked > 5, JSON.stringify(s));
        assert.equal(s.applied + s.duplicates + s.skipped + s.errors.length + s.ticks, full.length);
        const derived = expected.events.filter((e) => !full.some((f) => f.id === e.event_id) && !e.event_id.startsWith('tick:'));
        assert.ok(derived.length > 3 && derived.every((e) => e.body.type === 'action.completed'), 'referrer rewards, as derived events');
        assert.ok(expected.outbox.some((o) => o.type === 'event'));
        assert.ok(expected.coupons.some((c) => c.status === 'used') && expected.coupons.some((c) => c.status === 'expired'));
        assert.ok(expected.entries.some((e) => e.type === 'release'), 'pending points released by ticks');

        const again = await bulk.loyalty.importMany(full, { chunk: 50, onError: 'skip' });
        assert.equal(again.applied, 0);
        assert.equal(again.duplicates, full.length - again.errors.length - again.ticks);
        assert.deepEqual(await dump(bulk.store.db, P), expected, 'the second import wrote nothing');
        assert.deepEqual((await bulk.loyalty.rebuild()).differences, []);
      } finally {
        await one.loyalty.close();
        await bulk.loyalty.close();
      }
    });

    test('a crash mid-import leaves whole chunks; running it again completes it', async () => {
      const clean = await ledger(open);
      const crashed = await ledger(open);
      try {
        await clean.loyalty.importMany(noTicks, { chunk: 20, onError: 'skip' });
        const restore = failOnce(crashed.store, 4);
        await assert.rejects(crashed.loyalty.importMany(noTicks, { chunk: 20, onError: 'skip' }), /connection lost/);
        restore();
        const stored = await idsIn(crashed.store);
        const given = (ids) => [...ids].filter((id) => noTicks.some((e) => e.id === id)).sort();
        assert.deepEqual(given(stored), given(new Set(noTicks.slice(0, 60).map((e) => e.id))), 'exactly the first three chunks');
        assert.deepEqual((await crashed.loyalty.rebuild()).differences, []);

        const s = await crashed.loyalty.importMany(noTicks, { chunk: 20, onError: 'skip' });
        assert.equal(s.done, noTicks.length);
        assert.ok(s.duplicates >= 60, 'the committed chunks dedupe');
        assert.deepEqual(await dump(crashed.store.db, P), await dump(clean.store.db, P));
      } finally {
        await clean.loyalty.close();
        await crashed.loyalty.close();
      }
    });

    test('a bad event stops the import there, named by index and field; fixed, a re-run completes it', async () => {
      const good = noTicks.slice(0, 60);
      const at = good.findIndex((e, i) => i > 25 && e.type === 'order.placed');
      const broken = good.map((e, i) => (i === at ? { ...e, order: { ...e.order, lines: [{ ...e.order.lines[0], unit_price: '12.345' }] } } : e));
      const clean = await ledger(open);
      const bulk = await ledger(open);
      const skipping = await ledger(open);
      try {
        await clean.loyalty.importMany(good, { chunk: 10 });
        const s = await bulk.loyalty.importMany(broken, { chunk: 10 });
        assert.equal(s.done, at);
        assert.deepEqual(s.stopped, s.errors[0]);
        assert.deepEqual([s.stopped.index, s.stopped.event, s.stopped.code, s.stopped.path], [at, good[at].id, 'invalid_event', 'order.lines[0].unit_price']);
        assert.match(s.stopped.message, /12\.345/);
        // The events before it are committed (the partial chunk too); nothing after it.
        assert.deepEqual([...(await idsIn(bulk.store))].filter((id) => good.some((e) => e.id === id)).sort(), [...new Set(good.slice(0, at).map((e) => e.id))].sort());
        assert.equal((await bulk.store.db.query('SELECT count(*)::int AS n FROM accounts WHERE state IS NULL')).rows[0].n, 0);

        const fixed = await bulk.loyalty.importMany(good, { chunk: 10 });
        assert.deepEqual([fixed.done, fixed.errors], [good.length, []]);
        assert.deepEqual(await dump(bulk.store.db, P), await dump(clean.store.db, P));

        const skipped = await skipping.loyalty.importMany(broken, { chunk: 10, onError: 'skip' });
        assert.deepEqual([skipped.done, skipped.stopped, skipped.errors.map((e) => e.index)], [good.length, null, [at]]);
        assert.equal((await skipping.store.event(P, good[at].id)), null, 'the bad event is not recorded');
        assert.ok(await skipping.store.event(P, good[at + 1].id));
      } finally {
        for (const l of [clean, bulk, skipping]) await l.loyalty.close();
      }
    });
  });
}

test('pglite: live events on the same store interleave with the chunks, none lost', async () => {
  const store = await backends.pglite();
  const importer = createLoyalty({ program: richProgram, store, secret: SECRET });
  const live = createLoyalty({ program: richProgram, store: { ...store, close: async () => {} }, secret: SECRET });
  try {
    let importing = true;
    const done = importer.importMany(noTicks, { chunk: 15, onError: 'skip' }).finally(() => (importing = false));
    let n = 0;
    const customers = [...new Set(noTicks.map((e) => e.customer).filter(Boolean))];
    while (importing) {
      const i = n++;
      await live.adjust(customers[i % customers.length], { id: `live-${i}`, points: 7, reason: 'live', by: 'staff', at: '2027-06-01T00:00:00Z' });
    }
    await done;
    assert.ok(n > 5, `live events ran during the import (${n})`);
    for (let i = 0; i < n; i++) assert.ok(await store.event(P, `live-${i}`), `live-${i}`);
    assert.deepEqual((await importer.rebuild()).differences, []);
    for (const c of customers) assert.equal((await store.audit(P, c)).points, (await importer.account(c))?.balance ?? 0, c);
  } finally {
    await live.close();
    await importer.close();
  }
});

if (DATABASE_URL) {
  test('postgres: live events for the same customers serialize with the chunks', async () => {
    const url = await db.postgresUrl();
    const importer = await ledger(() => openPostgresStore({ connectionString: url, max: 2 }));
    const live = await ledger(() => openPostgresStore({ connectionString: url, max: 4 }));
    try {
      let importing = true;
      const done = importer.loyalty.importMany(noTicks, { chunk: 15, onError: 'skip' }).finally(() => (importing = false));
      let n = 0;
      const customers = [...new Set(noTicks.map((e) => e.customer).filter(Boolean))];
      const loops = Promise.all([1, 2, 3].map(async () => {
        while (importing) {
          const i = n++;
          await live.loyalty.adjust(customers[i % customers.length], { id: `live-${i}`, points: 7, reason: 'live', by: 'staff', at: '2027-06-01T00:00:00Z' });
        }
      }));
      const [imported, adjusted] = await Promise.allSettled([done, loops]);
      assert.equal(imported.status, 'fulfilled', imported.reason?.stack);
      assert.equal(adjusted.status, 'fulfilled', adjusted.reason?.stack);
      assert.ok(n > 10, `live events ran during the import (${n})`);
      // A lost update (the chunk overwriting a live event's state, or the reverse) makes the
      // stored state differ from the events replayed in their commit order.
      assert.deepEqual((await importer.loyalty.rebuild()).differences, []);
      for (const c of customers) {
        const a = await importer.store.audit(P, c);
        assert.equal(a.points, (await importer.loyalty.account(c))?.balance ?? 0, c);
      }
    } finally {
      await importer.loyalty.close();
      await live.loyalty.close();
    }
  });

  test('postgres: a live webhook creating an account a locked chunk is about to create waits for the chunk', async () => {
    const url = await db.postgresUrl();
    const importer = await ledger(() => openPostgresStore({ connectionString: url, max: 2 }));
    const live = await ledger(() => openPostgresStore({ connectionString: url, max: 2 }));
    try {
      importer.store.pipeline = false; // every chunk locked, as PGlite runs them
      // In every chunk, once its rows are read under lock, a live event for a customer the
      // chunk is about to create. Had the live event created the row first, the chunk's
      // insert would fail in every attempt; the chunk holds the row instead, so the live
      // event waits for its commit (given 300 ms to get in first, then left running).
      const locked = importer.store.lockedChunk;
      const known = new Set();
      const lives = [];
      importer.store.lockedChunk = async (program, events, fn) => {
        const out = await locked(program, events, async (tx) => {
          // A customer with no account yet: neither imported nor given a live event.
          const fresh = events.map((e) => e.customer).find((c) => c && !known.has(c));
          if (fresh) {
            known.add(fresh);
            const id = `live-${lives.length}`;
            const done = live.loyalty.adjust(fresh, { id, points: 3, reason: 'live', by: 'staff', at: '2027-06-01T00:00:00Z' });
            lives.push({ id, customer: fresh, done });
            await Promise.race([done.catch(() => {}), new Promise((r) => setTimeout(r, 300))]);
          }
          return fn(tx);
        });
        events.forEach((e) => e.customer && known.add(e.customer));
        return out;
      };
      const s = await importer.loyalty.importMany(noTicks.slice(0, 120), { chunk: 40, onError: 'skip' });
      assert.equal(s.done, 120);
      assert.ok(lives.length >= 2, `live events raced the chunks: ${lives.length}`);
      for (const { id, customer, done } of lives) {
        await done;
        assert.equal((await importer.store.event(P, id))?.customer, customer, id);
      }
      assert.deepEqual((await importer.loyalty.rebuild()).differences, []);
      const { rows } = await importer.store.db.query('SELECT count(*)::int AS n FROM accounts WHERE state IS NULL');
      assert.equal(rows[0].n, 0, 'no empty account row is left');
    } finally {
      await importer.loyalty.close();
      await live.loyalty.close();
    }
  });

  test('postgres: webhooks between a pipelined chunk\'s reads and its write are not lost: the chunk is applied again, locked', async () => {
    const url = await db.postgresUrl();
    const importer = await ledger(() => openPostgresStore({ connectionString: url, max: 2 }));
    const live = await ledger(() => openPostgresStore({ connectionString: url, max: 2 }));
    try {
      assert.equal(importer.store.pipeline, true);
      // Each chunk, once read and applied (its write not started), gets a live event for
      // a customer it names who has an account (an UPDATE the version check must see) and
      // one for a customer it creates (an INSERT that must not be overwritten).
      const open = importer.store.openChunk;
      const known = new Set();
      const lives = [];
      importer.store.openChunk = async (program, events, options) => {
        const c = await open(program, events, options);
        const names = [...new Set(events.map((e) => e.customer).filter(Boolean))];
        const old = names.find((c) => known.has(c));
        const fresh = names.find((c) => !known.has(c));
        for (const customer of [old, fresh].filter(Boolean)) {
          const id = `live-${lives.length}`;
          lives.push({ id, customer });
          await live.loyalty.adjust(customer, { id, points: 3, reason: 'live', by: 'staff', at: '2027-06-01T00:00:00Z' });
        }
        names.forEach((c) => known.add(c));
        return c;
      };
      const s = await importer.loyalty.importMany(noTicks, { chunk: 40, onError: 'skip' });
      assert.equal(s.done, noTicks.length);
      assert.ok(s.retries >= 5, `chunks applied again: ${s.retries}`);
      for (const { id, customer } of lives) assert.equal((await importer.store.event(P, id))?.customer, customer, id);
      // Every imported event stored once, every live one too, and the stored states are
      // the events replayed in commit order (a lost update would differ).
      const stored = await idsIn(importer.store);
      const bad = new Set(s.errors.map((e) => e.event));
      for (const e of noTicks) assert.equal(stored.has(e.id), !bad.has(e.id), e.id);
      assert.deepEqual((await importer.loyalty.rebuild()).differences, []);
      for (const c of known) {
        const a = await importer.store.audit(P, c);
        assert.equal(a.points, (await importer.loyalty.account(c))?.balance ?? 0, c);
      }
    } finally {
      await importer.loyalty.close();
      await live.loyalty.close();
    }
  });
}
