// <loyalty-program-editor> in Chromium (playwright-core, Debian's /usr/bin/chromium), at
// desktop and phone sizes, driven by the hand-written schema fixture and the seed program:
// every section comes from the schema, edits of the earn rate and a reward come out in
// `change`, the engine's own error lands at its field, keyboard use, and axe-core finds no
// serious or critical violations. Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, page as pageHtml, launch, VIEWPORTS, seriousViolations, overflowsX } from './fixtures/component-page.js';
import { createEngine } from '../../js/index.js';

const root = new URL('../../', import.meta.url).pathname;
const schema = JSON.parse(readFileSync(join(root, 'tests/js/fixtures/program.schema.json'), 'utf8'));
const program = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
const artifacts = join(root, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

let server, browser;
const script = `
  import '/widget/program-editor.js';
  const el = document.querySelector('loyalty-program-editor');
  // The schema comes from schema-src; the program is set as a property.
  const loaded = new Promise((resolve) => el.addEventListener('schema-loaded', resolve, { once: true }));
  window.changes = [];
  el.addEventListener('change', (e) => window.changes.push(e.detail));
  el.program = await fetch('/fixtures/seed.json').then((r) => r.json());
  await loaded;
  await el.updateComplete;
  document.body.dataset.ready = '1';
`;

before(async () => {
  server = await serve((req, url) => {
    if (url.pathname === '/') return { html: pageHtml({ script, title: 'Program', body: '<loyalty-program-editor schema-src="/fixtures/program.schema.json"></loyalty-program-editor>' }) };
    if (url.pathname === '/fixtures/seed.json') return { json: program };
    return undefined;
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(viewport) {
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(5000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="1"]');
  return page;
}
const field = (path) => `loyalty-program-editor >> [data-path="${path}"]`;
const lastChange = (page) => page.evaluate(() => window.changes.at(-1));

for (const [size, viewport] of Object.entries(VIEWPORTS)) {
  test(`${size}: sections come from the schema; edit the earn rate and a reward; change carries the program`, async () => {
    const page = await open(viewport);
    // One section per structured property of the schema: nothing hand-written per rule.
    const sections = await page.locator('loyalty-program-editor >> details.section').evaluateAll((els) => els.map((e) => e.dataset.section));
    assert.deepEqual(sections, ['earn', 'rewards', 'expiry', 'tiers', 'actions', 'referral', 'campaigns', 'notifications', 'pending']);
    // Labels and help from the schema.
    assert.equal(await page.textContent(`${field('earn.points_per_unit')} label`), 'Points per unit *');
    assert.match(await page.textContent(`${field('earn.points_per_unit')} .help`), /Points for each whole unit/);
    assert.equal(await page.inputValue(`${field('earn.points_per_unit')} input`), '10');
    assert.equal(await page.inputValue(`${field('rewards[0].coupon.value')} input`), '10');

    // The earn rate.
    await page.fill(`${field('earn.points_per_unit')} input`, '12');
    let change = await lastChange(page);
    assert.equal(change.path, 'earn.points_per_unit');
    assert.equal(change.program.earn.points_per_unit, '12');
    assert.deepEqual({ ...change.program, earn: program.earn }, program, 'nothing else changed');
    // Rounding is a oneOf of documented consts: a select.
    await page.selectOption(`${field('earn.rounding')} select`, { label: 'round – To the nearest point.' });
    assert.equal((await lastChange(page)).program.earn.rounding, 'round');
    await page.check(`${field('earn.include_shipping')} input`);
    assert.equal((await lastChange(page)).program.earn.include_shipping, true);

    // A reward: its points, and its coupon switched from percent to a fixed amount.
    await page.fill(`${field('rewards[0].points')} input`, '6000');
    await page.selectOption(`${field('rewards[0].coupon.type')} select`, { label: 'Amount off' });
    await page.fill(`${field('rewards[0].coupon.value')} input`, '15.00');
    change = await lastChange(page);
    assert.deepEqual(change.program.rewards[0], { ...program.rewards[0], points: 6000, coupon: { type: 'fixed', value: '15.00', min_order: '100.00', valid_for: 'P30D' } });
    // A catalogue reward added, a warning removed, a way to earn added, a channel ticked.
    await page.click('loyalty-program-editor >> [data-path="rewards"] > .row button.add');
    await page.fill(`${field('rewards[1].id')} input`, 'free-ship');
    await page.fill(`${field('rewards[1].points')} input`, '800');
    await page.selectOption(`${field('rewards[1].coupon.type')} select`, { label: 'Free shipping' });
    await page.click('loyalty-program-editor >> summary:text("Expiry")');
    await page.click(`loyalty-program-editor >> [data-path="expiry.warn_before"] button[aria-label="Remove Warn before 4"]`);
    await page.click('loyalty-program-editor >> summary:text("Actions")');
    await page.fill('loyalty-program-editor >> #f-actions-new', 'newsletter');
    await page.press('loyalty-program-editor >> #f-actions-new', 'Enter');
    await page.fill(`${field('actions.newsletter.points')} input`, '50');
    await page.click('loyalty-program-editor >> summary:text("Notifications")');
    await page.check(`${field('notifications.points_expiring')} label:text("sms") input`);
    change = await lastChange(page);
    assert.deepEqual(change.program.rewards[1], { id: 'free-ship', points: 800, coupon: { type: 'free_shipping' } });
    assert.deepEqual(change.program.expiry.warn_before, ['P2M', 'P1M', 'P14D']);
    assert.deepEqual(change.program.actions, { newsletter: { points: 50 } });
    assert.deepEqual(change.program.notifications.points_expiring, ['email', 'sms']);
    // What the editor made is a program the engine takes.
    assert.doesNotThrow(() => createEngine(change.program, { secret: 's' }).free?.());
    assert.equal(await overflowsX(page), false, 'no sideways scrolling');
    await page.screenshot({ path: join(artifacts, `program-editor-${size}.png`), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test(`${size}: the engine's error shows at the field its path names, and is focused`, async () => {
    const page = await open(viewport);
    await page.fill(`${field('rewards[0].points')} input`, '0');
    const edited = (await lastChange(page)).program;
    let err;
    try {
      createEngine(edited, { secret: 's' });
    } catch (e) {
      err = e;
    }
    assert.equal(err?.path, 'rewards[0].points');
    await page.evaluate(({ path, message }) => document.querySelector('loyalty-program-editor').showErrors([
      { path, message },
      { path: 'rewards[0].coupon.type', message: 'rewards[0].coupon.type: unknown variant "percnt", expected one of percent, fixed, free_shipping' },
      { path: 'tiers.levels[0].threshold', message: 'levels must go up' },
    ]), { path: err.path, message: err.message });
    assert.match(await page.textContent(`${field('rewards[0].points')} .error`), /must be a positive number of points/);
    assert.equal(await page.getAttribute(`${field('rewards[0].points')} input`, 'aria-invalid'), 'true');
    assert.match(await page.getAttribute(`${field('rewards[0].points')} input`, 'aria-describedby'), /-err/);
    assert.match(await page.textContent(`${field('rewards[0].coupon.type')} .error`), /^unknown variant "percnt"/);
    // A path with no field (no tiers yet) shows at the nearest one that exists.
    assert.match(await page.textContent(`${field('tiers')} .error`), /tiers\.levels\[0\]\.threshold: levels must go up/);
    assert.equal(await page.evaluate(() => document.querySelector('loyalty-program-editor').shadowRoot.activeElement?.closest('[data-path]')?.dataset.path), 'rewards[0].points');
    assert.equal(await page.locator('loyalty-program-editor >> #error-summary li').count(), 3);
    // The summary's link moves focus to the field; fixing it clears its error.
    await page.click('loyalty-program-editor >> #error-summary button:text("unknown variant")');
    assert.equal(await page.evaluate(() => document.querySelector('loyalty-program-editor').shadowRoot.activeElement?.id), 'f-rewards_5b_0_5d__2e_coupon_2e_type');
    await page.fill(`${field('rewards[0].points')} input`, '5000');
    assert.equal(await page.locator(`${field('rewards[0].points')} .error`).count(), 0);
    await page.screenshot({ path: join(artifacts, `program-editor-errors-${size}.png`), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test('keyboard: sections open with Enter, fields take typing, checkboxes Space, nothing needs a mouse', async () => {
  const page = await open(VIEWPORTS.desktop);
  await page.focus(`${field('id')} input`);
  // Tab forward to the Expiry section's summary and open it with Enter.
  for (let i = 0; i < 30; i++) {
    const at = await page.evaluate(() => { const a = document.querySelector('loyalty-program-editor').shadowRoot.activeElement; return a?.tagName === 'SUMMARY' ? a.textContent.trim() : null; });
    if (at === 'Expiry') break;
    await page.keyboard.press('Tab');
  }
  const expiry = page.locator('loyalty-program-editor >> details[data-section="expiry"]');
  assert.equal(await expiry.evaluate((d) => d.open), false);
  await page.keyboard.press('Enter');
  assert.equal(await expiry.evaluate((d) => d.open), true);
  await page.keyboard.press('Tab'); // mode
  await page.keyboard.press('Tab'); // after
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('P24M');
  assert.equal((await lastChange(page)).program.expiry.after, 'P24M');
  await page.focus(`${field('earn.include_tax')} input`);
  await page.keyboard.press('Space');
  assert.equal((await lastChange(page)).program.earn.include_tax, true);
  // Read-only (a viewer): every control disabled, sections still open and close.
  await page.evaluate(() => { const el = document.querySelector('loyalty-program-editor'); el.readonly = true; return el.updateComplete; });
  assert.equal(await page.isDisabled(`${field('earn.points_per_unit')} input`), true);
  assert.equal(await page.isDisabled('loyalty-program-editor >> [data-path="rewards"] > .row button.add'), true);
  await page.click('loyalty-program-editor >> details[data-section="tiers"] > summary');
  assert.equal(await page.locator('loyalty-program-editor >> details[data-section="tiers"]').evaluate((d) => d.open), true);
  assert.deepEqual(page.errors, []);
  await page.close();
});

// A program with every status rule the fixture describes, checked by the engine first.
const full = {
  ...program,
  actions: { signup: { points: 200, limits: { lifetime: 1 } }, review: { points: 50, limits: { month: 3 } } },
  referral: { referrer_points: 500, friend_reward: 'threshold-10pct' },
  tiers: {
    basis: 'spend', window: 'calendar_year', retention: { periods: 1, grace_days: 30 },
    levels: [{ name: 'Silver', threshold: '0.00' }, { name: 'Gold', threshold: '500.00', perks: { multiplier: '1.5', free_shipping: true } }],
  },
  campaigns: [{ id: 'weekend', multiplier: '2', weekdays: [6, 7], match: { category: ['shoes'] }, priority: 1 }],
  pending: { window: 'P14D' },
};

test('every rule of a full program renders, edits through unions, maps and lists, and stays a program the engine takes', async () => {
  createEngine(full, { secret: 's' });
  const page = await open(VIEWPORTS.phone);
  await page.evaluate((p) => { const el = document.querySelector('loyalty-program-editor'); el.program = p; return el.updateComplete; }, full);
  for (const s of ['actions', 'referral', 'tiers', 'campaigns', 'pending']) await page.click(`loyalty-program-editor >> details[data-section="${s}"] > summary`);
  // An amount-or-count threshold (an untagged union) shows the amount; switch Gold to a count and back.
  assert.equal(await page.inputValue(`${field('tiers.levels[1].threshold')} input`), '500.00');
  await page.fill(`${field('tiers.levels[1].threshold')} input`, '750.00');
  await page.fill(`${field('actions.review.limits.month')} input`, '5');
  await page.fill(`${field('campaigns[0].weekdays[1]')} input`, '5');
  await page.click(`loyalty-program-editor >> [data-path="campaigns[0].match.category"] .row button.add`);
  await page.fill(`${field('campaigns[0].match.category[1]')} input`, 'boots');
  await page.fill(`${field('pending.window')} input`, 'P30D');
  let { program: edited } = await lastChange(page);
  assert.equal(edited.tiers.levels[1].threshold, '750.00');
  assert.deepEqual(edited.actions.review, { points: 50, limits: { month: 5 } });
  assert.deepEqual(edited.campaigns[0].weekdays, [6, 5]);
  assert.deepEqual(edited.campaigns[0].match.category, ['shoes', 'boots']);
  assert.equal(edited.pending.window, 'P30D');
  assert.doesNotThrow(() => createEngine(edited, { secret: 's' }));
  // Removing an optional rule takes its key away; an absent one can be added back.
  await page.click('loyalty-program-editor >> [data-path="referral"] button.remove');
  edited = (await lastChange(page)).program;
  assert.equal('referral' in edited, false);
  await page.click('loyalty-program-editor >> [data-path="referral"] button.add');
  assert.deepEqual((await lastChange(page)).program.referral, { referrer_points: 0 });
  assert.equal(await overflowsX(page), false);
  await page.screenshot({ path: join(artifacts, 'program-editor-full-phone.png'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the presets open without errors, and keys the schema does not describe are kept as they are', async () => {
  const page = await open(VIEWPORTS.desktop);
  for (const name of ['bn', 'bodyshop', 'cvs', 'dicks', 'rei', 'williams-sonoma']) {
    const preset = JSON.parse(readFileSync(join(root, `presets/${name}.json`), 'utf8'));
    await page.evaluate((p) => { const el = document.querySelector('loyalty-program-editor'); el.program = p; return el.updateComplete; }, preset);
    await page.fill(`${field('earn.points_per_unit')} input`, '3');
    const { program: edited } = await lastChange(page);
    assert.deepEqual(edited, { ...preset, earn: { ...preset.earn, points_per_unit: '3' } }, name);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('schemars draft-07 shapes read the same: definitions, allOf refs, enum-tagged variants, nullable types', async () => {
  const { classify, defaultFor, pathText } = await import('../../js/widget/program-editor.js');
  const draft7 = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: {
      earn: { description: 'How orders earn', allOf: [{ $ref: '#/definitions/Earn' }] },
      coupon: { $ref: '#/definitions/Coupon' },
      name: { type: ['string', 'null'] },
      expiry: { anyOf: [{ $ref: '#/definitions/Earn' }, { type: 'null' }] },
    },
    definitions: {
      Earn: { type: 'object', required: ['points_per_unit'], properties: { points_per_unit: { type: 'string' } } },
      Coupon: { oneOf: [
        { type: 'object', required: ['type', 'value'], properties: { type: { type: 'string', enum: ['percent'] }, value: { type: 'string' } } },
        { type: 'object', required: ['type'], properties: { type: { type: 'string', enum: ['free_shipping'] } } },
      ] },
    },
  };
  const p = draft7.properties;
  const earn = classify(draft7, p.earn);
  assert.equal(earn.kind, 'object');
  assert.equal(earn.schema.description, 'How orders earn');
  const coupon = classify(draft7, p.coupon);
  assert.deepEqual([coupon.kind, coupon.tag, coupon.variants.map((v) => v.value)], ['tagged', 'type', ['percent', 'free_shipping']]);
  assert.deepEqual(defaultFor(draft7, p.coupon), { type: 'percent', value: '' });
  assert.deepEqual([classify(draft7, p.name).kind, classify(draft7, p.name).nullable], ['string', true]);
  assert.deepEqual([classify(draft7, p.expiry).kind, classify(draft7, p.expiry).nullable], ['object', true]);
  assert.equal(pathText(['rewards', 0, 'coupon', 'type']), 'rewards[0].coupon.type');
  assert.equal(pathText(['actions', 'move_join', 'points']), 'actions.move_join.points');
});

// The schema generated from the Rust types, once it is in the tree (js/schema/program.schema.json).
const generated = join(root, 'js/schema/program.schema.json');
test('the generated program schema drives the editor: the seed and the full program render, edit and stay valid', { skip: !existsSync(generated) && 'js/schema/program.schema.json is not generated yet' }, async () => {
  const gen = JSON.parse(readFileSync(generated, 'utf8'));
  const page = await open(VIEWPORTS.phone);
  await page.evaluate(({ schema, program }) => { const el = document.querySelector('loyalty-program-editor'); el.schema = schema; el.program = program; return el.updateComplete; }, { schema: gen, program: full });
  await page.click('loyalty-program-editor >> details[data-section="expiry"] > summary');
  await page.fill(`${field('earn.points_per_unit')} input`, '12');
  await page.fill(`${field('rewards[0].points')} input`, '6000');
  await page.selectOption(`${field('rewards[0].coupon.type')} select`, { label: 'fixed' });
  await page.fill(`${field('rewards[0].coupon.value')} input`, '15.00');
  const { program: edited } = await lastChange(page);
  assert.equal(edited.earn.points_per_unit, '12');
  assert.deepEqual(edited.rewards[0].coupon, { ...full.rewards[0].coupon, type: 'fixed', value: '15.00' });
  assert.deepEqual({ ...edited, earn: full.earn, rewards: full.rewards }, full);
  assert.doesNotThrow(() => createEngine(edited, { secret: 's' }));
  await page.evaluate(() => document.querySelector('loyalty-program-editor').showErrors([{ path: 'rewards[0].coupon.type', message: 'nope' }]));
  assert.equal(await page.textContent(`${field('rewards[0].coupon.type')} .error`), 'nope');
  assert.equal(await overflowsX(page), false);
  await page.screenshot({ path: join(artifacts, 'program-editor-generated-phone.png'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.close();
});
