// The merchant runs the program from the admin, end to end in Chromium against `loyalty
// serve` (PGlite, one process; with DATABASE_URL, PostgreSQL and a second server process
// that receives the webhooks): sign in as the owner, edit the earn rate and the reward, see
// the preview's figures, publish, send a signed Shopify order to the other process and see
// it earn at the new rate without a restart, roll back, an invalid value shows the engine's
// message at its field and publishes nothing, a viewer cannot grant, the audit log names a
// grant's author, search by email among 100,000 accounts answers in the first response, and
// the customer page shows a coupon with its store sync state. Desktop and phone sizes, axe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverConfig } from '../../js/server/config.js';
import { serve } from '../../js/server/serve.js';
import { createOperator } from '../../js/server/operators.js';
import { sampleShopifyOrder, sign } from '../../js/server/demo.js';
import { launch, seriousViolations, VIEWPORTS, overflowsX } from './fixtures/component-page.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const root = new URL('../../', import.meta.url).pathname;
const docs = join(root, 'docs');
mkdirSync(docs, { recursive: true });
const TOKEN = 'admin-e2e-token';
const SHOPIFY = 'admin-e2e-shopify-secret';
const SHOP = 'admin-e2e.myshopify.com';
const PASSWORDS = { olivia: 'olivia-password-1', sam: 'sam-password-12', vera: 'vera-password-1' };
const dbs = testDatabases('admin_e2e');
const scratch = mkdtempSync(join(tmpdir(), 'loyalty-admin-e2e-'));
const programFile = join(scratch, 'program.json');
writeFileSync(programFile, readFileSync(join(root, 'presets/seed.json')));
const env = (extra) => ({ LOYALTY_TOKEN: TOKEN, LOYALTY_SECRET: 'admin-e2e-secret', SHOPIFY_SECRETS: SHOPIFY, SHOPIFY_SHOP_DOMAIN: SHOP, LOYALTY_TICK_SECONDS: '3600', ...extra });

let server, other, browser, url, hookUrl, db;

