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
