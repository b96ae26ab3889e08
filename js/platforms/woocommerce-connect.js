// Connecting a WooCommerce store: check the REST keys, read the store's money and time zone,
// and register the webhooks the loop needs. No database here: the lead stores the result
// (credentials encrypted) in the shop.
import { randomBytes } from 'node:crypto';
import { createWooRestClient, storeUrl } from './woocommerce-rest.js';

// Orders earn, refund and cancel; customers give the email a coupon is restricted to.
export const WOO_TOPICS = ['order.created', 'order.updated', 'customer.created', 'customer.updated'];

/**
 * @param {{url: string, key: string, secret: string, webhookUrl: string, webhookSecret?: string,
 *          timezone?: string, fetch?: typeof fetch, timeoutMs?: number}} options
 *   timezone: the site's zone when its public REST index (/wp-json/) is closed; read from it otherwise.
 * @returns {Promise<{url: string, domain: string, currency: string, decimals: number, timezone: string,
 *          webhooks: Array<{topic: string, id: string, created: boolean}>, webhookSecret: string}>}
 * @example
 * const shop = await connectWooStore({ url: 'https://shop.example', key: 'ck_…', secret: 'cs_…',
 *   webhookUrl: 'https://loyalty.example/webhooks/woocommerce/shop-1' });
 */
export async function connectWooStore({ url, key, secret, webhookUrl, webhookSecret, timezone, fetch, timeoutMs }) {
  const client = createWooRestClient({ url, key, secret, fetch, timeoutMs });
  // settings/general needs the manage_woocommerce capability behind the key, so a bad key or
  // secret fails here (401, with the key named) before anything is written to the store.
  const settings = await client.storeSettings({ timezone });
  // 32 random bytes as hex: printable (WooCommerce stores the secret HTML-escaped and signs with
  // the decoded form, so a secret without & < > " ' is signed exactly as given).
  const secretToUse = webhookSecret ?? randomBytes(32).toString('hex');
  const webhooks = await client.registerWebhooks(webhookUrl, WOO_TOPICS, secretToUse);
  const base = storeUrl(url);
  return {
    url: base,
    // The shop's key for incoming webhooks: X-WC-Webhook-Source is home_url('/'), which can differ
    // from the URL typed (www., a subdirectory install); without the index, the URL typed.
    domain: settings.home ?? base,
    currency: settings.currency,
    decimals: settings.price_decimals,
    timezone: settings.timezone,
    webhooks,
    webhookSecret: secretToUse,
  };
}
