// Where a webhook goes when stores are wired both ways: a connected WooCommerce store is
// found by its X-WC-Webhook-Source and verified with its own secret, even beside a store
// wired by environment (WOO_SECRET without WOO_URL takes what no connected store claims).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { dbShops } from '../../js/shops/contexts.js';

const sign = (secret, body) => createHmac('sha256', secret).update(body).digest('base64');

test('a connected WooCommerce store keeps its own webhooks beside a store wired by environment', async () => {
  const rows = {
    env: { id: 'env', platform: 'shopify', domain: 'env.local', status: 'installed', program: { id: 'env' }, settings: {}, secrets: {} },
    'woocommerce:shop.example': { id: 'woocommerce:shop.example', platform: 'woocommerce', domain: 'https://shop.example', status: 'installed', program: { id: 'x' }, settings: {}, secrets: { webhook_secrets: ['connected-secret'] } },
  };
  const registry = {
    get: async (id) => rows[id] ?? null,
    byDomain: async (platform, domain) => Object.values(rows).find((r) => r.platform === platform && r.domain === domain) ?? null,
    loyalty: (shop) => ({ program: shop.program }),
  };
  const shops = dbShops({ shops: registry, store: null, envShop: { id: 'env', woocommerce: { secrets: ['env-secret'] } } });
  const body = Buffer.from('{"id":1}');
  const connected = await shops.webhookShop('woocommerce', { 'x-wc-webhook-source': 'https://shop.example/' });
  assert.equal(connected.id, 'woocommerce:shop.example');
  assert.equal(connected.adapter.verify({ 'x-wc-webhook-signature': sign('connected-secret', body) }, body), true);
  assert.equal(connected.adapter.verify({ 'x-wc-webhook-signature': sign('env-secret', body) }, body), false, 'the environment secret does not open a connected store');
  const other = await shops.webhookShop('woocommerce', { 'x-wc-webhook-source': 'https://unconnected.example/' });
  assert.equal(other.id, 'env');
  assert.equal(other.adapter.verify({ 'x-wc-webhook-signature': sign('env-secret', body) }, body), true);
});

// The registry keeps shop rows between webhooks; a change anywhere drops them.
import { randomBytes } from 'node:crypto';
import { createShops } from '../../js/shops/registry.js';
import { applyToShop } from '../../js/stores/program-versions.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const dbs = testDatabases('shops');
const until = async (check) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
};

for (const kind of ['PGlite', 'PostgreSQL']) {
  test(`${kind}: shop rows are read once, and a status change or a publish in another registry is seen`, { skip: kind === 'PostgreSQL' && !DATABASE_URL && 'DATABASE_URL is not set' }, async () => {
    const open = kind === 'PGlite' ? async () => openPgliteStore({ dataDir: await dbs.pgliteDir() }) : async () => openPostgresStore({ connectionString: url });
    const url = kind === 'PostgreSQL' ? await dbs.postgresUrl() : null;
    const key = randomBytes(32);
    const storeA = await open();
    // PGlite is one process: the second registry shares its store, as two parts of a server do.
    const storeB = kind === 'PGlite' ? storeA : await open();
    const a = createShops({ store: storeA, key, secret: 's' });
    const b = createShops({ store: storeB, key, secret: 's' });
    try {
      const saved = await a.save({ platform: 'shopify', domain: 'cache.myshopify.com', program: { id: 'p', currency: 'EUR', timezone: 'UTC', earn: { points_per_unit: '1' } }, secrets: { webhook_secrets: ['w'] } });
      assert.equal(await until(async () => (await a.get(saved.id)) === (await a.get(saved.id))), true, 'a listening registry keeps the row');
      const first = await a.byDomain('shopify', 'CACHE.myshopify.com');
      assert.equal(first, await a.get(saved.id), 'the kept row, by domain and by id');
      assert.deepEqual(first.secrets, { webhook_secrets: ['w'] });

      await b.setStatus(saved.id, 'uninstalled');
      assert.equal(await until(async () => (await a.get(saved.id)).status === 'uninstalled'), true, 'another registry uninstalled it');
      await applyToShop(storeB.db, saved.id, { ...first.program, earn: { points_per_unit: '3' } });
      assert.equal(await until(async () => (await a.byDomain('shopify', 'cache.myshopify.com')).program.earn.points_per_unit === '3'), true, 'a publish is seen');
      await b.remove(saved.id);
      assert.equal(await until(async () => (await a.get(saved.id)) === null), true, 'a removed shop is gone');
    } finally {
      await a.close();
      await b.close();
      await storeA.close();
      if (storeB !== storeA) await storeB.close();
    }
  });
}
