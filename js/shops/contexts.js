// What a webhook needs of the shop it names: its adapter (with that shop's secrets and
// domain), its ledger, and the shop-level actions (uninstall, erase, export, contacts).
// Two sources: the shops table (`dbShops`), or one ledger given in code (`singleShop`,
// for buildApp({loyalty, adapters}) as an npm import uses it).
import { createShopifyAdapter, shopOf } from '../platforms/shopify.js';
import { createWooAdapter } from '../platforms/woocommerce.js';
import { headerValue } from '../platforms/signature.js';
import { notifyStore } from '../notify/store.js';
import { normalDomain } from './registry.js';

/** Durable webhook delivery ids per shop (an in-memory set when the store is not SQL). */
export function deliveryLog(store) {
  if (!store?.db) {
    const seen = new Set();
    return { seen: async (shop, id) => seen.has(`${shop}\u0000${id}`), remember: async (shop, id) => { seen.add(`${shop}\u0000${id}`); } };
  }
  const db = store.db;
  return {
    seen: async (shop, id) => (await db.query('SELECT 1 FROM webhook_deliveries WHERE program = $1 AND delivery_id = $2', [shop, id])).rows.length > 0,
    remember: (shop, id, topic) => db.query('INSERT INTO webhook_deliveries (program, delivery_id, topic) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [shop, id, topic]),
  };
}

// The shop-level actions over one shop's ledger in a SQL (or memory) store.
function actions(id, loyalty, store) {
  const ns = store?.db ? notifyStore(store.db) : null;
  return {
    async contacts(c) {
      if (!ns) return;
      const patch = {};
      for (const k of ['email', 'name', 'locale', 'marketing']) if (c[k] != null) patch[k] = c[k];
      if (Object.keys(patch).length) await ns.putContact(id, c.customer, patch);
    },
    async exportData(customer, source) {
      const data = await loyalty.dataRequest(customer);
      if (!store?.db) return null;
      const { rows } = await store.db.query(
        'INSERT INTO data_exports (program, customer, source, data) VALUES ($1, $2, $3, $4) RETURNING id', [id, customer, source, JSON.stringify(data)]);
      return String(rows[0].id);
    },
  };
}

/** One ledger as the only shop (the npm import's buildApp({loyalty, adapters})). */
export function singleShop({ loyalty, store, adapters = {} }) {
  const shop = { id: loyalty.program.id, status: 'installed', loyalty, ...actions(loyalty.program.id, loyalty, store) };
  shop.uninstall = async () => { shop.status = 'uninstalled'; };
  shop.erase = () => loyalty.redactShop();
  return {
    platforms: Object.keys(adapters),
    webhookShop: async (platform) => (adapters[platform] ? { ...shop, adapter: adapters[platform] } : null),
    admin: () => shop,
  };
}

/**
 * Shops from the shops table. Shopify webhooks are found by X-Shopify-Shop-Domain and
 * signed with the app's secret (or the shop's own, for a custom app); WooCommerce's by
 * X-WC-Webhook-Source and signed with the secret we generated at connection.
 * @param {{shops: object, store: object, appSecrets?: string[], earnOn?: string}} options
 */
export function dbShops({ shops, store, appSecrets = [], earnOn, envShop }) {
  function context(shop, adapter) {
    const loyalty = shops.loyalty(shop);
    return {
      id: shop.id, status: shop.status, shop, loyalty, adapter, ...actions(shop.id, loyalty, store),
      uninstall: () => shops.setStatus(shop.id, 'uninstalled'),
      async erase() {
        const deleted = await loyalty.redactShop();
        await shops.remove(shop.id);
        return deleted;
      },
    };
  }
  return {
    platforms: ['shopify', 'woocommerce'],
    async webhookShop(platform, headers) {
      // The shop configured by environment (one store wired by hand, or the demo): its
      // secrets come from the environment on every start, never from the table.
      const fromEnv = async () => {
        const shop = await shops.get(envShop.id);
        const env = envShop[platform];
        return shop && context(shop, platform === 'shopify'
          ? createShopifyAdapter({ secrets: env.secrets, earnOn, shopDomain: env.domain })
          : createWooAdapter({ secrets: env.secrets }));
      };
      if (platform === 'shopify') {
        const domain = shopOf(headers);
        if (envShop?.shopify && domain === envShop.shopify.domain) return fromEnv();
        const shop = domain && (await shops.byDomain('shopify', domain));
        if (!shop) return null;
        const secrets = [...(shop.secrets.webhook_secrets ?? []), ...appSecrets];
        if (!secrets.length) return null;
        return context(shop, createShopifyAdapter({ secrets, earnOn: shop.settings.earn_on ?? earnOn, shopDomain: shop.domain }));
      }
      // WooCommerce: a connected store by its X-WC-Webhook-Source first; else the store wired
      // by environment (any source when WOO_URL is not set, as before shops).
      const source = normalDomain('woocommerce', headerValue(headers, 'x-wc-webhook-source') ?? '');
      const shop = source && (await shops.byDomain('woocommerce', source));
      if (shop && shop.id !== envShop?.id && shop.secrets.webhook_secrets?.length) {
        return context(shop, createWooAdapter({ secrets: shop.secrets.webhook_secrets }));
      }
      const env = envShop?.woocommerce;
      if (env && (!env.url || source === env.url)) return fromEnv();
      return null;
    },
    /** The shop an admin request is for. */
    admin: async (id) => {
      const shop = await shops.get(id);
      return shop && context(shop, null);
    },
  };
}
