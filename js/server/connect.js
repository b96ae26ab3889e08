// Connecting a WooCommerce store to a shop: `loyalty connect woocommerce` and the admin
// panel's POST /api/shops/woocommerce both come here. The store is checked (keys, currency,
// decimals, zone), its 4 webhooks registered with a secret we generate, and the shop saved
// with its credentials sealed. Connecting again adopts the same shop (same id, ledger kept)
// and re-uses the store's webhooks (registerWebhooks never creates one twice).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectWooStore } from '../platforms/woocommerce-connect.js';
import { createWooRestClient, storeUrl } from '../platforms/woocommerce-rest.js';
import { createEngine, LoyaltyError } from '../index.js';
import { encryptionKey } from '../shops/crypto.js';
import { StoreApiError, storeFailure } from '../platforms/store-error.js';

/** Where WooCommerce delivers: the backend's public URL (no trailing slash) + the route. */
export function wooWebhookUrl(publicUrl) {
  let u;
  try {
    u = new URL(publicUrl);
  } catch {
    throw new LoyaltyError('config', 'LOYALTY_PUBLIC_URL', `is required: the URL WooCommerce delivers webhooks to (got ${JSON.stringify(publicUrl ?? '')})`);
  }
  if (!/^https?:$/.test(u.protocol)) throw new LoyaltyError('config', 'LOYALTY_PUBLIC_URL', 'must be an http(s) URL');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}/webhooks/woocommerce`;
}

/**
 * @param {{registry: object, url: string, key: string, secret: string, publicUrl: string,
 *          program?: object, timezone?: string, fetch?: typeof fetch}} options
 *   `program`: the shop's program (replaces a reconnected shop's); without it a reconnect keeps
 *   the shop's own and a new shop takes `defaultProgram` (the server's, for the admin route).
 *   `timezone`: the site's zone when its public REST index is closed (see connectWooStore).
 * @returns {Promise<{shop: object, webhooks: object[], token_secret: string, adopted: boolean}>}
 *   `shop` without its secrets.
 */
export async function connectWoo({ registry, url, key, secret, publicUrl, program, defaultProgram, timezone, fetch }) {
  const webhookUrl = wooWebhookUrl(publicUrl);
  let client;
  try {
    client = createWooRestClient({ url, key, secret, fetch });
  } catch (err) {
    // The client's TypeErrors name the field (url, key, secret): keep that as the path.
    const field = /^(\w+):/.exec(err.message)?.[1] ?? 'url';
    throw new LoyaltyError('invalid_request', field, err.message.replace(/^\w+:\s*/, ''));
  }
  // Everything is checked BEFORE anything is written to the store: a wrong currency must not
  // leave webhooks behind. (connectWooStore reads the settings again: two GETs, once.)
  const settings = await client.storeSettings({ timezone });
  const old = await registry.byDomain('woocommerce', settings.home ?? storeUrl(url));
  const used = program ?? old?.program ?? defaultProgram;
  if (!used) throw new LoyaltyError('invalid_request', 'program', 'a new shop needs a program (--program P.json)');
  if (used.currency !== settings.currency) {
    throw new LoyaltyError('invalid_request', 'program.currency',
      `is ${used.currency} but the store sells in ${settings.currency} (WooCommerce > Settings > General > Currency): a program earns and rewards in its store's currency`);
  }
  const result = await connectWooStore({ url, key, secret, webhookUrl, timezone, fetch });
  // The WordPress plugin holds the token secret: a reconnect keeps it, so the merchant does
  // not have to paste a new one. The webhook secret is new each time (registerWebhooks set
  // it on every webhook just now), so the old one stops verifying.
  const tokenSecret = typeof old?.secrets?.token_secret === 'string' ? old.secrets.token_secret : randomBytes(32).toString('base64url');
  const saved = await registry.save({
    platform: 'woocommerce',
    domain: result.domain,
    program: program ?? (old ? undefined : defaultProgram),
    status: 'installed',
    settings: { currency: result.currency, decimals: result.decimals, timezone: result.timezone, individual_use: old?.settings?.individual_use ?? false, url: result.url },
    secrets: { consumer_key: key, consumer_secret: secret, webhook_secrets: [result.webhookSecret], token_secret: tokenSecret },
  });
  const { secrets: _secrets, sealed: _sealed, ...shop } = saved;
  return { shop, webhooks: result.webhooks, token_secret: tokenSecret, adopted: Boolean(old) };
}

/**
 * `loyalty connect woocommerce --url URL --program P.json [--data DIR] [--timezone ZONE]`.
 * Keys from WOO_CONSUMER_KEY / WOO_CONSUMER_SECRET (never argv: `ps` shows it to every user).
 * With PGlite the server must be stopped (one process owns the folder); with PostgreSQL a
 * running server picks the shop up at its next refresh (30 s).
 */
export async function connectCommand(values, env = process.env, { out = process.stdout, fetch } = {}) {
  if (!values.url) throw new LoyaltyError('usage', 'url', '--url https://your-store.example is required');
  const key = env.WOO_CONSUMER_KEY;
  const secret = env.WOO_CONSUMER_SECRET;
  if (!key || !secret) throw new LoyaltyError('config', key ? 'WOO_CONSUMER_SECRET' : 'WOO_CONSUMER_KEY', 'is required: the store\'s REST API key pair (WooCommerce > Settings > Advanced > REST API, permissions Read/Write)');
  if (!env.LOYALTY_ENCRYPTION_KEY) throw new LoyaltyError('config', 'LOYALTY_ENCRYPTION_KEY', 'is required: the store keys are kept encrypted (openssl rand -base64 32)');
  const sealKey = encryptionKey(env.LOYALTY_ENCRYPTION_KEY);
  const publicUrl = env.LOYALTY_PUBLIC_URL;
  wooWebhookUrl(publicUrl); // fail before opening the store
  let program;
  if (values.program) {
    const text = readFileSync(values.program, 'utf8');
    createEngine(text, { secret: 'check-only' }); // validates: a bad program fails here, by its JSON path
    program = JSON.parse(text);
  }
  const { openStore } = await import('./config.js');
  const { createShops } = await import('../shops/registry.js');
  const store = await openStore({ databaseUrl: env.DATABASE_URL || undefined, dataDir: resolve(values.data ?? env.LOYALTY_DATA ?? 'data') });
  const registry = createShops({ store, key: sealKey, secret: env.LOYALTY_SECRET ?? '' });
  try {
    let r;
    try {
      r = await connectWoo({ registry, url: values.url, key, secret, publicUrl, program, timezone: values.timezone, fetch });
    } catch (err) {
      // The store's own words (its error code, the key masked), without a stack trace; the
      // same mapping as the admin route's.
      throw err instanceof StoreApiError ? storeFailure(err) : err;
    }
    const hooks = r.webhooks.map((w) => `${w.topic} #${w.id}${w.created ? ' (created)' : ' (kept)'}`).join(', ');
    out.write(`${r.adopted ? 'reconnected' : 'connected'}: shop ${r.shop.id} (${r.shop.domain}, ${r.shop.settings.currency}, ${r.shop.settings.timezone})\n`
      + `webhooks: ${hooks}\n`
      + `WordPress plugin settings (Settings > Loyalty Rewards):\n  backend URL: ${publicUrl}\n  shop id: ${r.shop.id}\n  token secret: ${r.token_secret}\n`);
    return 0;
  } finally {
    await registry.close();
    await store.close();
  }
}
