// `loyalty simulate` as a user runs it: figures exact against `loyalty replay` on the same
// events, the table, and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, replay, simulate } from '../../js/index.js';
import { writeHistory } from '../bench/history.js';

const root = new URL('../../', import.meta.url).pathname;
const loyalty = (...args) => spawnSync(process.execPath, [join(root, 'js/cli/loyalty.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30 });
const dir = mkdtempSync(join(tmpdir(), 'loyalty-simulate-'));
const history = join(dir, 'history.jsonl');
// Two years, 600 customers: orders, refunds, cancellations, redemptions, grants, nightly ticks.
await writeHistory(history, { count: 4000, seed: 3, customers: 600 });
const variant = 'tests/bench/variant.json';

/** What `loyalty replay` and the JS replay say of the same events under one program. */
function replayed(programPath) {
  const r = loyalty('replay', '--program', programPath, '--events', history, '--secret', 's');
  assert.equal(r.status, 0, r.stderr);
  const { customers, effects } = JSON.parse(r.stdout);
  const events = readFileSync(history, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const { states } = replay(createEngine(readFileSync(join(root, programPath), 'utf8'), { secret: 's' }), events);
  const sum = (f) => [...states.values()].reduce((n, s) => n + f(s), 0);
  const rewards = {};
  for (const e of effects.filter((x) => x.type === 'coupon.issued')) rewards[e.reward] = (rewards[e.reward] ?? 0) + 1;
  const views = Object.values(customers);
  return {
    events: events.length,
    customers: views.length,
    points: {
      issued: sum((s) => s.totals.earned), adjusted: sum((s) => s.totals.adjusted), redeemed: sum((s) => s.totals.redeemed),
      expired: sum((s) => s.totals.expired), reversed: sum((s) => s.totals.reversed), forgiven: sum((s) => s.totals.forgiven),
      donated: sum((s) => s.totals.donated ?? 0), restored: sum((s) => s.totals.restored ?? 0),
      outstanding: views.reduce((n, v) => n + v.balance, 0), pending: views.reduce((n, v) => n + v.pending, 0),
    },
    rewards,
  };
}

test('--json gives exactly the figures loyalty replay gives, for both programs', () => {
  const r = loyalty('simulate', '--program', 'presets/seed.json', '--vs', variant, '--events', history, '--secret', 's', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  const out = JSON.parse(r.stdout);
  for (const [name, path] of [['program', 'presets/seed.json'], ['vs', variant]]) {
    const got = out[name];
    const want = replayed(path);
    assert.equal(got.events, want.events);
    assert.equal(got.customers, want.customers);
    assert.deepEqual(got.points, want.points, name);
    assert.deepEqual(got.rewards, want.rewards, name);
    assert.equal(got.coupons, Object.values(want.rewards).reduce((a, b) => a + b, 0));
    assert.deepEqual(got.liability, { points: want.points.outstanding, value: null }, 'no pay_with_points, no money value');
  }
  // The history is rich enough for the comparison to mean something.
  const p = out.program.points;
  assert.ok(p.issued > 0 && p.redeemed > 0 && p.expired > 0 && p.reversed > 0 && p.adjusted > 0, JSON.stringify(p));
  assert.notEqual(out.program.points.issued, out.vs.points.issued, 'the variant earns 12 points per euro, not 10');
});

test('the table puts the two programs side by side with their difference', async () => {
  const r = loyalty('simulate', '--program', 'presets/seed.json', '--vs', variant, '--events', history);
  assert.equal(r.status, 0, r.stderr);
  const out = await simulate({ program: readFileSync(join(root, 'presets/seed.json'), 'utf8'), vs: readFileSync(join(root, variant), 'utf8'), events: history });
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^\s+presets\/seed\.json\s+tests\/bench\/variant\.json\s+difference$/);
  const row = (label) => lines.find((l) => l.startsWith(label + ' '))?.trim().split(/\s{2,}/);
  const n = (x) => x.toLocaleString('en-US');
  const side = (label, a, b) => assert.deepEqual(row(label), [label.trim(), n(a), n(b), b === a ? '0' : `${b > a ? '+' : ''}${n(b - a)}`]);
  side('points issued', out.program.points.issued, out.vs.points.issued);
  side('points expired', out.program.points.expired, out.vs.points.expired);
  side('  threshold-10pct', out.program.rewards['threshold-10pct'], out.vs.rewards['threshold-10pct']);
  assert.deepEqual(row('events'), ['events', '4,000', '4,000', '0']);
  side('customers', out.program.customers, out.vs.customers);
  side('points redeemed', out.program.points.redeemed, out.vs.points.redeemed);
  side('points reversed', out.program.points.reversed, out.vs.points.reversed);
  side('outstanding points', out.program.points.outstanding, out.vs.points.outstanding);
  side('rewards issued', out.program.coupons, out.vs.coupons);
  side('skipped events', out.program.skipped, out.vs.skipped);
});

test('a bad program is refused with its JSON path and which program it is', () => {
  const bad = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
  bad.rewards[0].coupon.type = 'percnt';
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
  const r = loyalty('simulate', '--program', 'presets/seed.json', '--vs', join(dir, 'bad.json'), '--events', history);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loyalty: invalid_program: rewards\[0\]\.coupon\.type: unknown variant "percnt", expected one of .*\(in --vs .*bad\.json\)\n$/);
});

test('missing files and bad lines fail clearly', () => {
  let r = loyalty('simulate', '--program', 'presets/seed.json', '--vs', variant, '--events', join(dir, 'nope.jsonl'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loyalty: not_found: events: cannot read .*nope\.jsonl: no such file\n$/);
  r = loyalty('simulate', '--program', join(dir, 'nope.json'), '--vs', variant, '--events', history);
  assert.match(r.stderr, /^loyalty: not_found: program: cannot read .*nope\.json: no such file\n$/);
  writeFileSync(join(dir, 'bad.jsonl'), '{"id":"t","type":"clock.tick","at":"2026-01-01T00:00:00Z"}\n\n{"id":"x","type":"order.placed","at":"2026-01-02T00:00:00Z","customer":"c1","order":{"id":"o1","currency":"USD","lines":[]}}\n');
  r = loyalty('simulate', '--program', 'presets/seed.json', '--vs', variant, '--events', join(dir, 'bad.jsonl'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loyalty: invalid_event: line 3: order\.currency: "USD" but the program is in EUR \(in --(program|vs) .*\)\n$/);
  r = loyalty('simulate', '--program', 'presets/seed.json', '--events', history);
  assert.equal(r.status, 2, 'without --vs it is a usage error');
  assert.match(r.stderr, /loyalty simulate --program A\.json --vs B\.json/);
});

test('outstanding points are valued at the pay_with_points rate, floored to the minor unit', async () => {
  // The rule is the engine's (tests/spending.rs checks the arithmetic); here it reaches the
  // report and the table, with the difference exact.
  const seed = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
  const at = '2026-01-05T10:00:00Z';
  const events = join(dir, 'grants.jsonl');
  writeFileSync(events, [123_456, 99].map((points, i) => JSON.stringify({ id: `g${i}`, type: 'points.adjusted', at, customer: `c${i}`, points, reason: 'r', by: 's' })).join('\n'));
  const pay = (points) => ({ ...seed, rewards: [], pay_with_points: { points, value: '1.00' } });
  const out = await simulate({ program: pay(100), vs: pay(300), events });
  assert.deepEqual(out.program.liability, { points: 123_555, value: '1235.55' });
  assert.deepEqual(out.vs.liability, { points: 123_555, value: '411.85' });
  const p = join(dir, 'pay100.json'), v = join(dir, 'pay300.json');
  writeFileSync(p, JSON.stringify(pay(100)));
  writeFileSync(v, JSON.stringify(pay(300)));
  const r = loyalty('simulate', '--program', p, '--vs', v, '--events', events);
  assert.match(r.stdout, /outstanding value \(EUR \/ EUR\)\s+1235\.55\s+411\.85\s+-823\.70\n/);
});
