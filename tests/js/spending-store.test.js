// Spending on the stores: a reward's stock is program-wide, so concurrent redemptions by
// different customers serialize on it (PostgreSQL with a pool, PGlite); the bulk import
// counts it the same way; donations are totalled per charity from the ledger.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const db = testDatabases('spending');
const seed = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const program = {
  ...seed,
  rewards: [{ id: 'tote', points: 100, stock: 3, coupon: { type: 'free_product', product: 'TOTE-01' } }],
  donations: { charities: [{ id: 'trees', name: 'One Tree Planted' }, { id: 'sea', name: 'Ocean Cleanup' }] },
};
const stores = {
  pglite: async () => openPgliteStore({ dataDir: await db.pgliteDir() }),
  ...(DATABASE_URL ? { postgres: async () => openPostgresStore({ connectionString: await db.postgresUrl(), max: 8 }) } : {}),
};
if (process.env.CI && !DATABASE_URL) test('postgres', () => assert.fail('CI needs DATABASE_URL for the PostgreSQL suite'));

const at = '2026-03-01T10:00:00Z';
const customers = Array.from({ length: 8 }, (_, i) => `c${i}`);

for (const [name, open] of Object.entries(stores)) {
  describe(name, () => {
    test(`${name}: 8 customers redeem a reward with 3 in stock at once: exactly 3 coupons`, async () => {
      const store = await open();
      const loyalty = createLoyalty({ program, store, secret: 's' });
      try {
        for (const c of customers) await loyalty.adjust(c, { points: 150, reason: 'r', by: 's', at });
        const results = await Promise.all(customers.map((c) => loyalty.redeem(c, { reward: 'tote', at, id: `redeem-${c}` })));
        const issued = results.filter((r) => r.effects.some((e) => e.type === 'coupon.issued'));
        assert.equal(issued.length, 3);
        assert.equal(results.filter((r) => /out of stock/.test(r.skipped ?? '')).length, 5);
        const balances = await Promise.all(customers.map(async (c) => (await loyalty.account(c)).balance));
        assert.equal(balances.filter((b) => b === 50).length, 3);
        assert.equal(balances.filter((b) => b === 150).length, 5);
        // A cancel puts one back in stock, and the next customer gets it.
        const winner = issued[0].customer;
        const code = issued[0].effects.find((e) => e.type === 'coupon.issued').coupon.code;
        await loyalty.handle({ id: 'cancel-1', type: 'coupon.cancelled', at, customer: winner, code });
        assert.equal((await loyalty.coupon(code)).status, 'cancelled');
        const loser = customers.find((c, i) => balances[i] === 150);
        const again = await loyalty.redeem(loser, { reward: 'tote', at, id: 'redeem-again' });
        assert.equal(again.skipped, undefined);
        assert.deepEqual((await loyalty.rebuild()).differences, []);
      } finally {
        await loyalty.close();
      }
    });

    test(`${name}: the bulk import counts stock as handle does, and donations total per charity`, async () => {
      const store = await open();
      const loyalty = createLoyalty({ program, store, secret: 's' });
      try {
        const events = [
          ...customers.map((c) => ({ id: `adj-${c}`, type: 'points.adjusted', at, customer: c, points: 400, reason: 'r', by: 's' })),
          ...customers.map((c) => ({ id: `red-${c}`, type: 'reward.redeemed', at, customer: c, reward: 'tote' })),
          ...customers.map((c, i) => ({ id: `don-${c}`, type: 'points.donated', at, customer: c, charity: i % 2 ? 'sea' : 'trees', points: 100 + i })),
        ];
        await loyalty.importMany(events, { chunk: 5 });
        const coupons = (await Promise.all(customers.map(async (c) => (await loyalty.account(c)).coupons.length))).reduce((a, b) => a + b);
        assert.equal(coupons, 3);
        assert.deepEqual(await loyalty.donations(), [
          { charity: 'sea', name: 'Ocean Cleanup', points: 101 + 103 + 105 + 107, donations: 4 },
          { charity: 'trees', name: 'One Tree Planted', points: 100 + 102 + 104 + 106, donations: 4 },
        ]);
      } finally {
        await loyalty.close();
      }
    });
  });
}
