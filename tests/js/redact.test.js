// Customer redaction leaves the id nowhere (the referrer's rows, tick ids with `:`, ids the
// caller chose), sends nothing again, and keeps what the ledger cannot rebuild. On PGlite
// and PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { markCancelled } from '../../js/stores/kpi.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const program = {
  ...seed,
  referral: { referrer_points: 1000, friend_reward: 'welcome' },
  rewards: [...seed.rewards, { id: 'welcome', points: 1, coupon: { type: 'fixed', value: '10.00', valid_for: 'P60D' } }],
};
const dbs = testDatabases('redact');
const backends = { pglite: async () => openPgliteStore({ dataDir: await dbs.pgliteDir() }) };
if (DATABASE_URL) backends.postgres = async () => openPostgresStore({ connectionString: await dbs.postgresUrl() });

const order = (id, customer, orderId, amount, at) => ({
  id, type: 'order.placed', at, customer,
  order: { id: orderId, currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: amount, discount: '0.00' }] },
});

for (const [name, open] of Object.entries(backends)) {
  test(`${name}: redacting a referred friend whose id holds ':' rewrites every row that names them`, async () => {
    const store = await open();
    const loyalty = createLoyalty({ program, store, secret: 's' });
    const friend = 'gid:shop:77';
    try {
      await loyalty.handle(order('o0', 'alice', 'o0', '1.00', '2026-01-01T10:00:00+01:00'));
      await loyalty.handle({ id: 'ref1', type: 'action.completed', at: '2026-01-02T10:00:00+01:00', customer: friend, action: 'referral', ref: 'alice' });
      // The friend's first order pays alice her referral (an event in alice's account).
      await loyalty.handle(order('o1', friend, 'o1', '600.00', '2026-01-03T10:00:00+01:00'));
      assert.equal((await loyalty.account('alice')).balance, 1010);
      // An id the caller chose, with the customer in it, and a coupon cancelled by staff.
      await loyalty.handle({ id: `manual:${friend}:bonus`, type: 'points.adjusted', at: '2026-01-04T10:00:00+01:00', customer: friend, points: 5, reason: 'bonus', by: 'staff' });
      const coupon = (await loyalty.account(friend)).coupons.find((c) => c.status === 'issued');
      await loyalty.handle({ id: `coupon-cancel:${coupon.code}`, type: 'coupon.cancelled', at: '2026-01-05T10:00:00+01:00', customer: friend, code: coupon.code });
      await markCancelled(store.db, program, coupon.code, { reason: 'asked by customer', by: 'maria', at: '2026-01-05T10:00:00+01:00' });
      await loyalty.tick('2026-02-05T00:00:00+01:00'); // a tick id embeds the customer
      await store.db.query("UPDATE outbox SET status = 'delivered', delivered_at = now()");
      const before = { alice: await loyalty.account('alice') };

      const r = await loyalty.redact(friend);
      assert.deepEqual(r.rewritten, ['alice']);
      const { rows } = await store.db.query(
        `SELECT 'events' AS t, body::text || event_id || result::text AS x FROM events
         UNION ALL SELECT 'entries', data::text || id FROM entries
         UNION ALL SELECT 'accounts', state::text || customer FROM accounts
         UNION ALL SELECT 'outbox', effect::text || key || event_id FROM outbox
         UNION ALL SELECT 'coupons', data::text || customer FROM coupons
         UNION ALL SELECT 'orders', record::text || customer FROM orders`);
      const leaks = rows.filter((row) => row.x.includes(friend)).map((row) => row.t);
      assert.deepEqual(leaks, [], `the id survives in ${leaks.join(', ')}`);
      // Alice keeps her points; the ledger still rebuilds; nothing goes out again.
      assert.equal((await loyalty.account('alice')).balance, before.alice.balance);
      assert.equal((await loyalty.account(r.anonymous)).balance, r.balance);
      assert.deepEqual((await loyalty.rebuild()).differences, []);
      const pending = await store.db.query("SELECT count(*)::int AS n FROM outbox WHERE status = 'pending'");
      assert.equal(pending.rows[0].n, 0, 're-applied events are not sent again');
      // Who cancelled the coupon, and why, is kept.
      const cancelled = await store.db.query("SELECT data->'cancelled' AS c FROM coupons WHERE customer = $1 AND status = 'cancelled'", [r.anonymous]);
      assert.deepEqual(cancelled.rows.map((x) => x.c), [{ reason: 'asked by customer', by: 'maria', at: '2026-01-05T10:00:00+01:00' }]);
    } finally {
      await loyalty.close();
    }
  });
}
