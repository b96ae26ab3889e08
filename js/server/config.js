// Server configuration from flags and the environment, and the store it selects.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LoyaltyError } from '../errors.js';
import { encryptionKey } from '../shops/crypto.js';

// A usage problem: the CLI prints the message, not a stack.
const configError = (name, message) => new LoyaltyError('config', name, message);

const list = (s) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

// Demo defaults, printed at start: a demo must work with no setup, never in production.
export const DEMO = { token: 'demo-token', shopify: 'demo-shopify-secret', woo: 'demo-woo-secret', secret: 'demo-coupon-secret', shop: 'demo.myshopify.com' };

// Any of these means "this is a real deployment": demo mode refuses to run beside them, so
// a published demo secret can never sign a real store's webhooks.
export const PRODUCTION_SETTINGS = [
  'LOYALTY_TOKEN', 'LOYALTY_SECRET', 'SHOPIFY_SECRETS', 'SHOPIFY_SECRET', 'WOO_SECRET', 'DATABASE_URL',
  'SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'LOYALTY_ENCRYPTION_KEY',
];
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

// Settings that only work together: one without the others is half a configuration.
const TOGETHER = [
  ['LOYALTY_TOKEN', 'LOYALTY_SECRET'],
  ['SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'SHOPIFY_APP_URL'],
];
// Settings that need another (one way): installed shops keep their tokens sealed.
const NEEDS = [['SHOPIFY_API_KEY', 'LOYALTY_ENCRYPTION_KEY']];

/**
 * @param {{program?: string, data?: string, port?: string|number, host?: string, demo?: boolean}} flags
 * @param {NodeJS.ProcessEnv} env
 */
export function serverConfig(flags = {}, env = process.env) {
  const demo = flags.demo === true;
  const host = flags.host ?? env.HOST ?? '127.0.0.1';
  if (demo) {
    const set = PRODUCTION_SETTINGS.filter((name) => env[name]);
    if (set.length) throw configError(set[0], `is set, so this is not a demo: run \`loyalty serve\` without --demo (production settings present: ${set.join(', ')})`);
    if (!LOOPBACK.has(host)) throw configError('HOST', `the demo listens on loopback only (127.0.0.1, ::1, localhost), not ${host}`);
  } else {
    for (const group of TOGETHER) {
      const given = group.filter((name) => env[name]);
      const missing = group.filter((name) => !env[name]);
      if (given.length && missing.length) throw configError(missing[0], `is required with ${given.join(', ')}: half a production configuration does not start`);
    }
    for (const [setting, needed] of NEEDS) {
      if (env[setting] && !env[needed]) throw configError(needed, `is required with ${setting}: half a production configuration does not start`);
    }
  }
  const programPath = flags.program ?? env.LOYALTY_PROGRAM ?? (demo ? new URL('../../presets/seed.json', import.meta.url).pathname : undefined);
  if (!programPath) throw configError('program', '--program P.json (or LOYALTY_PROGRAM) is required');
  const config = {
    demo,
    programPath,
    program: readFileSync(programPath, 'utf8'),
    token: demo ? DEMO.token : env.LOYALTY_TOKEN,
    // An adapter without its own secret is off: no platform falls back to a public default.
    shopifySecrets: demo ? [DEMO.shopify] : list(env.SHOPIFY_SECRETS ?? env.SHOPIFY_SECRET),
    wooSecrets: demo ? [DEMO.woo] : list(env.WOO_SECRET),
    // The store these secrets belong to: a webhook naming another shop is refused.
    shopifyShop: demo ? DEMO.shop : env.SHOPIFY_SHOP_DOMAIN || undefined,
    wooUrl: env.WOO_URL || undefined,
    shopifyEarnOn: env.SHOPIFY_EARN_ON || 'orders/paid',
    secret: demo ? DEMO.secret : env.LOYALTY_SECRET,
    databaseUrl: demo ? undefined : env.DATABASE_URL || undefined,
    dataDir: resolve(flags.data ?? env.LOYALTY_DATA ?? 'data'),
    port: Number(flags.port ?? env.PORT ?? 8787),
    host,
    // Shops installed through the Shopify app sign their webhooks with the app's secret.
    shopifyAppSecrets: list([env.SHOPIFY_API_SECRET, env.SHOPIFY_API_SECRET_PREVIOUS].filter(Boolean).join(',')),
    encryptionKey: env.LOYALTY_ENCRYPTION_KEY ? encryptionKey(env.LOYALTY_ENCRYPTION_KEY) : undefined,
    // The public Shopify app: installs by OAuth (js/server/shopify-install.js).
    shopifyApp: Boolean(env.SHOPIFY_API_KEY),
    // `true`, a number of hops, or the balancers' addresses (Fastify's trustProxy).
    trustProxy: env.TRUST_PROXY ? (env.TRUST_PROXY === 'true' ? true : /^\d+$/.test(env.TRUST_PROXY) ? Number(env.TRUST_PROXY) : env.TRUST_PROXY) : false,
    tickSeconds: Number(env.LOYALTY_TICK_SECONDS ?? 60),
    bodyLimit: Number(env.LOYALTY_BODY_LIMIT ?? 1024 * 1024),
  };
  if (!config.token) throw configError('LOYALTY_TOKEN', 'is required: the admin API has no anonymous access');
  if (!config.secret) throw configError('LOYALTY_SECRET', 'is required: it keys the coupon codes');
  if (config.shopifySecrets.length && !config.shopifyShop) throw configError('SHOPIFY_SHOP_DOMAIN', 'is required with SHOPIFY_SECRETS: webhooks are accepted only for that shop');
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw configError('PORT', `not a port: ${config.port}`);
  return config;
}

/**
 * PostgreSQL when DATABASE_URL is set, else PGlite in the data folder.
 * `max`: the PostgreSQL pool size (else the store's default).
 */
export async function openStore({ databaseUrl, dataDir, max }) {
  if (databaseUrl) {
    const { openPostgresStore } = await import('../stores/postgres.js');
    return openPostgresStore({ connectionString: databaseUrl, max });
  }
  const { openPgliteStore } = await import('../stores/pglite.js');
  return openPgliteStore({ dataDir });
}
