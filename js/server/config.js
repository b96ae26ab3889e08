// Server configuration from flags and the environment, and the store it selects.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LoyaltyError } from '../errors.js';

// A usage problem: the CLI prints the message, not a stack.
const configError = (name, message) => new LoyaltyError('config', name, message);

const list = (s) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

// Demo defaults, printed at start: a demo must work with no setup, never in production.
export const DEMO = { token: 'demo-token', shopify: 'demo-shopify-secret', woo: 'demo-woo-secret', secret: 'demo-coupon-secret' };

/**
 * @param {{program?: string, data?: string, port?: string|number, host?: string, demo?: boolean}} flags
 * @param {NodeJS.ProcessEnv} env
 */
export function serverConfig(flags = {}, env = process.env) {
  const demo = flags.demo === true;
  const programPath = flags.program ?? env.LOYALTY_PROGRAM ?? (demo ? new URL('../../presets/seed.json', import.meta.url).pathname : undefined);
  if (!programPath) throw configError('program', '--program P.json (or LOYALTY_PROGRAM) is required');
  const config = {
    demo,
    programPath,
    program: readFileSync(programPath, 'utf8'),
    token: env.LOYALTY_TOKEN || (demo ? DEMO.token : undefined),
    shopifySecrets: list(env.SHOPIFY_SECRETS ?? env.SHOPIFY_SECRET),
    wooSecrets: list(env.WOO_SECRET),
    shopifyEarnOn: env.SHOPIFY_EARN_ON || 'orders/paid',
    secret: env.LOYALTY_SECRET ?? (demo ? DEMO.secret : ''),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(flags.data ?? env.LOYALTY_DATA ?? 'data'),
    port: Number(flags.port ?? env.PORT ?? 8787),
    host: flags.host ?? env.HOST ?? '127.0.0.1',
    tickSeconds: Number(env.LOYALTY_TICK_SECONDS ?? 60),
    bodyLimit: Number(env.LOYALTY_BODY_LIMIT ?? 1024 * 1024),
  };
  if (demo && config.shopifySecrets.length === 0) config.shopifySecrets = [DEMO.shopify];
  if (demo && config.wooSecrets.length === 0) config.wooSecrets = [DEMO.woo];
  if (!config.token) throw configError('LOYALTY_TOKEN', 'is required: the admin API has no anonymous access');
  if (!config.secret) throw configError('LOYALTY_SECRET', 'is required: it keys the coupon codes');
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
