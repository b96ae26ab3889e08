// `loyalty simulate`: two programs over one history, side by side, with a progress bar on
// stderr when it is a terminal.
import { readFileSync } from 'node:fs';
import { simulate } from '../simulate.js';
import { LoyaltyError } from '../errors.js';

const FLAGS = { program: '--program', vs: '--vs' };

function read(path, field) {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new LoyaltyError('not_found', field, `cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

function progressBar(stream) {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  const draw = ({ bytes, total, events }) => {
    const share = total ? bytes / total : 1;
    const width = 30;
    const full = Math.round(share * width);
    stream.write(`\rsimulating [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(share * 100).toFixed(0).padStart(3)}% ${events.toLocaleString('en-US')} events`);
  };
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100 && p.bytes < p.total) return;
      last = now;
      draw(p);
    },
    done() {
      stream.write('\r\x1b[K');
    },
  };
}

const fmt = (n) => (n == null ? '-' : typeof n === 'string' ? n : n.toLocaleString('en-US'));
const diff = (a, b) => {
  if (typeof a !== 'number' || typeof b !== 'number') return '';
  const d = b - a;
  return d === 0 ? '0' : `${d > 0 ? '+' : ''}${d.toLocaleString('en-US')}`;
};
/** `b - a` for two amounts of one currency (same decimals), exactly: no floats near money. */
function amountDiff(a, b) {
  const minor = (v) => BigInt(v.replace('.', ''));
  const decimals = (a.split('.')[1] ?? '').length;
  const d = minor(b) - minor(a);
  const digits = (d < 0n ? -d : d).toString().padStart(decimals + 1, '0');
  const text = decimals ? `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` : digits;
  return d === 0n ? text : `${d > 0n ? '+' : '-'}${text}`;
}

/** The two reports as a table: one row per figure, a column per program and their difference. */
export function table(a, b, labels) {
  const p = (r) => r.points;
  const ids = [...new Set([...Object.keys(a.rewards), ...Object.keys(b.rewards)])].sort();
  const rows = [
    ['events', a.events, b.events],
    ['customers', a.customers, b.customers],
    ['points issued', p(a).issued, p(b).issued],
    ['points adjusted', p(a).adjusted, p(b).adjusted],
    ['points redeemed', p(a).redeemed, p(b).redeemed],
    ['points expired', p(a).expired, p(b).expired],
    ['points reversed', p(a).reversed, p(b).reversed],
    ['points forgiven', p(a).forgiven, p(b).forgiven],
    ['points donated', p(a).donated, p(b).donated],
    ['points given back (cancelled coupons)', p(a).restored, p(b).restored],
    ['outstanding points', p(a).outstanding, p(b).outstanding],
    ['  pending', p(a).pending, p(b).pending],
    [`outstanding value (${a.currency} / ${b.currency})`, a.liability.value, b.liability.value,
      a.liability.value != null && b.liability.value != null && a.currency === b.currency
        ? amountDiff(a.liability.value, b.liability.value) : ''],
    ['rewards issued', a.coupons, b.coupons],
    ...ids.map((id) => [`  ${id}`, a.rewards[id] ?? 0, b.rewards[id] ?? 0]),
    ['skipped events', a.skipped, b.skipped],
  ];
  const head = ['', labels[0], labels[1], `difference`];
  const cells = [head, ...rows.map(([k, x, y, d]) => [k, fmt(x), fmt(y), d ?? diff(x, y)])];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

export async function simulateCommand(values, secret) {
  const bar = progressBar(process.stderr);
  let out;
  try {
    out = await simulate({
      program: read(values.program, 'program'),
      vs: read(values.vs, 'vs'),
      events: values.events,
      secret,
      onProgress: (p) => bar.update(p),
    });
  } catch (err) {
    if (err instanceof LoyaltyError && err.program) {
      throw new LoyaltyError(err.code, err.path, `${err.message.slice(err.path ? err.path.length + 2 : 0)} (in ${FLAGS[err.program]} ${values[err.program]})`);
    }
    throw err;
  } finally {
    bar.done();
  }
  if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else process.stdout.write(table(out.program, out.vs, [values.program, values.vs]) + '\n');
  return 0;
}
