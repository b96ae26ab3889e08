#!/usr/bin/env node
// The `loyalty` command: replay a history, check a program, run the server, backfill.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createEngine, replay, LoyaltyError } from '../index.js';

const USAGE = `usage:
  loyalty replay --program P.json --events E.jsonl [--secret S]
      replays events and prints {"customers": {id: account view}, "effects": [...]}
  loyalty simulate --program A.json --vs B.json --events E.jsonl [--secret S] [--json]
      replays a history under two programs in parallel and prints, side by side, points
      issued, redeemed, expired, reversed, outstanding (and their value), rewards issued
  loyalty check P.json
      validates a program and prints the first error with its JSON path
  loyalty serve [--program P.json] [--data DIR] [--port N] [--host H] [--demo]
      runs the HTTP backend (env: LOYALTY_TOKEN, SHOPIFY_SECRETS, WOO_SECRET, LOYALTY_SECRET,
      DATABASE_URL, PORT, HOST, LOYALTY_TICK_SECONDS); --demo seeds demo customers
  loyalty send-sample [--url URL] [--secret S] [--customer C]
      posts a new signed sample Shopify order (orders/paid) to a running server
  loyalty import --program P.json --file orders.jsonl|export.json [--data DIR] [--batch N] [--skip-invalid]
      backfills canonical events (JSONL) or a Shopify orders export ({"orders": [...]}) in
      chunks of N events (2000), one transaction each; stops at a bad event (reported by line
      and field; fix it and run again) unless --skip-invalid
  loyalty rebuild --program P.json [--data DIR]
      recomputes every account from its events; prints differences, exit 1 if any
  loyalty notify --program P.json [--data DIR] [--once]
      delivers the outbox (email, push, SMS, merchant webhooks) apart from the web servers
      (env: SMTP_URL, VAPID_*, SMS_WEBHOOK_URL, MERCHANT_WEBHOOK_URL, DATABASE_URL)
  loyalty reconcile --program P.json --since ISO --woo-url URL [--data DIR]
      (env: WOO_CONSUMER_KEY, WOO_CONSUMER_SECRET: secrets never on the command line, where ps shows them)
      pulls WooCommerce orders modified since ISO and applies what was missed
  loyalty connect woocommerce --url https://shop.example --program P.json [--data DIR] [--timezone ZONE]
      (env: WOO_CONSUMER_KEY, WOO_CONSUMER_SECRET, LOYALTY_ENCRYPTION_KEY, LOYALTY_PUBLIC_URL, DATABASE_URL)
      checks the REST keys, registers the webhooks, stores the shop; prints its id and token secret`;

const OPTIONS = {
  program: { type: 'string' }, events: { type: 'string' }, secret: { type: 'string' },
  data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, demo: { type: 'boolean' },
  url: { type: 'string' }, customer: { type: 'string' },
  file: { type: 'string' }, batch: { type: 'string' }, 'skip-invalid': { type: 'boolean' },
  since: { type: 'string' }, 'woo-url': { type: 'string' }, 'woo-key': { type: 'string' }, 'woo-secret': { type: 'string' },
  timezone: { type: 'string' }, once: { type: 'boolean' }, vs: { type: 'string' }, json: { type: 'boolean' },
};

function readJsonl(path) {
  const events = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      events.push(JSON.parse(line));
    } catch (err) {
      throw new LoyaltyError('invalid_event', `line ${i + 1}`, `not JSON: ${err.message}`);
    }
  });
  return events;
}

async function main(argv) {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true });
  const secret = values.secret ?? process.env.LOYALTY_SECRET ?? '';
  switch (command) {
    case 'check': {
      const path = positionals[0] ?? values.program;
      if (!path) break;
      const engine = createEngine(readFileSync(path, 'utf8'), { secret });
      const p = engine.program;
      process.stdout.write(`ok: program ${p.id} (${p.currency}, ${p.timezone}, ${p.rewards?.length ?? 0} rewards)\n`);
      return 0;
    }
    case 'replay': {
      if (!values.program || !values.events) break;
      const engine = createEngine(readFileSync(values.program, 'utf8'), { secret });
      const { customers, effects } = replay(engine, readJsonl(values.events));
      process.stdout.write(JSON.stringify({ customers, effects }, null, 2) + '\n');
      return 0;
    }
    case 'simulate':
      if (!values.program || !values.vs || !values.events) break;
      return (await import('./simulate.js')).simulateCommand(values, secret);
    case 'serve':
      return (await import('../server/commands.js')).serveCommand(values);
    case 'send-sample':
      return (await import('../server/commands.js')).sendSample(values);
    case 'import':
      if (!values.file) break;
      return (await import('../server/backfill.js')).importCommand(values);
    case 'rebuild':
      return (await import('../server/backfill.js')).rebuildCommand(values);
    case 'notify': {
      // The dispatcher as its own process (js/notify/main.js reads its settings from env).
      process.env.LOYALTY_PROGRAM = values.program ?? process.env.LOYALTY_PROGRAM ?? 'presets/seed.json';
      if (values.data) process.env.LOYALTY_DATA = values.data;
      if (values.once) process.argv.push('--once');
      await import('../notify/main.js');
      return undefined;
    }
    case 'reconcile':
      if (values['woo-secret'] || values['woo-key']) throw new LoyaltyError('usage', 'woo-secret', 'secrets on the command line are visible to every user (ps): set WOO_CONSUMER_KEY and WOO_CONSUMER_SECRET instead');
      if (!values.since || !values['woo-url']) break;
      if (!process.env.WOO_CONSUMER_KEY || !process.env.WOO_CONSUMER_SECRET) throw new LoyaltyError('config', 'WOO_CONSUMER_SECRET', 'WOO_CONSUMER_KEY and WOO_CONSUMER_SECRET are required');
      return (await import('../server/backfill.js')).reconcileCommand(values);
    case 'connect':
      if (values['woo-secret'] || values['woo-key']) throw new LoyaltyError('usage', 'woo-secret', 'secrets on the command line are visible to every user (ps): set WOO_CONSUMER_KEY and WOO_CONSUMER_SECRET instead');
      if (positionals[0] !== 'woocommerce' || !values.url) break;
      return (await import('../server/connect.js')).connectCommand(values);
  }
  process.stderr.write(USAGE + '\n');
  return 2;
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  process.stderr.write(`loyalty: ${err instanceof LoyaltyError || err?.code === 'bad_payload' ? `${err.code}: ${err.message}` : err?.stack ?? err}\n`);
  process.exitCode = 1;
}
