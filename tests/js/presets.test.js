// The ready programs in presets/: each one passes `loyalty check`, and replaying its
// canonical history (presets/<name>.events.jsonl) with `loyalty replay` gives exactly the
// headline numbers in HEADLINES below (copied from what presets/README.md states: keep the
// two in step). A preset without a README section, an
// events file or an entry in HEADLINES below fails the first test, so none is added silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../../js/index.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = join(root, 'presets');
const loyalty = (...args) => spawnSync(process.execPath, [join(root, 'js/cli/loyalty.js'), ...args], { cwd: root, encoding: 'utf8' });

const presets = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json')).map((f) => f.slice(0, -5)).sort();
const readme = readFileSync(join(dir, 'README.md'), 'utf8');

function replay(name) {
  const r = loyalty('replay', '--program', `presets/${name}.json`, '--events', `presets/${name}.events.jsonl`, '--secret', 'presets-test');
  assert.equal(r.status, 0, `loyalty replay of presets/${name}.json failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** One customer's ledger entries and final state, applying their events in order through the npm import. */
function ledger(name, customer) {
  const engine = createEngine(readFileSync(join(dir, `${name}.json`), 'utf8'), { secret: 'presets-test' });
  const events = readFileSync(join(dir, `${name}.events.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  let state = null;
  const entries = [];
  for (const e of events.filter((x) => x.customer === customer)) {
    const out = engine.apply(state, e);
    state = out.state;
    entries.push(...out.entries);
  }
  return { entries, state };
}

/** The coupons of one customer as [reward, type, value, status] rows, in issue order. */
const coupons = (out, customer) => out.customers[customer].coupons.map((c) => [c.reward, c.type, c.value ?? null, c.status]);
/** Coupon-issued effects of one customer as [reward, points debited, value]. */
const issued = (out, customer) =>
  out.effects.filter((e) => e.type === 'coupon.issued' && e.customer === customer).map((e) => [e.reward, e.points, e.coupon.value ?? null]);

// Each function asserts the numbers presets/README.md states for the preset of that name.
const HEADLINES = {
  seed(out) {
    // 10 points per euro on goods (520.00, shipping excluded) = 5200 points; 5000 of them
    // become a 10% coupon for orders of at least 100.00, valid 30 local days.
    const c1 = out.customers.c1;
    assert.equal(c1.balance, 200);
    assert.deepEqual(c1.coupons.map((c) => [c.reward, c.type, c.value, c.min_order, c.expires_at, c.status]), [
      ['threshold-10pct', 'percent', '10', '100.00', '2026-06-03T23:59:59.999+02:00', 'issued'],
    ]);
    assert.deepEqual(c1.next_expiry, { points: 200, at: '2027-05-04T23:59:59.999+02:00' });
    // 24.95 earns 249 points (floor), below the threshold: no coupon.
    assert.equal(out.customers.c2.balance, 249);
    assert.deepEqual(out.customers.c2.coupons, []);
  },

  dicks(out) {
    // $300.00 of merchandise in one order (tax not counted) = 300 points = one $10 reward.
    assert.equal(out.customers.alex.balance, 0);
    assert.deepEqual(coupons(out, 'alex'), [['scorecard-10', 'fixed', '10.00', 'issued']]);
    assert.deepEqual(issued(out, 'alex'), [['scorecard-10', 300, '10.00']]);
    // MOVE: 100 for joining, 3 for a daily goal, once per local day (the second goal on
    // May 1 earns nothing): 106; then $194.99 of shoes earns 194 and the $25 gift card
    // nothing, 300 in all, so a $10 reward and a balance of 0.
    assert.equal(out.customers.sam.balance, 0);
    assert.deepEqual(issued(out, 'sam'), [['scorecard-10', 300, '10.00']]);
    // 2 x 29.99 + (89.99 - 9.00) = 140.97 earns 140; returning one ball takes back 30
    // (140 - floor(110.98)), leaving 110, valid 12 months from the last order.
    assert.equal(out.customers.jo.balance, 110);
    assert.deepEqual(out.customers.jo.next_expiry, { points: 110, at: '2027-06-20T23:59:59.999-04:00' });
    assert.deepEqual(out.customers.jo.coupons, []);
  },

  bodyshop(out) {
    // CA$150.00 of goods (shipping and tax not counted) = 150 points = one CA$10.00 voucher,
    // valid 3 months, and 50 points over; giving 30 of them to The Body Shop Foundation
    // leaves 20, still valid 12 months after the order.
    const mia = out.customers.mia;
    assert.deepEqual(mia.coupons.map((c) => [c.reward, c.value, c.expires_at, c.status]), [
      ['lybc-10', '10.00', '2026-05-10T23:59:59.999-04:00', 'issued'],
    ]);
    assert.equal(mia.balance, 20);
    assert.deepEqual(mia.next_expiry, { points: 20, at: '2027-02-10T23:59:59.999-05:00' });
    // The gift is a `donate` ledger entry naming the charity (what the payout totals sum);
    // replay prints views and effects only, so this reads the entries through the npm import.
    const { entries, state } = ledger('bodyshop', 'mia');
    assert.deepEqual(entries.filter((e) => e.type === 'donate').map((e) => [e.charity, e.points, e.balance_after]), [['tbs-foundation', -30, 20]]);
    assert.equal(state.totals.donated, 30);
    // The birthday on its local date gives 100 points, at once a CA$10.00 voucher; a second
    // birthday event the same year gives nothing.
    const leo = out.customers.leo;
    assert.equal(leo.balance, 0);
    assert.deepEqual(leo.coupons.map((c) => [c.reward, c.value, c.expires_at, c.status]), [
      ['lybc-10', '10.00', '2026-06-14T23:59:59.999-04:00', 'issued'],
    ]);
    // 2 x CA$40.00 earns 80; returning one takes back 40.
    assert.equal(out.customers.ana.balance, 40);
    assert.deepEqual(out.customers.ana.next_expiry, { points: 40, at: '2027-04-02T23:59:59.999-04:00' });
    assert.deepEqual(out.customers.ana.coupons, []);
  },

  cvs(out) {
    // 2% back: 2 points per dollar, 100 points = $1 of ExtraBucks. $262.40 of eligible goods
    // (the $45.00 prescription and the tax earn nothing) = 524 points: one $5.00 ExtraBucks
    // (500 points) and 24 points towards the next.
    assert.equal(out.customers.kim.balance, 24);
    assert.deepEqual(coupons(out, 'kim'), [['extrabucks-5', 'fixed', '5.00', 'issued']]);
    assert.deepEqual(issued(out, 'kim'), [['extrabucks-5', 500, '5.00']]);
    // ExtraCare Plus monthly ($5.00): a $10.00 reward when it starts (Jan 15) and another on
    // the renewal at the monthly anniversary (Feb 15), gifts that debit no points, each valid
    // one month (the January one has expired by March 5). $50.00 of sunscreen earns 100
    // points = $1.00 ExtraBucks.
    const raj = out.customers.raj;
    assert.deepEqual(raj.coupons.map((c) => [c.reward, c.value, c.expires_at, c.status]), [
      ['plus-monthly-10', '10.00', '2026-02-15T23:59:59.999-05:00', 'expired'],
      ['plus-monthly-10', '10.00', '2026-03-15T23:59:59.999-04:00', 'issued'],
      ['extrabucks-1', '1.00', null, 'issued'],
    ]);
    assert.deepEqual(issued(out, 'raj'), [['plus-monthly-10', 0, '10.00'], ['plus-monthly-10', 0, '10.00'], ['extrabucks-1', 100, '1.00']]);
    assert.equal(raj.balance, 0);
    assert.equal(raj.membership.plan, 'plus');
    assert.equal(raj.membership.status, 'active');
    // Paid through the end of 2026-03-14: the month from the renewal ends as 2026-03-15 begins.
    assert.equal(raj.membership.until, '2026-03-14T23:59:59.999-04:00');
    // ExtraCare Plus annual ($48.00): the same $10.00 every month, Jan 5, Feb 5 and Mar 5.
    const lee = out.customers.lee;
    assert.deepEqual(issued(out, 'lee'), [['plus-monthly-10', 0, '10.00'], ['plus-monthly-10', 0, '10.00'], ['plus-monthly-10', 0, '10.00']]);
    assert.deepEqual(lee.coupons.map((c) => c.status), ['expired', 'issued', 'issued']);
    assert.equal(lee.balance, 0);
    assert.equal(lee.membership.plan, 'plus-annual');
    assert.equal(lee.membership.status, 'active');
    assert.equal(lee.membership.until, '2027-01-04T23:59:59.999-05:00');
  },

  bn(out) {
    // A stamp is 0.1 point per dollar rounded down per purchase, so 1 stamp per full $10 in
    // one purchase: $49.99 gives 4, $29.99 gives 2, $109.95 gives 10; at 10 stamps a $5.00
    // reward is issued (16 - 10 = 6 left), and stamps last 12 months from the last purchase.
    const eve = out.customers.eve;
    assert.equal(eve.balance, 6);
    assert.deepEqual(coupons(out, 'eve'), [['bn-5', 'fixed', '5.00', 'issued']]);
    assert.deepEqual(issued(out, 'eve'), [['bn-5', 10, '5.00']]);
    assert.equal(eve.coupons[0].expires_at, null);
    assert.deepEqual(eve.next_expiry, { points: 6, at: '2027-03-15T23:59:59.999-04:00' });
    // Premium ($39.99 a year): paid through 2027-01-19; $100.00 of books less the
    // 10% member discount ($10.00) is $90.00 paid, 9 stamps.
    const max = out.customers.max;
    assert.equal(max.balance, 9);
    assert.deepEqual(max.coupons, []);
    assert.equal(max.membership.plan, 'premium');
    assert.equal(max.membership.status, 'active');
    assert.equal(max.membership.until, '2027-01-19T23:59:59.999-05:00');
  },

  rei(out) {
    // The $30.00 lifetime membership starts 2026-03-01; goods bought while a member in 2026
    // ($250.00 + $80.00, tax not counted; the $100.00 bought in February, before joining, not
    // at all) give a 10% dividend: one $33.00 coupon on the first tick of 2027 (local time),
    // no points debited, valid two years.
    const pat = out.customers.pat;
    assert.deepEqual(pat.coupons.map((c) => [c.type, c.value, c.expires_at, c.status]), [['fixed', '33.00', '2029-01-01T23:59:59.999-08:00', 'issued']]);
    assert.deepEqual(issued(out, 'pat').map(([, points, value]) => [points, value]), [[0, '33.00']]);
    // docs/spending.md: the dividend is issued "as a fixed-amount coupon (reward id `dividend:<plan>`)".
    assert.deepEqual(issued(out, 'pat').map(([reward]) => reward), ['dividend:coop:2026']);
    assert.equal(pat.coupons[0].reward, 'dividend:coop:2026');
    assert.equal(pat.balance, 0);
    assert.equal(pat.membership.plan, 'coop');
    assert.equal(pat.membership.status, 'active');
    assert.equal(pat.membership.until ?? null, null, 'a lifetime membership has no end');
    // No points in this program, and no dividend without membership.
    assert.equal(out.customers.dana.balance, 0);
    assert.deepEqual(out.customers.dana.coupons, []);
    assert.deepEqual(issued(out, 'dana'), []);
  },

  'williams-sonoma'(out) {
    // Silver: 2% back = 2 points per dollar, 1000 points = one $10.00 reward valid 24 months.
    // One balance across the brands: $300.00 at Pottery Barn (600) + $200.00 at West Elm (400).
    const ria = out.customers.ria;
    assert.equal(ria.balance, 0);
    assert.deepEqual(ria.coupons.map((c) => [c.reward, c.value, c.expires_at, c.status]), [
      ['key-10', '10.00', '2028-04-20T23:59:59.999-07:00', 'issued'],
    ]);
    assert.deepEqual(issued(out, 'ria'), [['key-10', 1000, '10.00']]);
    // Gold (the Key Rewards card, a free lifetime plan): 5% = 2.5 x Silver, so $200.00 at
    // Williams Sonoma earns 1000 points and a $10.00 reward by itself.
    const ben = out.customers.ben;
    assert.equal(ben.balance, 0);
    assert.deepEqual(issued(out, 'ben'), [['key-10', 1000, '10.00']]);
    assert.equal(ben.membership.plan, 'key-card');
    assert.equal(ben.membership.status, 'active');
    // $49.99 at Mark and Graham earns 99 (rounded down); the $50.00 gift card nothing.
    assert.equal(out.customers.zoe.balance, 99);
    assert.deepEqual(out.customers.zoe.coupons, []);
    // A brand outside the family is an error naming order.brand.
    const tmp = mkdtempSync(join(tmpdir(), 'presets-'));
    writeFileSync(join(tmp, 'e.jsonl'), JSON.stringify({
      id: 'ws-other', type: 'order.placed', at: '2026-07-01T10:00:00-07:00', customer: 'zoe',
      order: { id: 'o9', brand: 'restoration-hardware', currency: 'USD', lines: [{ id: 'l1', quantity: 1, unit_price: '100.00' }] },
    }) + '\n');
    const r = loyalty('replay', '--program', 'presets/williams-sonoma.json', '--events', join(tmp, 'e.jsonl'));
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /order\.brand/);
  },
};

