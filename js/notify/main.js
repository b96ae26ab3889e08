#!/usr/bin/env node
// A standalone dispatcher process (`node js/notify/main.js`), for running delivery apart
// from the web servers: LOYALTY_PROGRAM (program file), DATABASE_URL or LOYALTY_DATA, and
// the notification settings of config.js. `--once` drains what is due and exits. Several
// may run at once on PostgreSQL: leases keep their rows apart.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { notifyConfig } from './config.js';
import { createNotifier } from './index.js';
import { openStore } from '../server/config.js';

const env = process.env;
const log = { info: (o, m) => console.log(JSON.stringify({ msg: m, ...o })), warn: (o, m) => console.error(JSON.stringify({ msg: m, ...o })), error: (o, m) => console.error(m, o?.err ?? o) };
const program = JSON.parse(readFileSync(env.LOYALTY_PROGRAM, 'utf8'));
const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: resolve(env.LOYALTY_DATA ?? 'data'), max: 2 });
const config = notifyConfig(env);
const notifier = createNotifier({ store, program: program.id, config, log, jitter: 0 });
const { dispatcher } = notifier;

async function shutdown() {
  await notifier.stop();
  await store.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (process.argv.includes('--once')) {
  const summary = await dispatcher.drain();
  console.log(JSON.stringify({ msg: 'drained', ...summary }));
  await shutdown();
} else {
  console.log(JSON.stringify({ msg: 'dispatcher started', owner: dispatcher.owner }));
  dispatcher.start(config.seconds || 1);
}
