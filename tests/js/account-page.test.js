// <loyalty-account> in Chromium (playwright-core, Debian's /usr/bin/chromium) at desktop and
// phone sizes, against a stub of the storefront routes (CONTRACT.md) served in this test:
// balance, progress, coupons opened at #discounts with a copy button that copies the code,
// a catalogue reward redeemed through POST redeem, history pages, preferences, birthday,
// newsletter and referral share, texts by locale, and axe-core finding no serious or
// critical violations. Screenshots go to test-artifacts/.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serve, page as pageHtml, launch, VIEWPORTS, seriousViolations, overflowsX } from './fixtures/component-page.js';

const root = new URL('../../', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const CODE = 'LOY-7K2M-QX9D-4HTA';
const TOKEN = 'customer-token-c1';

// The stub storefront: one customer's state, and every request it got.
let state, requests;
function reset() {
  requests = [];
  state = {
    account: {
      customer: 'c1', balance: 5600, pending: 120, tier: 'Silver', currency: 'EUR', timezone: 'Europe/Oslo',
      tier_progress: { basis: 'points', current: 5600, next_tier: 'Gold', needed: 4400 },
      next_expiry: { points: 5600, at: '2027-11-30T23:59:59.999+01:00' },
      coupons: [],
      catalogue: [
        { id: 'threshold-10pct', name: '10% off your next order', auto: true, points: 5000, coupon: { type: 'percent', value: '10', min_order: '100.00' } },
        { id: 'free-ship', name: 'Free shipping', points: 800, coupon: { type: 'free_shipping' } },
        { id: 'tote', name: 'Canvas tote bag', points: 9000, coupon: { type: 'free_product', product: 'TOTE' } },
      ],
      progress: { reward: { id: 'tote', name: 'Canvas tote bag', points: 9000 }, needed: 3400 },
    },
    coupons: [
      { code: CODE, reward: 'threshold-10pct', type: 'percent', value: '10', min_order: '100.00', expires_at: '2026-12-30T23:59:59.999+01:00', status: 'issued' },
      { code: 'LOY-OLD-USED', type: 'fixed', value: '5.00', status: 'used' },
    ],
    history: [
      { type: 'earn', points: 2337, balance_after: 5600, reason: 'order placed', at: '2026-11-24T12:00:00+01:00' },
      { type: 'adjust', points: 250, balance_after: 3263, reason: 'Birthday gift', at: '2026-11-20T09:00:00+01:00' },
      { type: 'expire', points: -40, balance_after: 3013, reason: 'points expired', at: '2026-11-01T00:00:00+01:00' },
    ],
    prefs: { locale: null, opt_out: [], birthday: null, newsletter: false },
  };
}

function storefront(req, url, body) {
  const m = /^\/(apps\/loyalty|storefront)\/(.+)$/.exec(url.pathname);
  if (!m) return undefined;
  const [, prefix, route] = m;
  requests.push({ method: req.method, route, query: url.search, body: body ? JSON.parse(body) : undefined, authorization: req.headers.authorization ?? null });
  // The mobile/WooCommerce prefix wants the customer token; the app proxy is signed by Shopify.
  if (prefix === 'storefront' && req.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, json: { error: { code: 'unauthorized', path: 'authorization', message: 'missing customer token' } } };
  const json = body ? JSON.parse(body) : null;
  switch (`${req.method} ${route}`) {
    case 'GET account': return { json: { ...state.account, coupons: state.coupons.filter((c) => c.status === 'issued') } };
    case 'GET coupons': return { json: { coupons: state.coupons } };
    case 'GET history': {
      const from = Number(url.searchParams.get('cursor') ?? 0);
      return { json: { entries: state.history.slice(from, from + 2), next: from + 2 < state.history.length ? String(from + 2) : null } };
    }
    case 'POST redeem': {
      const reward = state.account.catalogue.find((r) => r.id === json.reward);
      if (!reward || reward.points > state.account.balance) return { status: 400, json: { error: { code: 'not_enough_points', path: 'reward', message: 'not enough points' } } };
      state.account.balance -= reward.points;
      const coupon = { code: 'LOY-FREE-SHIP-0001', reward: reward.id, ...reward.coupon, expires_at: '2027-01-05T23:59:59.999+01:00', status: 'issued' };
      state.coupons.push(coupon);
      state.history.unshift({ type: 'redeem', points: -reward.points, reason: reward.name, at: '2026-12-06T10:00:00+01:00' });
      return { json: { coupon, account: state.account } };
    }
    case 'GET preferences': return { json: state.prefs };
    case 'PUT preferences': {
      if (json.birthday && state.prefs.birthday) return { status: 409, json: { error: { code: 'conflict', path: 'birthday', message: 'already set' } } };
      state.prefs = { ...state.prefs, ...json };
      return { json: state.prefs };
    }
    case 'POST actions':
      if (json.action === 'newsletter') state.account.balance += 100;
      return { json: { action: json.action, points: json.action === 'newsletter' ? 100 : 0 } };
    case 'GET referral': return { json: { code: 'ANN-42', url: 'https://shop.example/r/ANN-42' } };
    default: return { status: 404, json: { error: { code: 'not_found', path: '', message: route } } };
  }
}

let server, browser;
before(async () => {
  server = await serve((req, url, body) => {
    if (url.pathname === '/account' || url.pathname === '/account/discounts') {
      const attrs = url.searchParams.get('attrs') ?? 'base="/apps/loyalty"';
      return { html: pageHtml({ title: 'My account', script: "import '/widget/account.js';", body: `<loyalty-account ${attrs} follow-url="https://social.example/shop" shop-url="https://shop.example/"></loyalty-account>` }) };
    }
    return storefront(req, url, body);
  });
  browser = await launch();
});
beforeEach(reset);
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(viewport, { path = '/account#discounts', locale = 'en-GB' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(`${server.url}${path}`);
  await page.waitForSelector('loyalty-account >> #balance');
  return page;
}
const text = async (page, sel) => (await page.textContent(`loyalty-account >> ${sel}`)).replace(/\s+/g, ' ').trim();
const sent = (method, route) => requests.filter((r) => r.method === method && r.route === route);

for (const [size, viewport] of Object.entries(VIEWPORTS)) {
  test(`${size}: balance, progress, coupons at #discounts with a copy button, redeem from the catalogue`, async () => {
    const page = await open(viewport);
    assert.equal(await text(page, '#balance'), '5,600');
    assert.equal(await text(page, '#pending'), '120 pending');
    assert.equal(await text(page, '#progress-text'), '3,400 more points to Canvas tote bag');
    assert.equal(await text(page, '#tier'), 'Silver');
    assert.equal(await text(page, '#tier-text'), '4,400 points more to Gold');
    // The reward push opens #discounts: that section is in view with focus on its heading.
    assert.equal(await page.evaluate(() => document.querySelector('loyalty-account').shadowRoot.activeElement?.id), 'discounts-h');
    assert.ok(await page.locator('loyalty-account >> #discounts-h').isVisible());
    const inView = await page.locator('loyalty-account >> #discounts-h').evaluate((h) => { const r = h.getBoundingClientRect(); return r.top >= -1 && r.top < innerHeight ? true : r.top; });
    assert.equal(inView, true);
    // Only usable coupons, with their terms.
    assert.deepEqual(await page.locator('loyalty-account >> #coupons .code').allTextContents(), [CODE]);
    assert.match(await text(page, `[data-code="${CODE}"] .muted`), /^10% off, on orders from €100\.00, valid until 30 Dec 2026$/);
    // Copy puts the code on the clipboard and says so.
    await page.click(`loyalty-account >> [data-code="${CODE}"] button`);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), CODE);
    assert.equal(await text(page, '#status'), `Copied ${CODE}`);

    // The catalogue: what the balance affords can be redeemed, the rest says what is missing.
    assert.deepEqual(await page.locator('loyalty-account >> #catalogue [data-reward]').evaluateAll((els) => els.map((e) => e.dataset.reward)), ['free-ship', 'tote']);
    assert.equal(await page.isDisabled('loyalty-account >> [data-reward="tote"] button'), true);
    assert.equal(await text(page, '#need-tote'), 'You need 3,400 more points');
    await page.click('loyalty-account >> [data-reward="free-ship"] button');
    await page.waitForSelector('loyalty-account >> [data-code="LOY-FREE-SHIP-0001"]');
    assert.deepEqual(sent('POST', 'redeem').map((r) => r.body), [{ reward: 'free-ship' }]);
    assert.equal(await text(page, '#balance'), '4,800');
    assert.equal(await text(page, '#status'), 'Done: your code is LOY-FREE-SHIP-0001');
    // The reload after a redeem leaves focus where the customer was.
    assert.equal(await page.evaluate(() => document.querySelector('loyalty-account').shadowRoot.activeElement?.closest('[data-reward]')?.dataset.reward), 'free-ship');
    assert.match(await text(page, '[data-code="LOY-FREE-SHIP-0001"] .muted'), /^Free shipping, valid until/);
    // Nothing but customer routes, and no token on the app proxy.
    assert.ok(requests.every((r) => r.authorization === null));
    assert.equal(await overflowsX(page), false, 'no sideways scrolling');
    await page.screenshot({ path: join(artifacts, `account-${size}.png`), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('history pages with reasons; preferences, birthday once, newsletter and referral share', async () => {
  const page = await open(VIEWPORTS.phone, { path: '/account' });
  const rows = () => page.locator('loyalty-account >> #history tbody tr').evaluateAll((trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
  assert.deepEqual(await rows(), ['24 Nov 2026 Earned order placed +2,337', '20 Nov 2026 Adjustment Birthday gift +250']);
  await page.click('loyalty-account >> #more');
  await page.waitForFunction(() => document.querySelector('loyalty-account').shadowRoot.querySelectorAll('#history tbody tr').length === 3);
  assert.equal((await rows())[2], '1 Nov 2026 Expired points expired -40');
  assert.equal(await page.locator('loyalty-account >> #more').count(), 0);
  assert.deepEqual(sent('GET', 'history').map((r) => r.query), ['', '?cursor=2']);

  // Birthday, entered once.
  await page.fill('loyalty-account >> #birthday', '1990-03-12');
  await page.click('loyalty-account >> #birthday-form button');
  await page.waitForSelector('loyalty-account >> #birthday-set');
  assert.deepEqual(sent('PUT', 'preferences').map((r) => r.body), [{ birthday: '1990-03-12' }]);
  assert.equal(await text(page, '#birthday-set'), 'Your birthday: 12 Mar 1990');
  assert.equal(await page.locator('loyalty-account >> #birthday').count(), 0);

  // Newsletter: the action, the new balance.
  await page.click('loyalty-account >> #newsletter');
  await page.waitForSelector('loyalty-account >> #newsletter-done');
  assert.deepEqual(sent('POST', 'actions').map((r) => r.body), [{ action: 'newsletter' }]);
  assert.equal(await text(page, '#balance'), '5,700');

  // Referral link: shown, copied or shared, and the share recorded.
  assert.equal(await page.inputValue('loyalty-account >> #referral-url'), 'https://shop.example/r/ANN-42');
  const canShare = await page.evaluate(() => typeof navigator.share === 'function');
  if (!canShare) {
    await page.click('loyalty-account >> #share-referral');
    await page.waitForFunction(() => document.querySelector('loyalty-account').shadowRoot.querySelector('#status').textContent === 'Thank you!');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'https://shop.example/r/ANN-42');
    // The page thanks the customer while the share is recorded: wait for the request.
    for (let i = 0; i < 100 && sent('POST', 'actions').length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(sent('POST', 'actions').at(-1).body, { action: 'social_share' });
  }

  // Preferences: no SMS, Norwegian; the page then speaks Norwegian.
  await page.check('loyalty-account >> input[name="opt-sms"]');
  await page.selectOption('loyalty-account >> #locale', 'nb');
  await page.click('loyalty-account >> #prefs-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('loyalty-account').shadowRoot.querySelector('#balance-h').textContent === 'Dine poeng');
  assert.deepEqual(sent('PUT', 'preferences').at(-1).body, { locale: 'nb', opt_out: ['sms'] });
  assert.equal(await page.getAttribute('loyalty-account', 'lang'), 'nb');
  assert.equal(await text(page, '#status'), 'Lagret');
  await page.screenshot({ path: join(artifacts, 'account-phone-nb.png'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('locale from the attribute or the browser (en, nb, sv, es); a customer token goes as Bearer; errors show', async () => {
  // The browser's language when no attribute says otherwise.
  // Opened at the dispatcher's default discounts path: the codes get the focus.
  let page = await open(VIEWPORTS.desktop, { path: '/account/discounts', locale: 'sv-SE' });
  assert.equal(await text(page, '#balance-h'), 'Dina poäng');
  assert.equal(await page.evaluate(() => document.querySelector('loyalty-account').shadowRoot.activeElement?.id), 'discounts-h');
  assert.equal(await text(page, '#balance'), '5 600');
  await page.context().close();
  // The attribute wins; the /storefront prefix with the customer token.
  requests = [];
  const attrs = encodeURIComponent(`base="/storefront" customer-token="${TOKEN}" locale="es"`);
  page = await open(VIEWPORTS.desktop, { path: `/account?attrs=${attrs}`, locale: 'nb-NO' });
  assert.equal(await text(page, '#balance-h'), 'Tus puntos');
  assert.equal(await text(page, '#discounts-h'), 'Tus códigos de descuento');
  assert.ok(requests.length >= 5 && requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
  // A refused redeem shows the server's message in the alert region.
  state.account.balance = 100;
  await page.evaluate(() => document.querySelector('loyalty-account').redeem({ id: 'free-ship', points: 800 }));
  assert.equal(await text(page, '#error'), 'Algo salió mal: not enough points');
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  // `token` is not an attribute of the storefront elements (an operator token must never be
  // put on a shop's page): given as `token`, nothing goes as Bearer and the refusal shows.
  requests = [];
  page = await (await browser.newContext({ viewport: VIEWPORTS.desktop, locale: 'en-GB' })).newPage();
  await page.goto(`${server.url}/account?attrs=${encodeURIComponent(`base="/storefront" token="${TOKEN}"`)}`);
  await page.waitForFunction(() => document.querySelector('loyalty-account')?.shadowRoot?.querySelector('#error')?.textContent);
  assert.equal(await text(page, '#error'), 'Something went wrong: missing customer token');
  assert.ok(requests.length > 0 && requests.every((r) => r.authorization === null));
  await page.context().close();
});
