// `loyalty serve`: opens the store, builds the app, listens, ticks, and shuts down
// gracefully (in-flight requests finish, then the store closes).
import { createLoyalty } from '../loyalty.js';
import { createShopifyAdapter } from '../platforms/shopify.js';
import { createWooAdapter } from '../platforms/woocommerce.js';
import { buildApp } from './app.js';
import { startScheduler } from './scheduler.js';
import { openStore } from './config.js';
import { startNotifier } from '../notify/index.js';
import { notifyLocale } from '../notify/config.js';

/** Starts a server from a serverConfig(); resolves once it listens. */
export async function serve(config, { logger = true } = {}) {
  const store = await openStore(config);
  const loyalty = createLoyalty({ program: config.program, store, secret: config.secret });
  const adapters = {};
  if (config.shopifySecrets.length) adapters.shopify = createShopifyAdapter({ secrets: config.shopifySecrets, earnOn: config.shopifyEarnOn });
  if (config.wooSecrets.length) adapters.woocommerce = createWooAdapter({ secrets: config.wooSecrets });
  const env = config.env ?? process.env;
  const app = buildApp({ loyalty, store, token: config.token, adapters, bodyLimit: config.bodyLimit, logger, notifyLocale: notifyLocale(env) });
  let scheduler;
  let notifier;
  let closing;
  async function close() {
    // Idempotent: a second signal waits for the first shutdown instead of racing it.
    closing ??= (async () => {
      await app.close(); // stops accepting, waits for in-flight requests
      await scheduler?.stop();
      await notifier?.stop();
      await loyalty.close();
    })();
    return closing;
  }
  try {
    if (config.onReady) await config.onReady({ loyalty, store });
    const url = await app.listen({ port: config.port, host: config.host });
    scheduler = startScheduler({ loyalty, seconds: config.tickSeconds, log: app.log });
    notifier = startNotifier({ loyalty, store, env, log: app.log }); // outbox -> email, push, SMS, webhooks
    return { app, loyalty, store, url, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
