// `loyalty serve`: opens the store, builds the app, listens, ticks, and shuts down
// gracefully (in-flight requests finish, then the store closes).
import { createShops, normalDomain } from '../shops/registry.js';
import { dbShops } from '../shops/contexts.js';
import { current as currentVersion } from '../stores/program-versions.js';
import { buildApp } from './app.js';
import { openStore } from './config.js';
import { notifyConfig, notifyLocale } from '../notify/config.js';
import { startShopWorkers } from '../shops/workers.js';
import { shopifyInstall } from './shopify-install.js';
import { createShopifyApp } from '../platforms/shopify-app.js';
import { verifySessionToken } from './shopify-auth.js';
import { shopAdmins } from './shop-admins.js';
import { auditor } from './operators.js';
import { storefrontRoutes } from './storefront.js';
import { connectRoutes } from './connect-routes.js';
import { pushSettingsRoutes } from './push-settings-routes.js';
import { proxyIdentity, tokenIdentity } from './storefront-identity.js';
import { deviceRoutes } from './device-routes.js';
import { verifyCustomerToken } from '../platforms/customer-token.js';

/** Starts a server from a serverConfig(); resolves once it listens. */
export async function serve(config, { logger = true } = {}) {
  const store = await openStore(config);
  const env = config.env ?? process.env;
  const registry = createShops({ store, key: config.encryptionKey, secret: config.secret });
  // The shop of this configuration (the demo shop, or a store wired by environment): its
  // id is the program's, so a ledger kept before shops existed stays this shop's.
  const program = JSON.parse(config.program);
  const envShop = { id: program.id };
  if (config.shopifySecrets.length) envShop.shopify = { domain: config.shopifyShop.toLowerCase(), secrets: config.shopifySecrets };
  if (config.wooSecrets.length) envShop.woocommerce = { url: config.wooUrl && normalDomain('woocommerce', config.wooUrl), secrets: config.wooSecrets };
  const known = await registry.get(program.id);
  // A program published from the admin outranks the file: the file is the first version.
  const published = known ? await currentVersion(store.db, program.id) : null;
  await registry.save({
    id: program.id, platform: envShop.shopify || !envShop.woocommerce ? 'shopify' : 'woocommerce',
    domain: known?.domain ?? envShop.shopify?.domain ?? envShop.woocommerce?.url ?? `${program.id}.local`,
    program: published?.program ?? program, status: known?.status ?? 'installed', settings: { legacy_secret: true },
  });
  const shop = await registry.get(program.id);
  const loyalty = registry.loyalty(shop);
  const shops = dbShops({ shops: registry, store, appSecrets: config.shopifyAppSecrets ?? [], earnOn: config.shopifyEarnOn, envShop });
  // The Shopify app (OAuth install, webhook subscriptions, Admin API), when configured; its
  // session tokens sign the admin's own shop in when the admin is embedded in Shopify.
  const shopify = config.shopifyApp ? createShopifyApp(env) : null;
  const shopifySessions = shopify && shop.platform === 'shopify' ? { domain: shop.domain, verify: (header) => verifySessionToken(shopify, header) } : undefined;
  // Every other installed shop's admin, inside the Shopify admin, by its session tokens.
  const admins = shopify ? shopAdmins({ shopify, registry, store, shops, ownDomain: shopifySessions?.domain, notifyLocale: notifyLocale(env), bodyLimit: config.bodyLimit }) : null;
  const app = buildApp({ loyalty, store, token: config.token, trustProxy: config.trustProxy, shops, shopifySessions, shopifyApiKey: shopify ? env.SHOPIFY_API_KEY : undefined, onRequest: admins?.hook, bodyLimit: config.bodyLimit, logger, notifyLocale: notifyLocale(env) });
  if (shopify) await shopifyInstall(app, { env, registry, program, shopify, log: app.log, onInstalled: () => workers.refresh() });
  // Operator actions beside the admin's own routes, in the same audit log, by the same name.
  const record = auditor(store.db, shop.id);
  // Connecting a WooCommerce store from the admin (the CLI does the same: loyalty connect).
  app.register(connectRoutes, { registry, publicUrl: env.LOYALTY_PUBLIC_URL, token: config.token, auth: app.adminAuth, program, record, onConnected: () => workers.refresh() });
  // The admin's shop's mobile app push settings, sealed with its other secrets.
  app.register(pushSettingsRoutes, { registry, shopId: shop.id, token: config.token, auth: app.adminAuth, record, onChanged: () => workers.refresh() });
  // The customer's own routes: through Shopify's App Proxy, and with a customer token the
  // shop signs (WooCommerce, mobile apps). Device registration for app pushes rides along.
  const devices = [[deviceRoutes, { store }]];
  if (shopify) app.register(storefrontRoutes, { prefix: '/proxy/loyalty', identify: proxyIdentity({ shopify, shops: registry, store }), extraRoutes: devices });
  app.register(storefrontRoutes, { prefix: '/storefront', identify: tokenIdentity({ shops: registry, store, verify: verifyCustomerToken }), extraRoutes: devices });
  const workers = startShopWorkers({ registry, store, config: notifyConfig(env), tickSeconds: config.tickSeconds, log: app.log, shopify });
  let closing;
  async function close() {
    // Idempotent: a second signal waits for the first shutdown instead of racing it.
    closing ??= (async () => {
      await app.close(); // stops accepting, waits for in-flight requests
      await admins?.close();
      await workers.stop();
      await registry.close();
      await store.close();
    })();
    return closing;
  }
  try {
    if (config.onReady) await config.onReady({ loyalty, store });
    const url = await app.listen({ port: config.port, host: config.host });
    // Outbox (email, push, SMS, the stores' discount codes, webhooks) and ticks, per shop.
    await workers.start();
    return { app, loyalty, store, registry, workers, url, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
