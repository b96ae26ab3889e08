// `loyalty import`, `loyalty rebuild` and `loyalty reconcile`: bulk paths into the same
// durable ledger the server writes. Import and reconcile go through loyalty.importMany
// (chunks of events, one transaction each); every event id dedupes, so a run repeated
// changes nothing.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, stringify } from 'lossless-json';
import { createLoyalty } from '../loyalty.js';
import { LoyaltyError } from '../errors.js';
import { createShopifyAdapter } from '../platforms/shopify.js';
import { createWooAdapter } from '../platforms/woocommerce.js';
import { openStore } from './config.js';

// Exact ids: unsafe integers stay strings (as the adapters' own parser does).
const parseLossless = (text) => parse(text, null, (n) => (/^-?\d+$/.test(n) && !Number.isSafeInteger(Number(n)) ? n : Number(n)));
const rawOf = (obj) => Buffer.from(stringify(obj));

// Shopify financial states that are not a purchase (yet): nothing to earn.
const UNPAID = new Set(['pending', 'authorized', 'voided', 'expired']);

/**
 * Canonical events from a file: JSONL of events, or a Shopify export {orders: [...]}.
 * `where[i]` says where event i came from: {line} in JSONL, {source: "orders[3]"} in an export.
 */
export function eventsFromFile(path) {
  const text = readFileSync(path, 'utf8');
  const head = text.trimStart();
  if (head.startsWith('{')) {
    let doc;
    try {
      doc = parseLossless(head);
    } catch {
      doc = null; // not one JSON document: JSONL whose lines are objects
    }
    if (doc && Array.isArray(doc.orders)) return { format: 'shopify-export', ...shopifyExportEvents(doc.orders) };
  }
  const events = [];
  const where = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      events.push(JSON.parse(line));
      where.push({ line: i + 1 });
    } catch (err) {
      throw new LoyaltyError('invalid_event', `line ${i + 1}`, `not JSON: ${err.message}`);
    }
  });
  return { format: 'jsonl', events, where, ignored: 0 };
}

/** Each exported order through the webhook mapping: the purchase, then its refunds. */
export function shopifyExportEvents(orders) {
  const adapter = createShopifyAdapter({ secrets: ['import'], earnOn: 'orders/create' });
  const events = [];
  const where = [];
  let ignored = 0;
  orders.forEach((order, i) => {
    if (UNPAID.has(order.financial_status)) return void ignored++;
    const map = (topic, body, path) => {
      try {
        const out = adapter.toEvents({ 'x-shopify-topic': topic }, rawOf(body));
        if (out.kind === 'events') {
          events.push(...out.events);
          where.push(...out.events.map(() => ({ source: `orders[${i}]${path}` })));
        } else ignored++;
      } catch (err) {
        if (err.code === 'bad_payload') throw new LoyaltyError('bad_payload', `orders[${i}]${path}.${err.field}`, err.message);
        throw err;
      }
    };
    map('orders/create', order, '');
    const customer = order.customer;
    (order.refunds ?? []).forEach((r, j) => map('refunds/create', { ...r, order_id: r.order_id ?? order.id, customer }, `.refunds[${j}]`));
  });
  return { events, where, ignored };
}

