// The public Shopify app on this backend: OAuth install with Shopify's own library, the
// shop stored with its offline token sealed, and its webhook subscriptions registered
// through the Admin GraphQL API. The compliance topics (customers/data_request,
// customers/redact, shop/redact) cannot be subscribed by API: they are declared in the
// app's configuration (README, "Connect a Shopify store"), to the same /webhooks/shopify.
import { createShopifyApp } from '../platforms/shopify-app.js';
import { createShopifyAdmin } from '../platforms/shopify-admin.js';
import { shopifyAuthRoutes } from './shopify-auth.js';

export const SHOPIFY_TOPICS = ['orders/paid', 'orders/cancelled', 'refunds/create', 'customers/create', 'customers/update', 'app/uninstalled'];

/**
 * Mounts /shopify/auth and /shopify/auth/callback on `app` and returns the configured
 * Shopify app (for the Admin API clients of the store sync).
 * @param {object} app Fastify
 * @param {{env: object, registry: object, program: object, shopify?: object, log?: object, onInstalled?: Function}} options
 *   `program`: the program a newly installed shop starts with (the merchant edits it after).
 */
export async function shopifyInstall(app, { env, registry, program, shopify = createShopifyApp(env), log = console, onInstalled = async () => {} }) {
  // Where Shopify delivers webhooks: the app's own URL, unless it is reached through another
  // https address (a tunnel, a load balancer): SHOPIFY_WEBHOOK_URL.
  const webhookUrl = env.SHOPIFY_WEBHOOK_URL || `${String(env.SHOPIFY_APP_URL).replace(/\/+$/, '')}/webhooks/shopify`;
  const earnOn = env.SHOPIFY_EARN_ON || 'orders/paid';
  const topics = SHOPIFY_TOPICS.map((t) => (t === 'orders/paid' ? earnOn : t));

  async function installed({ shop, accessToken, scope }) {
    const known = await registry.byDomain('shopify', shop);
    // A reinstall keeps the shop's program and ledger; only the token and status change.
    const saved = await registry.save({
      platform: 'shopify', domain: shop, program: known?.program ?? program, secrets: { access_token: accessToken }, scope, status: 'installed',
      settings: known ? undefined : { combines_with: { order: false, product: false, shipping: true } },
    });
    const admin = createShopifyAdmin({ shopify, shop, accessToken });
    const subscribed = await admin.registerWebhooks(webhookUrl, topics);
    log.info?.({ shop: saved.id, webhooks: subscribed.map((w) => `${w.topic}${w.created ? ' (new)' : ''}`) }, 'shop installed');
    await onInstalled(saved);
  }

  await app.register(shopifyAuthRoutes, { prefix: '/shopify', shopify, onInstalled: installed });
  return shopify;
}
