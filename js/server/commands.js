// The `loyalty serve` and `loyalty send-sample` commands.
import { serverConfig, DEMO } from './config.js';
import { serve } from './serve.js';
import { seedDemo, seedDemoOwner, demoBanner, sampleShopifyOrder, sign } from './demo.js';

export async function serveCommand(flags) {
  const config = serverConfig(flags);
  if (config.demo) {
    config.onReady = async ({ loyalty, store }) => {
      await seedDemo(loyalty);
      await seedDemoOwner(store.db, loyalty.program.id);
    };
  }
  // JSON logs to stderr; the banner and nothing else to stdout.
  const server = await serve(config, { logger: { level: process.env.LOG_LEVEL ?? 'info', stream: process.stderr } });
  process.stdout.write(config.demo ? demoBanner({ url: server.url, config }) + '\n' : `listening on ${server.url}\n`);
  const stop = (signal) => {
    server.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => process.exit(0),
      (err) => { server.app.log.error({ err }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return new Promise(() => {}); // runs until a signal
}

export async function sendSample(flags) {
  const url = (flags.url ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`).replace(/\/$/, '');
  const secret = flags.secret ?? (process.env.SHOPIFY_SECRETS ?? process.env.SHOPIFY_SECRET ?? DEMO.shopify).split(',')[0].trim();
  const id = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const body = JSON.stringify(sampleShopifyOrder({ id, customer: flags.customer ?? 'demo-2', currency: process.env.LOYALTY_CURRENCY ?? 'EUR' }));
  const res = await fetch(`${url}/webhooks/shopify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/paid', 'x-shopify-webhook-id': `sample-${id}`, 'x-shopify-hmac-sha256': sign(secret, body) },
    body,
  });
  process.stdout.write(`${res.status} ${await res.text()}\n`);
  return res.ok ? 0 : 1;
}
