// A realistic synthetic history of canonical events for `loyalty simulate`, deterministic
// for a seed: customers of uneven loyalty placing 3-line orders, some refunds (a line) and
// cancellations, reward redemptions, staff grants, and a clock.tick every night, over two
// years.
//
//   node tests/bench/history.js --events 1000000 --out target/bench/history.jsonl [--seed 1]
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const DAY = 86_400_000;
const START = Date.parse('2025-01-01T00:00:00Z');
const DAYS = 730;

/** A small deterministic generator (mulberry32): the same seed, the same history. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const price = (cents) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
const SKUS = [['TEE', 'apparel', 1990, 3990], ['MUG', 'home', 890, 1890], ['CAP', 'apparel', 1490, 2990], ['BAG', 'bags', 2990, 12900], ['SOCK', 'apparel', 490, 1290], ['LAMP', 'home', 3990, 8990]];

/**
 * Yields `count` JSONL lines (without newlines), in time order.
 * @param {{count: number, seed?: number, customers?: number}} options
 */
export function* history({ count, seed = 1, customers = Math.max(100, Math.round(count / 20)) }) {
  const rnd = random(seed);
  const pick = (n) => Math.floor(rnd() * n);
  const perDay = (count - DAYS) / DAYS;
  const recent = []; // [order id, units of l1 left, cancelled] of the latest orders
  let written = 0;
  let n = 0;
  for (let day = 0; day < DAYS && written < count; day++) {
    const today = Math.round(perDay * (day + 1)) - Math.round(perDay * day);
    for (let k = 0; k < today && written < count - 1; k++) {
      const at = new Date(START + day * DAY + Math.floor((k / today) * (DAY - 3_600_000))).toISOString();
      // Loyal customers (a tenth) place 40% of the events, about 80 in two years each; the
      // rest about 13 each.
      const loyal = Math.ceil(customers / 10);
      const customer = `c${rnd() < 0.4 ? pick(loyal) : loyal + pick(customers - loyal)}`;
      const r = rnd();
      const id = `e${n++}`;
      // A refund or cancellation of an order that has nothing left to take back is an
      // order instead, so the count stays exact.
      const o = recent.length ? recent[pick(recent.length)] : [null, 0, true];
      if (r < 0.04 && !o[2] && o[1] > 0) {
        o[1] -= 1;
        yield `{"id":"${id}","type":"order.refunded","at":"${at}","order_id":"${o[0]}","lines":[{"id":"l1","quantity":1}]}`;
      } else if (r >= 0.04 && r < 0.055 && !o[2]) {
        o[2] = true;
        yield `{"id":"${id}","type":"order.cancelled","at":"${at}","order_id":"${o[0]}"}`;
      } else if (r < 0.09) {
        yield `{"id":"${id}","type":"reward.redeemed","at":"${at}","customer":"${customer}","reward":"threshold-10pct"}`;
      } else if (r < 0.095) {
        yield `{"id":"${id}","type":"points.adjusted","at":"${at}","customer":"${customer}","points":${100 * (1 + pick(5))},"reason":"goodwill","by":"staff-${pick(4)}"}`;
      } else {
        const order = `o${n}`;
        const q1 = 1 + pick(3);
        const lines = [0, 1, 2].map((i) => {
          const [sku, category, lo, hi] = SKUS[pick(SKUS.length)];
          const q = i === 0 ? q1 : 1 + pick(2);
          const unit = lo + pick(hi - lo);
          const discount = pick(4) === 0 ? `,"discount":"${price(Math.floor(unit * q / 10))}"` : '';
          return `{"id":"l${i + 1}","sku":"${sku}","product_id":"${sku.toLowerCase()}-1","categories":["${category}"],"quantity":${q},"unit_price":"${price(unit)}"${discount}}`;
        });
        recent.push([order, q1, false]);
        if (recent.length > 2000) recent.splice(0, 1000);
        yield `{"id":"${id}","type":"order.placed","at":"${at}","customer":"${customer}","order":{"id":"${order}","currency":"EUR","shipping":"4.90","lines":[${lines.join(',')}]}}`;
      }
      written++;
    }
    yield `{"id":"tick-${day}","type":"clock.tick","at":"${new Date(START + (day + 1) * DAY - 1000).toISOString()}"}`;
    written++;
  }
}

/** Writes `count` events to `path`; resolves when the file is complete. */
export async function writeHistory(path, options) {
  const out = createWriteStream(path);
  let buf = '';
  for (const line of history(options)) {
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise((resolve, reject) => out.on('finish', resolve).on('error', reject));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } } });
  await writeHistory(values.out ?? '/dev/stdout', { count: Number(values.events ?? 1_000_000), seed: Number(values.seed ?? 1) });
}
