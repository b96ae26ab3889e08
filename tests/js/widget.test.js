// The admin panel and the storefront widget in Chromium (playwright-core, Debian's
// /usr/bin/chromium) against the real backend in-process (PGlite, the seed program):
// sign in at /admin, look up a customer, grant points with a reason, see the balance and
// history update (and the server agree), open the KPI dashboard, edit a template with live
// preview, quote a cart with the wasm in the browser (the server's numbers), and check that
// <loyalty-balance> reads only `${base}/account` with a customer token (no admin token).
// Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { buildApp } from '../../js/server/app.js';

const root = new URL('../../', import.meta.url).pathname;
const program = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
const TOKEN = 'widget-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const artifacts = join(root, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

const scratch = mkdtempSync(join(tmpdir(), 'loyalty-widget-test-'));
let loyalty, app, url, browser;

const order = (id, customer, total, at, lines) => ({
  id, type: 'order.placed', at, customer,
  order: { id: `o-${id}`, currency: 'EUR', lines: lines ?? [{ id: 'l1', quantity: 1, unit_price: total }] },
});

before(async () => {
  const dir = join(scratch, 'db');
  const store = await openPgliteStore({ dataDir: dir });
  loyalty = createLoyalty({ program, store, secret: 'widget-secret' });
  const now = Date.now();
  const ago = (days) => new Date(now - days * 86_400_000).toISOString();
  // c-1001: 2337 + 640 points over two orders; c-1002 crosses 5000 and gets a coupon.
  await loyalty.handle(order('w1', 'c-1001', null, ago(20), [
    { id: 'l1', sku: 'TEE', quantity: 3, unit_price: '49.90', discount: '5.00' }, { id: 'l2', sku: 'CAP', quantity: 1, unit_price: '89.00' }]));
  await loyalty.handle(order('w2', 'c-1001', '64.00', ago(9)));
  await loyalty.handle(order('w3', 'c-1002', '612.50', ago(5)));
  await loyalty.handle(order('w4', 'c-2001', '12.00', ago(2)));
  app = buildApp({ loyalty, store, token: TOKEN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${app.server.address().port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await loyalty?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const api = async (path, init = {}) => {
  const res = await fetch(`${url}${path}`, { ...init, headers: { ...auth, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
  return { status: res.status, body: await res.json() };
};

// A page that fails the test on any script error.
async function newPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

test('/admin carries no token and serves the widget, Lit and the wasm', async () => {
  const html = await (await fetch(`${url}/admin`)).text();
  assert.match(html, /<script type="importmap">/);
  assert.ok(!html.includes(TOKEN));
  for (const path of ['/admin/assets/index.js', '/admin/vendor/lit/index.js', '/admin/vendor/lit-html/lit-html.js', '/admin/vendor/@lit/reactive-element/reactive-element.js', '/admin/zone.js', '/pkg/loyalty_engine.js']) {
    const res = await fetch(`${url}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type'), /javascript/, path);
  }
  const wasm = await fetch(`${url}/pkg/loyalty_engine_bg.wasm`);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  for (const path of ['/admin/assets/../admin-routes.js', '/admin/assets/%2e%2e/admin-routes.js', '/admin/vendor/lit/package.json', '/pkg/loyalty_engine.d.ts', '/admin/vendor/pg/lib/index.js']) {
    assert.equal((await fetch(`${url}${path}`)).status, 404, path);
  }
  // The API behind it still wants the token.
  assert.equal((await fetch(`${url}/api/customers?q=c`)).status, 401);
});

test('sign in, look up a customer, grant points with a reason: balance and history update', async () => {
  const page = await newPage();
  await page.goto(`${url}/admin`);
  // No token yet: the login form, no widget.
  await page.waitForSelector('#login:not([hidden])');
  assert.equal(await page.locator('loyalty-admin').count(), 0);
  await page.fill('#token', 'wrong-token');
  await page.click('#login button');
  await page.fill('loyalty-admin >> #q', 'c-1');
  await page.click('loyalty-admin >> #search button');
  // A wrong token sends the user back to the login form.
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#token', TOKEN);
  await page.click('#login button');
  assert.equal(await page.evaluate(() => location.search), '');

  const before = (await api('/api/customers/c-1001')).body;
  assert.equal(before.balance, 2337 + 640);
  await page.fill('loyalty-admin >> #q', 'c-10');
  await page.click('loyalty-admin >> #search button');
  await page.waitForSelector('loyalty-admin >> #results');
  assert.deepEqual(await page.locator('loyalty-admin >> #results td:first-child').allTextContents(), ['c-1001', 'c-1002']);
  await page.click('loyalty-admin >> #results button:text("c-1001")');
  await page.waitForSelector('loyalty-admin >> #account[data-customer="c-1001"]');
  assert.equal(await page.textContent('loyalty-admin >> #balance'), '2,977');
  assert.equal(await page.textContent('loyalty-admin >> #pending'), '0');
  assert.equal(await page.textContent('loyalty-admin >> #next-expiry'), '2,977');
  // History: newest first, with the reason and the rules that fired.
  const first = page.locator('loyalty-admin >> #history tr[data-id]').first();
  assert.match(await first.textContent(), /\+640[\s\S]*order placed[\s\S]*earn:10 points per EUR/);
  await shot(page, 'admin-customer');

  // Grant 250 with a reason.
  await page.fill('loyalty-admin >> #grant input[name=points]', '250');
  await page.fill('loyalty-admin >> #grant input[name=reason]', 'Birthday gift');
  await page.click('loyalty-admin >> #grant button');
  await page.waitForFunction(() => document.querySelector('loyalty-admin').shadowRoot.querySelector('#balance')?.textContent === '3,227');
  assert.match(await page.textContent('loyalty-admin >> #message'), /Granted 250 points: Birthday gift/);
  const top = await page.locator('loyalty-admin >> #history tr[data-id]').first().textContent();
  // The author is who signed in (the operator token: "token"), never what the page sends.
  assert.match(top, /adjust[\s\S]*\+250[\s\S]*3,227[\s\S]*Birthday gift \(by token\)/);
  // The server agrees.
  const afterGrant = (await api('/api/customers/c-1001')).body;
  assert.equal(afterGrant.balance, before.balance + 250);
  const [entry] = (await api('/api/customers/c-1001/history?limit=1')).body.entries;
  assert.deepEqual([entry.type, entry.points, entry.reason, entry.by], ['adjust', 250, 'Birthday gift', 'token']);

  // A deduction; an empty reason is refused by the form (nothing reaches the server).
  await page.fill('loyalty-admin >> #grant input[name=points]', '-100');
  await page.click('loyalty-admin >> #grant button');
  assert.equal((await api('/api/customers/c-1001')).body.balance, 3227);
  await page.fill('loyalty-admin >> #grant input[name=reason]', 'Damaged return');
  await page.click('loyalty-admin >> #grant button');
  await page.waitForFunction(() => document.querySelector('loyalty-admin').shadowRoot.querySelector('#balance')?.textContent === '3,127');
  assert.equal((await api('/api/customers/c-1001')).body.balance, 3127);
  await shot(page, 'admin-grant');

  // c-1002's coupon: shown, and cancelled with a reason.
  await page.fill('loyalty-admin >> #q', 'c-1002');
  await page.click('loyalty-admin >> #search button');
  await page.waitForSelector('loyalty-admin >> #account[data-customer="c-1002"]');
  const code = (await api('/api/customers/c-1002')).body.coupons[0].code;
  await page.fill(`loyalty-admin >> input[data-cancel-reason="${code}"]`, 'Duplicate order');
  await page.click(`loyalty-admin >> tr[data-code="${code}"] button`);
  await page.waitForFunction((c) => document.querySelector('loyalty-admin').shadowRoot.querySelector(`tr[data-code="${c}"] .status`)?.textContent.startsWith('cancelled'), code);
  assert.equal((await api('/api/customers/c-1002/coupons')).body.coupons[0].status, 'cancelled');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the KPI dashboard shows the server KPIs and a chart of points per day', async () => {
  const page = await newPage();
  await page.goto(`${url}/admin?token=${TOKEN}`);
  // The token is taken from the address and removed from it.
  await page.waitForSelector('loyalty-admin');
  assert.equal(await page.evaluate(() => location.search), '');
  await page.click('loyalty-admin >> #tab-dashboard');
  await page.waitForSelector('loyalty-admin >> #kpis');
  const kpi = async (id) => (await page.textContent(`loyalty-admin >> [data-kpi=${id}] b`)).trim();
  const from = await page.inputValue('loyalty-admin >> #from');
  const to = await page.inputValue('loyalty-admin >> #to');
  const server = (await api(`/api/kpis?from=${from}T00:00:00Z&to=${to}T00:00:00Z`)).body;
  assert.equal(server.members, 3);
  assert.equal(await kpi('members'), '3');
  assert.equal(await kpi('active'), String(server.active_members));
  assert.equal(server.earned, 2337 + 640 + 6125 + 120);
  assert.equal(await kpi('earned'), new Intl.NumberFormat('en').format(server.earned));
  assert.equal(await kpi('redeemed'), '5,000');
  assert.equal(await kpi('liability'), new Intl.NumberFormat('en').format(server.liability.points));
  assert.match(await page.textContent('loyalty-admin >> [data-kpi=liability] span'), new RegExp(`= ${server.liability.value} EUR`));
  assert.equal(await kpi('repeat'), '33.3%'); // c-1001 of three buyers
  // One point per day and series in the chart.
  assert.equal(await page.locator('loyalty-admin >> #chart polyline').count(), 3);
  assert.equal(await page.locator('loyalty-admin >> #chart circle').count(), 3 * server.days.length);
  await shot(page, 'admin-dashboard');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the template editor previews live and saves', async () => {
  const page = await newPage();
  await page.goto(`${url}/admin?token=${TOKEN}`);
  await page.click('loyalty-admin >> #tab-templates');
  const catalog = await api('/api/notify/templates');
  if (catalog.status === 404) {
    // No template API on this server: the editor says so instead of failing.
    await page.waitForSelector('loyalty-admin >> #templates-unavailable');
    await shot(page, 'admin-templates');
    return;
  }
  await page.waitForSelector('loyalty-admin >> #preview-subject');
  await page.selectOption('loyalty-admin >> #tpl-trigger', 'reward_earned');
  await page.selectOption('loyalty-admin >> #tpl-channel', 'email');
  await page.waitForSelector('loyalty-admin >> #tpl-subject');
  await page.fill('loyalty-admin >> #tpl-subject', 'A present for {{ customer }} from {{ program }}');
  await page.waitForFunction(() => document.querySelector('loyalty-admin').shadowRoot.querySelector('#preview-subject')?.textContent.startsWith('A present for '));
  const subject = await page.textContent('loyalty-admin >> #preview-subject');
  // The server renders the same source the same way.
  const direct = await api('/api/notify/preview', { method: 'POST', body: JSON.stringify({ trigger: 'reward_earned', channel: 'email', locale: 'en', source: { subject: 'A present for {{ customer }} from {{ program }}' } }) });
  assert.equal(subject, direct.body.rendered.subject);
  // A Liquid error shows its line.
  await page.fill('loyalty-admin >> #tpl-text', 'Hello\n{% if %}');
  await page.waitForSelector('loyalty-admin >> #preview-error');
  assert.match(await page.textContent('loyalty-admin >> #preview-error'), /text, line 2/);
  await shot(page, 'admin-template-error');
  await page.fill('loyalty-admin >> #tpl-text', 'Hello {{ customer }}, your code is {{ coupon.code }}.');
  await page.waitForSelector('loyalty-admin >> #preview-subject');
  await page.click('loyalty-admin >> #tpl-save');
  await page.waitForSelector('loyalty-admin >> #message');
  const saved = (await api('/api/notify/templates/reward_earned/email/en')).body;
  assert.equal(saved.origin, 'override');
  assert.equal(saved.fields.subject, 'A present for {{ customer }} from {{ program }}');
  assert.equal(saved.fields.text, 'Hello {{ customer }}, your code is {{ coupon.code }}.');
  await shot(page, 'admin-templates');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('<loyalty-balance> shows the account, and quotes carts in the browser with the server numbers', async () => {
  const page = await newPage();
  await page.goto(`${url}/admin`); // any page with the import map
  const account = (await api('/api/customers/c-1001')).body;
  const carts = [
    { currency: 'EUR', lines: [{ id: 'a', quantity: 2, unit_price: '19.99' }] },
    { currency: 'EUR', lines: [{ id: 'a', quantity: 3, unit_price: '49.90', discount: '5.00' }, { id: 'b', quantity: 1, unit_price: '89.00' }], shipping: '4.90', tax: '12.00', taxes_included: false },
    { currency: 'EUR', at: '2026-03-29T00:30:00+01:00', lines: [{ id: 'a', quantity: 1, unit_price: '1250.00' }] },
    { currency: 'EUR', at: '2026-10-25T02:30:00+02:00', lines: [{ id: 'a', quantity: 7, unit_price: '0.15' }] },
  ].map((c) => ({ at: '2026-11-24T12:00:00+01:00', ...c }));
  const server = [];
  for (const cart of carts) {
    const res = await api('/api/quote', { method: 'POST', body: JSON.stringify({ cart }) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    server.push(res.body);
  }
  const local = await page.evaluate(async ({ program, account, carts }) => {
    const { createBrowserEngine } = await import('/admin/assets/index.js');
    const engine = await createBrowserEngine(program);
    const quotes = carts.map((c) => engine.quote(null, c));
    const el = document.createElement('loyalty-balance');
    el.program = program;
    el.account = account;
    el.cart = carts[1];
    document.querySelector('main').replaceChildren(el);
    await new Promise((resolve) => el.addEventListener('quote', resolve, { once: true }));
    return { quotes, shown: el.shadowRoot.querySelector('#quote-points').textContent };
  }, { program, account, carts });
  assert.deepEqual(local.quotes, server);
  assert.deepEqual(server.map((q) => q.points), [399, 2337, 12500, 10]);
  assert.equal(local.shown, '2,337');
  // The balance box: balance, progress to the reward, next expiry.
  assert.equal(await page.textContent('loyalty-balance >> #balance'), new Intl.NumberFormat('en').format(account.balance));
  assert.match(await page.textContent('loyalty-balance >> #progress'), new RegExp(`${new Intl.NumberFormat('en').format(5000 - account.balance)} points to 10% off your next order`));
  assert.match(await page.textContent('loyalty-balance >> #expiry'), new RegExp(`${new Intl.NumberFormat('en').format(account.next_expiry.points)} points expire ${account.next_expiry.at.slice(0, 10)}`));
  // Tier progress, as the engine's view gives it for a program with tiers.
  const tierText = await page.evaluate(async (account) => {
    const el = document.querySelector('loyalty-balance');
    el.account = { ...account, tier: 'Silver', tier_progress: { basis: 'spend', current: '120.00', next_tier: 'Gold', needed: '380.00' } };
    await el.updateComplete;
    return el.shadowRoot.querySelector('#tier-progress').textContent;
  }, account);
  assert.equal(tierText, 'Spend 380.00 more to Gold');
  await page.locator('loyalty-balance').screenshot({ path: join(artifacts, 'storefront-balance.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('<loyalty-balance> takes no admin token: it reads ${base}/account with the customer token only', async () => {
  const page = await newPage();
  await page.goto(`${url}/admin`); // any page with the import map
  const seen = [];
  // The storefront backend, answered here: what the widget asks for is what is checked.
  await page.route('https://backend.test/**', async (route) => {
    const req = route.request();
    seen.push({ method: req.method(), url: req.url(), authorization: (await req.allHeaders()).authorization ?? null });
    await route.fulfill({ status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': url },
      body: JSON.stringify({ customer: 'w-7', balance: 990, pending: 0, tier: null, next_expiry: null, coupons: [], tier_progress: null, catalogue: [],
        next_reward: { reward: 'threshold-10pct', name: '10% off your next order', points: 5000, balance: 990, needed: 4010 } }) });
  });
  const found = await page.evaluate(async (admin) => {
    await import('/admin/assets/index.js');
    const Balance = customElements.get('loyalty-balance');
    const el = document.createElement('loyalty-balance');
    // The old admin-token attribute, as a stale theme might still set it.
    el.setAttribute('token', admin);
    el.setAttribute('customer', 'c-1001');
    el.setAttribute('customer-token', 'customer-token-1');
    el.setAttribute('base', 'https://backend.test/storefront/');
    const loaded = new Promise((resolve) => el.addEventListener('account', resolve, { once: true }));
    document.querySelector('main').replaceChildren(el);
    await loaded;
    await el.updateComplete;
    return {
      tokenProperty: 'token' in el || 'token' in Balance.elementProperties || Balance.properties.token !== undefined,
      observesToken: Balance.observedAttributes.includes('token'),
      customerToken: el.customerToken,
      balance: el.shadowRoot.querySelector('#balance').textContent,
      progress: el.shadowRoot.querySelector('#progress').textContent,
    };
  }, TOKEN);
  assert.equal(found.tokenProperty, false);
  assert.equal(found.observesToken, false);
  assert.equal(found.customerToken, 'customer-token-1');
  assert.deepEqual(seen, [{ method: 'GET', url: 'https://backend.test/storefront/account', authorization: 'Bearer customer-token-1' }]);
  assert.equal(found.balance, '990');
  assert.match(found.progress, /4,010 points to 10% off your next order/);
  // The widget's source no longer knows the admin API's customer route.
  const source = readFileSync(join(root, 'js/widget/balance.js'), 'utf8');
  assert.doesNotMatch(source, /\btoken: \{|\/api\/customers/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a referral link: ?ref= is remembered for 30 days, claimed once for the logged-in customer, then forgotten', async () => {
  const page = await newPage();
  const CODE = `${Buffer.from('c-1001').toString('base64url')}.AbCdEfGhIjKlMnOp`;
  const LATER = `${Buffer.from('c-2001').toString('base64url')}.QrStUvWxYz012345`;
  const claims = [];
  let answer = { status: 200, body: { credited: true } };
  // The storefront backend, answered here: what the widgets send is what is checked.
  await page.route('https://backend.test/**', async (route) => {
    const req = route.request();
    const path = new URL(req.url()).pathname;
    if (path.endsWith('/referral/claim')) {
      claims.push({ method: req.method(), path, authorization: (await req.allHeaders()).authorization ?? null, body: req.postDataJSON() });
      if (answer === 'offline') return route.abort('internetdisconnected');
      return route.fulfill({ status: answer.status, contentType: 'application/json', headers: { 'access-control-allow-origin': url }, body: JSON.stringify(answer.body) });
    }
    return route.fulfill({ status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': url, 'access-control-allow-headers': 'authorization, content-type' },
      body: JSON.stringify({ customer: 'c-3001', balance: 0, pending: 0, tier: null, next_expiry: null, coupons: [], tier_progress: null, catalogue: [], next_reward: null }) });
  });
  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('loyalty-referral')));
  // A guest's page: the element remembers, sends nothing.
  const visit = async (query) => {
    await page.goto(`${url}/admin${query}`); // any page with the import map
    await page.evaluate(async () => {
      await import('/admin/assets/index.js');
      document.body.append(document.createElement('loyalty-referral'));
    });
  };
  await visit(`?ref=${CODE}`);
  const kept = await stored();
  assert.equal(kept.code, CODE);
  const days = (kept.expires - Date.now()) / 86_400_000;
  assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
  // A later link does not replace the first; junk is not kept.
  await visit(`?ref=${LATER}`);
  assert.deepEqual(await stored(), kept);
  assert.equal(claims.length, 0);

  // Signed in: the box loads the account and claims the code once, with the customer token.
  const render = (tag) => page.evaluate(async (tag) => {
    const el = document.createElement(tag);
    el.setAttribute('customer-token', 'customer-token-3001');
    const answered = new Promise((resolve) => {
      el.addEventListener('referral', (e) => resolve(e.detail), { once: true });
      setTimeout(() => resolve(null), 1500); // no claim: nothing to answer
    });
    el.setAttribute('base', 'https://backend.test/storefront');
    document.querySelector('main').append(el);
    const detail = await answered;
    return detail && { credited: detail.credited ?? null, status: detail.status ?? null };
  }, tag);
  await visit('');
  assert.deepEqual(await render('loyalty-balance'), { credited: true, status: null });
  assert.deepEqual(claims, [{ method: 'POST', path: '/storefront/referral/claim', authorization: 'Bearer customer-token-3001', body: { code: CODE } }]);
  assert.equal(await stored(), null);
  // Another box, the embed, a reload: nothing left to claim.
  assert.equal(await render('loyalty-balance'), null);
  assert.equal(await render('loyalty-referral'), null);
  await visit('');
  assert.equal(await render('loyalty-referral'), null);
  assert.equal(claims.length, 1);

  // A refusal is final: the code is forgotten. Offline, it is kept for the next page.
  answer = { status: 400, body: { error: { code: 'invalid_code', path: 'code', message: 'code: not a referral code of this shop' } } };
  await visit(`?ref=${LATER}`);
  assert.deepEqual(await render('loyalty-referral'), { credited: null, status: 400 });
  assert.equal(await stored(), null);
  answer = 'offline';
  await visit(`?ref=${CODE}`);
  await render('loyalty-referral');
  assert.equal((await stored())?.code, CODE);
  answer = { status: 200, body: { credited: false, reason: 'self-referral earns nothing' } };
  await visit('');
  assert.deepEqual(await render('loyalty-referral'), { credited: false, status: null });
  assert.equal(await stored(), null);
  assert.deepEqual(claims.map((c) => c.body.code), [CODE, LATER, CODE, CODE]);
  // An expired code is dropped, not sent.
  await visit(`?ref=${LATER}`);
  await page.evaluate(() => localStorage.setItem('loyalty-referral', JSON.stringify({ ...JSON.parse(localStorage.getItem('loyalty-referral')), expires: Date.now() - 1 })));
  await visit('');
  assert.equal(await render('loyalty-referral'), null);
  assert.equal(await stored(), null);
  assert.equal(claims.length, 4);
  assert.deepEqual(page.errors, []);
  await page.close();
});