// The second server process: `loyalty serve` on the same PostgreSQL, its URL from stdout.
async function startProcess(databaseUrl) {
  const child = spawn(process.execPath, [join(root, 'js/cli/loyalty.js'), 'serve', '--program', programFile, '--port', '0'],
    { env: { ...process.env, ...env({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  child.stderr.on('data', (d) => { errText += d; });
  const listening = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`second server exited (${code}): ${errText}`)));
  });
  return { url: listening, databaseUrl, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

before(async () => {
  const databaseUrl = DATABASE_URL ? await dbs.postgresUrl() : undefined;
  const data = DATABASE_URL ? undefined : await dbs.pgliteDir();
  const e = env(databaseUrl ? { DATABASE_URL: databaseUrl } : {});
  server = await serve({ ...serverConfig({ program: programFile, data, port: 0 }, e), env: e }, { logger: false });
  url = server.url;
  db = server.store.db;
  other = databaseUrl ? await startProcess(databaseUrl) : null;
  hookUrl = other?.url ?? url;
  for (const [name, role] of [['olivia', 'owner'], ['sam', 'staff'], ['vera', 'viewer']]) {
    await createOperator(db, 'demo', { name, role, password: PASSWORDS[name] });
  }
  // 100,000 accounts with contacts, in one statement each, and one real customer among them.
  await db.query(`INSERT INTO accounts (program, customer, state, balance, updated_at)
    SELECT 'demo', 'bulk-' || lpad(n::text, 6, '0'), '{}'::jsonb, n % 9000, now() - (n || ' minutes')::interval FROM generate_series(1, 100000) n`);
  await db.query(`INSERT INTO notify_contacts (program, customer, email, name)
    SELECT 'demo', 'bulk-' || lpad(n::text, 6, '0'), 'shopper' || n || '@example.com', 'Shopper ' || n FROM generate_series(1, 100000) n`);
  // The shop's own history for the preview: orders over the last months.
  const events = [];
  for (let i = 0; i < 40; i++) {
    const at = new Date(Date.now() - (i * 8 + 1) * 86_400_000).toISOString();
    events.push({ id: `hist-${i}`, type: 'order.placed', at, customer: `hist-${i % 7}`, order: { id: `h-${i}`, currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: `${120 + i * 7}.00` }] } });
  }
  // ann: enough for the threshold coupon (5000 points), and her contact details.
  events.push({ id: 'ann-1', type: 'order.placed', at: new Date(Date.now() - 3 * 86_400_000).toISOString(), customer: 'ann', order: { id: 'ann-o1', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '540.00' }] } });
  const res = await call('POST', '/api/events', events);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal((await call('PUT', '/api/customers/ann/contact', { email: 'Ann.Lee@Example.com', name: 'Ann Lee', opt_out: ['sms'] })).status, 200);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await other?.stop();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function call(method, path, body, token = TOKEN, base = url) {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const session = async (name) => (await call('POST', '/api/login', { name, password: PASSWORDS[name] })).body.token;

// A signed Shopify orders/paid for `customer`: 2 x 24.50 of merchandise (shipping does not earn).
async function shopifyOrder(id, customer) {
  const body = JSON.stringify(sampleShopifyOrder({ id, customer, currency: 'EUR' }));
  const res = await fetch(`${hookUrl}/webhooks/shopify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/paid', 'x-shopify-webhook-id': `wh-${id}`, 'x-shopify-hmac-sha256': sign(SHOPIFY, body), 'x-shopify-shop-domain': SHOP },
    body,
  });
  assert.equal(res.status, 200, await res.text());
  return (await call('GET', `/api/customers/${customer}`)).body.balance;
}

async function newPage(viewport) {
  const page = await browser.newPage({ viewport });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

async function signIn(page, name) {
  await page.goto(`${url}/admin`);
  await page.fill('#name', name);
  await page.fill('#password', PASSWORDS[name]);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('loyalty-admin');
}

const field = (path) => `loyalty-program-admin >> loyalty-program-editor >> [data-path="${path}"]`;
const figure = (page, k, which) => page.textContent(`loyalty-program-admin >> #preview-table tr[data-figure="${k}"] .${which}`);
const number = (t) => Number(String(t).replace(/[^0-9-]/g, ''));

test('the owner edits, previews, publishes; the other process earns at the new rate at once; rollback; an invalid value publishes nothing', async () => {
  const page = await newPage(VIEWPORTS.desktop);
  await signIn(page, 'olivia');
  await page.click('loyalty-admin >> #tab-program');
  // First run: nothing published, the presets and the storefront block's wording.
  await page.waitForSelector('loyalty-program-admin >> #setup');
  assert.match(await page.textContent('loyalty-program-admin >> #storefront-block'), /Earn 10 points per EUR spent\. 5,000 points give 10% off/);
  await page.waitForSelector('loyalty-program-admin >> #preview-table');
  assert.equal(number(await page.textContent('loyalty-program-admin >> #preview-events')), 41);
  // Publish the program as it is: version 1, the one to roll back to.
  await page.click('loyalty-program-admin >> #publish');
  await page.waitForSelector('loyalty-program-admin >> #program-message');
  assert.match(await page.textContent('loyalty-program-admin >> #program-message'), /Version 1 published/);
  assert.equal(await shopifyOrder('9001', 'web-1'), 490); // 49.00 EUR at 10 points

  // Double the earn rate and lower the reward: the preview replays the shop's 12 months.
  await page.fill(`${field('earn.points_per_unit')} input`, '20');
  await page.fill(`${field('rewards[0].points')} input`, '4000');
  // Twice the points on the same orders (whole euros), replayed under both programs.
  await page.waitForFunction(() => {
    const cell = (w) => Number(document.querySelector('loyalty-admin').shadowRoot.querySelector('loyalty-program-admin').shadowRoot
      .querySelector(`#preview-table tr[data-figure="issued"] .${w}`)?.textContent.replace(/[^0-9]/g, '') ?? NaN);
    return cell('current') > 0 && cell('proposed') === 2 * cell('current');
  });
  assert.ok(number(await figure(page, 'reward:threshold-10pct', 'proposed')) > number(await figure(page, 'reward:threshold-10pct', 'current')));
  await page.screenshot({ path: join(docs, 'admin-editor.png') });
  await page.locator('loyalty-program-admin >> #preview').screenshot({ path: join(docs, 'admin-preview.png') });
  assert.deepEqual(await seriousViolations(page), []);

  await page.fill('loyalty-program-admin >> #note', 'Double points');
  await page.click('loyalty-program-admin >> #publish');
  await page.waitForFunction(() => /Version 2 published/.test(document.querySelector('loyalty-admin').shadowRoot.querySelector('loyalty-program-admin').shadowRoot.querySelector('#program-message')?.textContent));
  const v = (await call('GET', '/api/program/versions')).body.versions;
  assert.deepEqual(v.map((x) => [x.version, x.author, x.note]), [[2, 'olivia', 'Double points'], [1, 'olivia', null]]);
  // The order goes to the other process (PostgreSQL) with no restart: the new rate.
  assert.equal(await shopifyOrder('9002', 'web-1'), 490 + 980);
  // What was earned before stays as recorded.
  const history = (await call('GET', '/api/customers/web-1/history')).body.entries.filter((e) => e.type === 'earn').map((e) => e.points);
  assert.deepEqual(history, [980, 490]);

  // A process started after the publish (its configuration file still says 10 per euro)
  // runs the published program, not the file's.
  if (DATABASE_URL) {
    const late = await startProcess(other.databaseUrl);
    try {
      assert.equal((await call('GET', '/api/program', undefined, TOKEN, late.url)).body.program.earn.points_per_unit, '20');
    } finally {
      await late.stop();
    }
  }

  // Roll back to version 1: the next order earns 10 per euro again.
  await page.click('loyalty-program-admin >> #versions button[aria-label="Roll back to version 1"]');
  await page.waitForFunction(() => /Version 1 is in force again/.test(document.querySelector('loyalty-admin').shadowRoot.querySelector('loyalty-program-admin').shadowRoot.querySelector('#program-message')?.textContent));
  assert.equal((await call('GET', '/api/program')).body.program.earn.points_per_unit, '10');
  assert.equal(await shopifyOrder('9003', 'web-1'), 490 + 980 + 490);

  // An invalid value: the engine's message at its field, nothing published.
  await page.fill(`${field('rewards[0].points')} input`, '0');
  await page.click('loyalty-program-admin >> #publish');
  await page.waitForSelector(`${field('rewards[0].points')} .error`);
  const engineError = (await call('POST', '/api/program/preview', { program: { ...(await call('GET', '/api/program')).body.program, rewards: [{ ...JSON.parse(readFileSync(programFile, 'utf8')).rewards[0], points: 0 }] } })).body.error;
  assert.equal(engineError.path, 'rewards[0].points');
  assert.match(await page.textContent(`${field('rewards[0].points')} .error`), new RegExp(engineError.message.replace(/^rewards\[0\]\.points: /, '').slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.equal((await call('GET', '/api/program/versions')).body.versions.length, 3);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('roles: a viewer cannot grant, staff can, and the audit log names who did it', async () => {
  const viewer = await session('vera');
  const denied = await call('POST', '/api/customers/ann/adjust', { points: 100, reason: 'try', by: 'someone-else' }, viewer);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, 'forbidden');
  assert.equal((await call('POST', '/api/program', { program: (await call('GET', '/api/program')).body.program }, await session('sam'))).status, 403);
  const granted = await call('POST', '/api/customers/ann/adjust', { points: 250, reason: 'Goodwill', by: 'not-sam' }, await session('sam'));
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  // Templates: every role reads them, a viewer changes nothing.
  assert.equal((await call('GET', '/api/notify/templates', undefined, viewer)).status, 200);
  assert.equal((await call('PUT', '/api/customers/ann/opt-outs/email', undefined, viewer)).status, 403);
  const entry = (await call('GET', '/api/customers/ann/history?limit=1')).body.entries[0];
  assert.equal(entry.by, 'sam'); // the operator, never the client's `by`

  // Staff redeem a catalogue reward (published by the owner) and resend a notification;
  // both land in the audit log under sam's name.
  const owner = await session('olivia');
  const inForce = (await call('GET', '/api/program')).body.program;
  const gift = { id: 'gift-5', name: '5 EUR off', points: 500, coupon: { type: 'fixed', value: '5.00', valid_for: 'P30D' } };
  assert.equal((await call('POST', '/api/program', { program: { ...inForce, rewards: [...inForce.rewards, gift] }, note: 'Gift' }, owner)).status, 200);
  const staff = await session('sam');
  const before = (await call('GET', '/api/customers/hist-0')).body.balance;
  const redeemed = await call('POST', '/api/customers/hist-0/redeem', { reward: 'gift-5' }, staff);
  assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
  assert.equal(redeemed.body.account.balance, before - 500);
  assert.equal((await call('POST', '/api/customers/hist-0/redeem', { reward: 'gift-5' }, viewer)).status, 403);
  const [sent] = (await call('GET', '/api/customers/ann/profile', undefined, staff)).body.notifications;
  const resent = await call('POST', `/api/customers/ann/notifications/${sent.id}/resend`, {}, staff);
  assert.equal(resent.status, 200, JSON.stringify(resent.body));
  const { rows: copies } = await db.query("SELECT effect FROM outbox WHERE program = 'demo' AND id IN ($1, $2)", [sent.id, resent.body.id]);
  assert.equal(copies.length, 2);
  assert.deepEqual(copies[0].effect, copies[1].effect);
  const log = (await call('GET', '/api/audit?limit=10', undefined, owner)).body.entries;
  assert.deepEqual(log.filter((e) => ['rewards.redeem', 'notify.resend'].includes(e.action)).map((e) => [e.operator, e.action, e.target]),
    [['sam', 'notify.resend', 'ann'], ['sam', 'rewards.redeem', 'hist-0']]);
  assert.deepEqual(log.filter((e) => e.action === 'program.publish').map((e) => e.operator)[0], 'olivia');

  // The viewer's page has no grant form; the owner's audit tab shows sam's grant.
  const page = await newPage(VIEWPORTS.desktop);
  await signIn(page, 'vera');
  await page.fill('loyalty-admin >> #q', 'ann');
  await page.selectOption('loyalty-admin >> #field', 'id');
  await page.click('loyalty-admin >> #search button[type=submit]');
  await page.waitForSelector('loyalty-admin >> #account[data-customer="ann"]');
  assert.equal(await page.locator('loyalty-admin >> #grant').count(), 0);
  await page.click('#logout');
  await signIn(page, 'olivia');
  await page.click('loyalty-admin >> #tab-audit');
  await page.waitForSelector('loyalty-admin >> loyalty-audit-log >> #audit tr[data-action="points.adjust"]');
  const row = await page.textContent('loyalty-admin >> loyalty-audit-log >> #audit tr[data-action="points.adjust"]');
  assert.match(row, /sam[\s\S]*points\.adjust[\s\S]*ann[\s\S]*points: 250/);
  assert.deepEqual(await seriousViolations(page), []);
  await page.close();
});

for (const [size, viewport] of Object.entries(VIEWPORTS)) {
  test(`customer search by email among 100,000 accounts, and the customer page with its coupon's sync state (${size})`, async () => {
    // The API first: one indexed range, keyset pages.
    const t0 = performance.now();
    const found = await call('GET', '/api/customers?q=ann.lee@');
    const ms = performance.now() - t0;
    assert.deepEqual(found.body.customers.map((c) => c.customer), ['ann']);
    assert.ok(ms < 1000, `search took ${ms} ms`);
    const page1 = (await call('GET', '/api/customers?q=shopper1&field=email&limit=5')).body;
    const page2 = (await call('GET', `/api/customers?q=shopper1&field=email&limit=5&cursor=${page1.next}`)).body;
    assert.equal(page1.customers.length, 5);
    assert.ok(page2.customers.every((c) => !page1.customers.some((d) => d.customer === c.customer)));
    const richest = (await call('GET', '/api/customers?sort=balance&limit=3')).body.customers.map((c) => c.balance);
    assert.deepEqual(richest, [...richest].sort((a, b) => b - a));

    const page = await newPage(viewport);
    await signIn(page, 'sam');
    const responses = [];
    page.on('response', (r) => { if (r.url().includes('/api/customers?')) responses.push(r.url()); });
    await page.fill('loyalty-admin >> #q', 'Ann.Lee@');
    await page.click('loyalty-admin >> #search button[type=submit]');
    // One result: the first response opens her page.
    await page.waitForSelector('loyalty-admin >> #account[data-customer="ann"]');
    assert.equal(responses.length, 1);
    assert.equal(await page.textContent('loyalty-admin >> #contact-email'), 'Ann.Lee@Example.com');
    assert.match(await page.textContent('loyalty-admin >> #opt-outs'), /sms/);
    const { rows } = await db.query("SELECT code, sync_status FROM coupons WHERE program = 'demo' AND customer = 'ann'");
    assert.equal(rows.length, 1);
    const coupon = page.locator(`loyalty-admin >> #coupons tr[data-code="${rows[0].code}"]`);
    assert.match(await coupon.locator('.status').textContent(), /issued/);
    assert.equal((await coupon.locator('.sync').textContent()).trim(), rows[0].sync_status ?? 'not synced');
    if (size === 'desktop') await page.screenshot({ path: join(docs, 'customer-page.png'), fullPage: true });
    assert.equal(await overflowsX(page), false, JSON.stringify(await page.evaluate(() => {
      const out = [];
      const walk = (root) => { for (const el of root.querySelectorAll('*')) { const r = el.getBoundingClientRect(); if (r.right > document.documentElement.clientWidth + 1) out.push(`${el.tagName}#${el.id} ${Math.round(r.right)}`); if (el.shadowRoot) walk(el.shadowRoot); } };
      walk(document);
      return out.slice(0, 10);
    })));
    assert.deepEqual(await seriousViolations(page), []);
    // The Program tab at this size: the editor, the preview and the versions, usable and clean.
    await page.click('loyalty-admin >> #tab-program');
    await page.waitForSelector('loyalty-program-admin >> #preview-table');
    await page.waitForSelector('loyalty-program-admin >> loyalty-program-editor >> [data-path="earn.points_per_unit"]');
    assert.equal(await page.locator('loyalty-program-admin >> #publish').count(), 0); // staff may not publish
    assert.equal(await overflowsX(page), false);
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}
