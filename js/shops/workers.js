// The background work of every installed shop: its outbox (notifications, the store's
// discount codes, merchant webhooks) and its clock ticks. Shops installed, changed or
// uninstalled while the server runs are picked up at the next refresh.
import { createNotifier, pushConfig, pushProviders } from '../notify/index.js';
import { startScheduler } from '../server/scheduler.js';
import { storeSyncProvider } from './store-sync.js';

/**
 * @param {{registry: object, store: object, config: object, tickSeconds: number, log?: object,
 *          shopify?: object, fetch?: typeof fetch, refreshMs?: number}} options
 *   `config`: notifyConfig(env) (email, SMS, merchant webhook, and the env shop's app pushes).
 */
export function startShopWorkers({ registry, store, config, tickSeconds, log = console, shopify, fetch, refreshMs = 30_000 }) {
  const running = new Map(); // shop id -> {version, notifier, scheduler}
  let timer = null;
  let stopped = false;

  async function stopOne(id) {
    const w = running.get(id);
    running.delete(id);
    await w?.scheduler.stop();
    await w?.notifier?.stop();
  }

  function providersOf(shop) {
    const own = {};
    const connected = shop.platform === 'shopify' ? shop.secrets.access_token : shop.secrets.consumer_key;
    if (connected) own.store = storeSyncProvider({ shop, db: store.db, shopify, fetch, shopStatus: () => registry.status(shop.id) });
    // A shop's own app credentials; the environment's serve the shop configured by it.
    if (shop.secrets.push) Object.assign(own, pushProviders(pushConfig(shop.secrets.push, {})));
    return own;
  }

  async function refresh() {
    const shops = await registry.list();
    for (const s of shops) {
      const w = running.get(s.id);
      if (s.status !== 'installed') {
        if (w) await stopOne(s.id);
        continue;
      }
      if (w && w.version === s.updated_at) continue;
      if (w) await stopOne(s.id);
      const shop = await registry.get(s.id);
      const loyalty = registry.loyalty(shop);
      const notifier = store.db ? createNotifier({ store, program: shop.id, config, log, providers: providersOf(shop) }) : null;
      if (config.seconds > 0) notifier?.dispatcher.start(config.seconds);
      const scheduler = startScheduler({ loyalty, seconds: tickSeconds, log });
      running.set(s.id, { version: s.updated_at, notifier, scheduler });
    }
    for (const id of running.keys()) if (!shops.some((s) => s.id === id)) await stopOne(id);
  }

  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => refresh().catch((err) => log.error?.({ err }, 'shop refresh failed')).finally(loop), refreshMs);
    timer.unref?.();
  };

  return {
    /** Starts (or restarts) the workers of every installed shop now. */
    async start() {
      await refresh();
      loop();
    },
    refresh,
    /** The running dispatcher of a shop (tests drain it). */
    dispatcher: (id) => running.get(id)?.notifier?.dispatcher ?? null,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      for (const id of [...running.keys()]) await stopOne(id);
    },
  };
}