test('every preset has a README section, a canonical history and a headline test', () => {
  assert.ok(presets.length >= 7, `expected the seed and six retailer presets, found ${presets.join(', ')}`);
  for (const name of presets) {
    assert.ok(existsSync(join(dir, `${name}.events.jsonl`)), `presets/${name}.events.jsonl is missing`);
    assert.match(readme, new RegExp(`^## .*\`presets/${name}\\.json\``, 'm'), `presets/README.md has no "## ... \`presets/${name}.json\`" section`);
    assert.equal(typeof HEADLINES[name], 'function', `tests/js/presets.test.js has no headline test for ${name}`);
  }
  assert.deepEqual(Object.keys(HEADLINES).sort(), presets, 'a headline test names a preset that does not exist');
});

for (const name of presets) {
  test(`${name}: loyalty check accepts presets/${name}.json`, () => {
    const r = loyalty('check', `presets/${name}.json`);
    assert.equal(r.status, 0, r.stderr);
    const program = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    assert.ok(r.stdout.startsWith(`ok: program ${program.id} (${program.currency}, ${program.timezone}, `), r.stdout);
  });

  test(`${name}: replaying its history gives the numbers presets/README.md states`, () => {
    assert.equal(typeof HEADLINES[name], 'function', `no headline test for ${name}`);
    HEADLINES[name](replay(name));
  });

  // The same answers tests/presets.rs checks natively: every account view and effect.
  test(`${name}: replaying its history gives presets/${name}.expected.json`, () => {
    const expected = JSON.parse(readFileSync(join(dir, `${name}.expected.json`), 'utf8'));
    const out = replay(name);
    assert.equal(expected.secret, 'presets-test');
    assert.deepEqual({ customers: out.customers, effects: out.effects }, { customers: expected.customers, effects: expected.effects });
  });
}