/** A progress bar on a TTY, nothing otherwise. */
function progressBar(total, stream = process.stderr) {
  if (!stream.isTTY || total === 0) return { update() {}, done() {} };
  const width = 30;
  const draw = (n) => {
    const filled = Math.round((n / total) * width);
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total} events`);
  };
  return { update: draw, done: () => stream.write('\n') };
}

async function withLoyalty(flags, fn) {
  if (!flags.program) throw new LoyaltyError('usage', 'program', '--program P.json is required');
  const store = await openStore({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir: resolve(flags.data ?? process.env.LOYALTY_DATA ?? 'data') });
  const loyalty = createLoyalty({ program: readFileSync(flags.program, 'utf8'), store, secret: flags.secret ?? process.env.LOYALTY_SECRET ?? '' });
  try {
    return await fn(loyalty);
  } finally {
    await loyalty.close();
  }
}

const print = (obj) => process.stdout.write(JSON.stringify(obj, null, 2) + '\n');

/**
 * `loyalty import`: a bad event stops the import there (the events before it are kept; fix
 * it and run again), or with --skip-invalid is reported and left out. Exit 1 if any.
 */
export async function importCommand(flags) {
  const { format, events, where, ignored } = eventsFromFile(flags.file);
  const chunk = Number(flags.batch ?? 2000);
  if (!Number.isInteger(chunk) || chunk < 1) throw new LoyaltyError('usage', 'batch', 'must be a positive integer');
  return withLoyalty(flags, async (loyalty) => {
    const bar = progressBar(events.length);
    const s = await loyalty.importMany(events, { chunk, onError: flags['skip-invalid'] ? 'skip' : 'stop', onProgress: bar.update });
    bar.done();
    // Each error names its place in the file: {line} or {source}, then the event and field.
    const located = ({ index, ...e }) => ({ ...where[index], ...e });
    const errors = s.errors.map(located);
    print({ format, ignored, ...s, stopped: s.stopped && located(s.stopped), errors: errors.slice(0, 20), error_count: errors.length });
    return errors.length ? 1 : 0;
  });
}

export async function rebuildCommand(flags) {
  return withLoyalty(flags, async (loyalty) => {
    const { events, accounts, differences } = await loyalty.rebuild();
    print({ events, accounts, differences });
    return differences.length ? 1 : 0;
  });
}

/**
 * Pages through WooCommerce's REST API for orders modified since `since` and applies them
 * through the webhook mapping: deliveries WooCommerce never retried get applied, the rest dedupe.
 */
export async function reconcileWoo(loyalty, { since, url, key, secret, perPage = 100, fetch: get = fetch }) {
  const at = new Date(since);
  if (Number.isNaN(at.getTime())) throw new LoyaltyError('usage', 'since', `not a time: ${since}`);
  const adapter = createWooAdapter({ secrets: ['reconcile'] });
  const auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
  const summary = { orders: 0, ignored: 0, events: 0, applied: 0, duplicates: 0, skipped: 0, errors: [] };
  for (let page = 1; ; page++) {
    const q = new URLSearchParams({ modified_after: at.toISOString(), dates_are_gmt: 'true', page: String(page), per_page: String(perPage) });
    const res = await get(`${url.replace(/\/$/, '')}/wp-json/wc/v3/orders?${q}`, { headers: { authorization: auth, accept: 'application/json' } });
    if (!res.ok) throw new Error(`WooCommerce answered ${res.status} for page ${page}: ${(await res.text()).slice(0, 200)}`);
    const orders = parseLossless(await res.text());
    if (!Array.isArray(orders)) throw new Error(`WooCommerce page ${page} is not an array of orders`);
    for (const order of orders) {
      summary.orders++;
      const out = adapter.toEvents({ 'x-wc-webhook-topic': 'order.updated' }, rawOf(order));
      if (out.kind !== 'events') { summary.ignored++; continue; }
      // A bad event is reported and the order's other events still apply.
      const r = await loyalty.importMany(out.events, { onError: 'skip' });
      summary.events += r.events;
      summary.applied += r.applied;
      summary.duplicates += r.duplicates;
      summary.skipped += r.skipped;
      summary.errors.push(...r.errors.map(({ event, code, path, message }) => ({ event, error: { code, path, message } })));
    }
    const pages = Number(res.headers.get('x-wp-totalpages'));
    if (orders.length < perPage || (pages && page >= pages)) return summary;
  }
}

export async function reconcileCommand(flags) {
  return withLoyalty(flags, async (loyalty) => {
    const summary = await reconcileWoo(loyalty, { since: flags.since, url: flags['woo-url'], key: process.env.WOO_CONSUMER_KEY, secret: process.env.WOO_CONSUMER_SECRET });
    print(summary);
    return summary.errors.length ? 1 : 0;
  });
}
