// The WordPress plugin's PHP, run by Debian's php-cli: tokens it signs verify with the JS
// verifier (and tampered, expired or other-shop ones do not), and the cart it sends for a quote
// reads like the order the WooCommerce adapter later reads. Then its Rewards tab, as the PHP
// prints it, in Chromium (playwright-core, Debian's /usr/bin/chromium) on the shop's origin
// against the real backend: the storefront bundle from the backend's /widget/loyalty-widget.js
// shows the customer's balance in both elements. Needs `php` (apt-get install php-cli).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { verifyCustomerToken } from '../../js/platforms/customer-token.js';
import { createWooAdapter } from '../../js/platforms/woocommerce.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { createShops } from '../../js/shops/registry.js';
import { buildApp } from '../../js/server/app.js';
import { storefrontRoutes } from '../../js/server/storefront.js';
import { tokenIdentity } from '../../js/server/storefront-identity.js';

const plugin = fileURLToPath(new URL('../../js/platforms/wordpress/loyalty-rewards/', import.meta.url));
const SECRET = 'plugin-token-secret-0123456789';

function php(code, args = []) {
  const r = spawnSync('php', ['-d', 'display_errors=stderr', '-r', code, '--', ...args], { encoding: 'utf8', cwd: plugin });
  if (r.error) throw new Error(`php-cli is needed for this test (apt-get install -y php-cli): ${r.error.message}`);
  return r;
}

// Signs with includes/token.php; `now` in epoch seconds.
function phpSign(shop, customer, exp, secret = SECRET, now) {
  const r = php(`require 'includes/token.php';
    try { echo loyalty_rewards_sign_token($argv[1], $argv[2], (int) $argv[3], $argv[4], $argv[5] === '' ? null : (int) $argv[5]); }
    catch (InvalidArgumentException $e) { fwrite(STDERR, $e->getMessage()); exit(3); }`, [shop, customer, String(exp), secret, now === undefined ? '' : String(now)]);
  return { token: r.stdout, error: r.status === 3 ? r.stderr : null, status: r.status, stderr: r.stderr };
}

test('the plugin\'s PHP files parse', () => {
  for (const file of ['loyalty-rewards.php', 'includes/token.php', 'includes/cart.php']) {
    const r = spawnSync('php', ['-l', file], { encoding: 'utf8', cwd: plugin });
    if (r.error) throw new Error(`php-cli is needed for this test (apt-get install -y php-cli): ${r.error.message}`);
    assert.equal(r.status, 0, `${file}: ${r.stdout}${r.stderr}`);
  }
});

test('a token signed in PHP verifies in JS; tampered, expired and other-shop tokens are refused', () => {
  const now = Math.floor(Date.now() / 1000);
  const signed = phpSign('shop-1', '42', now + 900);
  assert.equal(signed.status, 0, signed.stderr);
  const claims = verifyCustomerToken(signed.token, SECRET, { shop: 'shop-1' });
  assert.deepEqual(claims, { shop: 'shop-1', customer: '42', expiresAt: (now + 900) * 1000 });

  // Slashes and non-ASCII: PHP and JS escape JSON differently; the MAC covers the bytes sent.
  const odd = phpSign('bütik/øst', '7', now + 60);
  assert.deepEqual(verifyCustomerToken(odd.token, SECRET, { shop: 'bütik/øst' }).shop, 'bütik/øst');

  const refusedPath = (token, secrets = SECRET, options = {}) => {
    try {
      verifyCustomerToken(token, secrets, options);
    } catch (e) {
      assert.equal(e.code, 'bad_token');
      return e.path;
    }
    return assert.fail('accepted');
  };
  const [payload, sig] = signed.token.split('.');
  // Change the customer inside the payload, keep the PHP signature.
  const json = Buffer.from(payload, 'base64url').toString('utf8').replace('"42"', '"43"');
  assert.equal(refusedPath(`${Buffer.from(json).toString('base64url')}.${sig}`), 'token');
  assert.equal(refusedPath(`${payload}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`), 'token');
  assert.equal(refusedPath(signed.token, 'some-other-secret-0123'), 'token');
  assert.equal(refusedPath(signed.token, SECRET, { shop: 'shop-2' }), 'token.shop');
  // Expired: signed at a past "now", checked at the real one.
  const old = phpSign('shop-1', '42', now - 60, SECRET, now - 600);
  assert.equal(old.status, 0, old.stderr);
  assert.equal(refusedPath(old.token), 'token.exp');
  assert.equal(refusedPath(signed.token, SECRET, { now: (now + 900) * 1000 }), 'token.exp');
});

test('the PHP signer refuses long lifetimes, short secrets and guests, naming the argument', () => {
  const now = Math.floor(Date.now() / 1000);
  assert.match(phpSign('shop-1', '42', now + 7200).error, /^expires_at: more than one hour ahead/);
  assert.match(phpSign('shop-1', '42', now + 60, 'short').error, /^secret:/);
  assert.match(phpSign('shop-1', '0', now + 60).error, /^customer:/);
  assert.match(phpSign('shop-1', '42', now - 1).error, /^expires_at:/);
});

test('the cart sent for a quote has the lines the WooCommerce adapter reads from the order', () => {
  // The same lines as a cart (PHP floats, as WC()->cart keeps them) and as an order webhook.
  const lines = [
    { id: 'l1', product_id: 7, sku: 'TSHIRT', quantity: 3, subtotal: 10, total: 9 },
    { id: 'l2', product_id: 8, sku: '', quantity: 1, subtotal: 129.9, total: 129.9 },
    { id: 'l3', product_id: 9, sku: 'MUG', quantity: 7, subtotal: 20.01, total: 15.55 },
  ];
  const r = php(`require 'includes/cart.php';
    $lines = json_decode($argv[1], true);
    foreach ($lines as &$l) { $l['subtotal'] = (float) $l['subtotal']; $l['total'] = (float) $l['total']; }
    echo json_encode(loyalty_rewards_cart_body($lines, array('shipping' => 4.9, 'tax' => 2.5, 'coupon_codes' => array('loy-abcd')), 'EUR', 2, '2026-12-06T12:00:00Z'));`,
  [JSON.stringify(lines)]);
  assert.equal(r.status, 0, r.stderr);
  const cart = JSON.parse(r.stdout);

  const order = {
    id: 900, customer_id: 42, status: 'processing', currency: 'EUR',
    date_created_gmt: '2026-12-06T12:00:00', date_paid_gmt: '2026-12-06T12:00:00', date_modified_gmt: '2026-12-06T12:00:00',
    shipping_total: '4.90', total_tax: '2.50', coupon_lines: [{ code: 'loy-abcd' }], refunds: [],
    line_items: lines.map((l) => ({ id: l.id, product_id: l.product_id, sku: l.sku, quantity: l.quantity, subtotal: l.subtotal.toFixed(2), total: l.total.toFixed(2) })),
  };
  const adapter = createWooAdapter({ secrets: ['unused-secret'] });
  const out = adapter.toEvents({ 'x-wc-webhook-topic': 'order.created' }, Buffer.from(JSON.stringify(order)));
  const placed = out.events.find((e) => e.type === 'order.placed').order;
  const pick = ({ sku, product_id, categories, quantity, unit_price, discount }) => ({ sku, product_id, categories, quantity, unit_price, discount });
  assert.deepEqual(cart.lines.map(pick), placed.lines.map(pick));
  assert.deepEqual(cart.lines[2], { id: 'l3', sku: 'MUG', product_id: '9', categories: [], quantity: 7, unit_price: '2.86', discount: '4.47' });
  assert.equal(cart.shipping, placed.shipping);
  assert.equal(cart.tax, placed.tax);
  assert.deepEqual(cart.coupon_codes, placed.coupon_codes);
  assert.equal(cart.taxes_included, false);
  assert.equal(cart.currency, 'EUR');
});

test('the plugin in php-cli: Rewards tab, a verifiable token in the page, and the cart\'s points from the quote route', async () => {
  const quotes = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      try {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const who = verifyCustomerToken(token, SECRET, { shop: 'shop-1' });
        quotes.push({ path: req.url, who, body: JSON.parse(raw) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ points: 1234, coupons: [] }));
      } catch (e) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: e.code, message: e.message } }));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const backend = `http://127.0.0.1:${server.address().port}`;
  const standin = fileURLToPath(new URL('./standins/wordpress.php', import.meta.url));
  const script = `require $argv[1]; require $argv[2];
    $GLOBALS['standin']['options'] = array('loyalty_rewards_backend_url' => $argv[3], 'loyalty_rewards_shop_id' => 'shop-1', 'loyalty_rewards_token_secret' => $argv[4]);
    $GLOBALS['standin']['user'] = 42;
    $GLOBALS['standin']['cart'] = array('items' => array('k1' => array('product_id' => 7, 'sku' => 'TSHIRT', 'quantity' => 3, 'line_subtotal' => 10.0, 'line_total' => 9.0)),
      'shipping' => '4.90', 'tax' => 2.5, 'coupons' => array('loy-abcd'));
    do_action('init');
    $out = array('endpoints' => $GLOBALS['standin']['endpoints']);
    $out['menu'] = array_keys(apply_filters('woocommerce_account_menu_items', array('dashboard' => 'Dashboard', 'orders' => 'Orders', 'customer-logout' => 'Log out')));
    $out['title'] = apply_filters('woocommerce_endpoint_rewards_title', 'x');
    ob_start(); do_action('woocommerce_account_rewards_endpoint', ''); $out['account'] = ob_get_clean();
    ob_start(); do_action('wp_footer'); $out['footer'] = ob_get_clean();
    ob_start(); do_action('woocommerce_cart_totals_after_order_total'); $out['cart'] = ob_get_clean();
    ob_start(); do_action('woocommerce_review_order_after_order_total'); $out['checkout'] = ob_get_clean();
    $out['requests'] = count($GLOBALS['standin']['requests']);
    $GLOBALS['standin']['user'] = 0;
    ob_start(); do_action('woocommerce_cart_totals_after_order_total'); $out['guest'] = ob_get_clean();
    echo json_encode($out);`;
  try {
    const stdout = await new Promise((resolve, reject) => {
      execFile('php', ['-d', 'display_errors=stderr', '-r', script, '--', standin, join(plugin, 'loyalty-rewards.php'), backend, SECRET],
        { cwd: plugin }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)));
    });
    const out = JSON.parse(stdout);
    assert.deepEqual(out.endpoints, { rewards: 64 | 4096 });
    assert.deepEqual(out.menu, ['dashboard', 'orders', 'rewards', 'customer-logout']);
    assert.equal(out.title, 'Rewards');

    // The account page: both widgets, the storefront base, and a token for customer 42 of shop-1.
    assert.match(out.account, /<loyalty-balance base="http:\/\/127\.0\.0\.1:\d+\/storefront" customer-token="[^"]+" customer="42"/);
    // Both elements take the customer token as `customer-token`, never as `token`.
    assert.match(out.account, /<loyalty-account base="http:\/\/127\.0\.0\.1:\d+\/storefront" customer-token="[^"]+" customer="42"/);
    assert.doesNotMatch(out.account, /\stoken=/);
    // The backend's storefront bundle, an IIFE: a classic deferred script, not a module.
    assert.match(out.account, /<\/loyalty-account><script src="http:\/\/127\.0\.0\.1:\d+\/widget\/loyalty-widget\.js" defer><\/script>$/);
    assert.doesNotMatch(out.account, /type="module"/);
    // The footer's <loyalty-referral> on the same page: the script is not printed twice (a
    // classic script would run twice).
    assert.match(out.footer, /^<loyalty-referral hidden base="http:\/\/127\.0\.0\.1:\d+\/storefront" customer-token="[^"]+" data-token-url="https:\/\/store\.example\/wp-admin\/admin-ajax\.php\?action=loyalty_rewards_token" data-token-nonce="\w+"><\/loyalty-referral>$/);
    // Both tags carry where a fresh token comes from (the wp_ajax action) when theirs expires.
    assert.match(out.account, /<loyalty-balance [^>]* data-token-url="https:\/\/store\.example\/wp-admin\/admin-ajax\.php\?action=loyalty_rewards_token" data-token-nonce="\w+"><\/loyalty-balance>/);
    const token = / customer-token="([^"]+)"/.exec(out.account)[1];
    const claims = verifyCustomerToken(token, SECRET, { shop: 'shop-1' });
    assert.equal(claims.customer, '42');
    assert.ok(claims.expiresAt - Date.now() <= 15 * 60_000 + 1000);

    // Cart and checkout: one quote (the second is served from the transient), with the cart.
    assert.match(out.cart, /<tr class="loyalty-rewards-points"><th>Points<\/th><td>You will earn 1,234 points<\/td><\/tr>/);
    assert.equal(out.checkout, out.cart);
    assert.equal(out.requests, 1);
    assert.equal(quotes.length, 1);
    assert.equal(quotes[0].path, '/storefront/quote');
    assert.equal(quotes[0].who.customer, '42');
    assert.deepEqual(quotes[0].body.cart.lines, [{ id: 'k1', sku: 'TSHIRT', product_id: '7', categories: [], quantity: 3, unit_price: '3.34', discount: '1.02' }]);
    assert.equal(quotes[0].body.cart.shipping, '4.90');
    assert.equal(out.guest, '', 'guests see no points line');
  } finally {
    server.close();
  }
});

test('the footer tag on any page: <loyalty-referral> and the widget script, from the backend or the widget_url option', () => {
  const standin = fileURLToPath(new URL('./standins/wordpress.php', import.meta.url));
  const footer = (options, user) => {
    const r = php(`require $argv[1]; require $argv[2];
      $GLOBALS['standin']['options'] = json_decode($argv[3], true);
      $GLOBALS['standin']['user'] = (int) $argv[4];
      ob_start(); do_action('wp_footer'); echo ob_get_clean();`, [standin, join(plugin, 'loyalty-rewards.php'), JSON.stringify(options), String(user)]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const configured = { loyalty_rewards_backend_url: 'https://loyalty.example', loyalty_rewards_shop_id: 'shop-1', loyalty_rewards_token_secret: SECRET };
  assert.equal(footer(configured, 0), '<loyalty-referral hidden></loyalty-referral><script src="https://loyalty.example/widget/loyalty-widget.js" defer></script>');
  const signedIn = footer(configured, 42);
  assert.match(signedIn, /^<loyalty-referral hidden base="https:\/\/loyalty\.example\/storefront" customer-token="([^"]+)" data-token-url="[^"]+" data-token-nonce="\w+"><\/loyalty-referral><script src="https:\/\/loyalty\.example\/widget\/loyalty-widget\.js" defer><\/script>$/);
  assert.equal(verifyCustomerToken(/customer-token="([^"]+)"/.exec(signedIn)[1], SECRET, { shop: 'shop-1' }).customer, '42');
  // The option overrides where the script comes from (a copy on the shop's own CDN).
  assert.equal(footer({ ...configured, loyalty_rewards_widget_url: 'https://cdn.example/loyalty-widget.js' }, 0),
    '<loyalty-referral hidden></loyalty-referral><script src="https://cdn.example/loyalty-widget.js" defer></script>');
  // No backend set: nothing at all.
  assert.equal(footer({}, 42), '');
});

test('the Rewards tab as the plugin prints it, in Chromium: the bundle from the backend shows the customer\'s balance in both elements, also once the printed token has expired', async () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const artifacts = join(root, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  // The bundle the backend serves, as scripts/build.sh builds it (it is not committed).
  execFileSync('bash', [join(root, 'scripts/build-widget.sh')], { cwd: root, stdio: 'pipe' });
  const standin = fileURLToPath(new URL('./standins/wordpress.php', import.meta.url));
  const scratch = mkdtempSync(join(tmpdir(), 'loyalty-wp-page-test-'));
  const OPERATOR_TOKEN = 'operator-token-never-on-a-shop-page';
  let store, shops, app, shopServer, browser;
  let page = '';
  let options = {};
  try {
    // The WordPress site: whatever the plugin printed for the Rewards tab and the footer, with
    // the login cookie; and admin-ajax.php, which runs the plugin's wp_ajax_ action in php-cli
    // for the cookie's user (a guest's request finds no wp_ajax_nopriv_ action: 400 "0").
    const ajax = [];
    shopServer = createServer((req, res) => {
      const url = new URL(req.url, 'http://shop');
      if (req.method === 'POST' && url.pathname === '/wp-admin/admin-ajax.php') {
        let raw = '';
        req.on('data', (c) => { raw += c; });
        req.on('end', () => {
          const request = { ...Object.fromEntries(url.searchParams), ...Object.fromEntries(new URLSearchParams(raw)) };
          const user = /(?:^|; )wp_standin_user=42(?:;|$)/.test(req.headers.cookie ?? '') ? 42 : 0;
          ajax.push({ request, user, type: req.headers['content-type'] });
          execFile('php', ['-d', 'display_errors=stderr', '-r', `require $argv[1]; require $argv[2];
            $GLOBALS['standin']['options'] = json_decode($argv[3], true);
            $GLOBALS['standin']['user'] = (int) $argv[4];
            $_REQUEST = json_decode($argv[5], true);
            do_action(($GLOBALS['standin']['user'] ? 'wp_ajax_' : 'wp_ajax_nopriv_') . $_REQUEST['action']);
            standin_exit(400, '0');`, '--', standin, join(plugin, 'loyalty-rewards.php'), JSON.stringify(options), String(user), JSON.stringify(request)],
          { cwd: plugin }, (err, out, errOut) => {
            if (err) return res.writeHead(500).end(errOut);
            const answer = JSON.parse(out);
            res.writeHead(answer.status, { 'content-type': answer.body.startsWith('{') ? 'application/json' : 'text/html', ...(answer.nocache ? { 'cache-control': 'no-cache, must-revalidate, max-age=0' } : {}) });
            res.end(answer.body);
          });
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'wp_standin_user=42; Path=/; HttpOnly; SameSite=Lax' });
      res.end(page);
    });
    await new Promise((r) => shopServer.listen(0, '127.0.0.1', r));
    const shopOrigin = `http://127.0.0.1:${shopServer.address().port}`;

    // The backend, as serve.js mounts it: the app (its /widget files) and the /storefront
    // routes that take the shop's customer tokens; the shop connected with the token secret.
    store = await openPgliteStore({ dataDir: join(scratch, 'db') });
    shops = createShops({ store, key: randomBytes(32), secret: 'coupon-secret' });
    const program = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
    const shop = await shops.save({ platform: 'woocommerce', domain: `${shopOrigin}/`, program, secrets: { token_secret: SECRET } });
    const loyalty = shops.loyalty(shop);
    const at = new Date(Date.now() - 86_400_000).toISOString();
    await loyalty.handle({ id: 'wp1', type: 'order.placed', at, customer: '42', order: { id: 'o-wp1', currency: 'EUR', lines: [{ id: 'l1', quantity: 2, unit_price: '64.00' }] } });
    await loyalty.handle({ id: 'wp2', type: 'order.placed', at, customer: '43', order: { id: 'o-wp2', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '12.00' }] } });
    const balance = (await loyalty.account('42')).balance;
    assert.equal(balance, 1280);
    app = buildApp({ loyalty, store, token: OPERATOR_TOKEN });
    app.register(storefrontRoutes, { prefix: '/storefront', identify: tokenIdentity({ shops, store, verify: verifyCustomerToken }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const backend = `http://127.0.0.1:${app.server.address().port}`;

    // The plugin's output for customer 42: the Rewards tab, then the footer.
    options = { loyalty_rewards_backend_url: backend, loyalty_rewards_shop_id: shop.id, loyalty_rewards_token_secret: SECRET };
    const r = php(`require $argv[1]; require $argv[2];
      $GLOBALS['standin']['options'] = json_decode($argv[3], true);
      $GLOBALS['standin']['user'] = 42;
      $GLOBALS['standin']['site'] = $argv[4];
      do_action('init');
      ob_start(); do_action('woocommerce_account_rewards_endpoint', ''); do_action('wp_footer'); echo ob_get_clean();`,
    [standin, join(plugin, 'loyalty-rewards.php'), JSON.stringify(options), shopOrigin]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.stdout.match(/<script /g) ?? []).length, 1);
    assert.ok(r.stdout.includes(`<script src="${backend}/widget/loyalty-widget.js" defer></script>`), r.stdout);
    page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>My account</title></head>
<body><main><h1>Rewards</h1>${r.stdout}</main></body></html>`;
    assert.ok(!page.includes(OPERATOR_TOKEN));

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const tab = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage();
    tab.setDefaultTimeout(10_000);
    const errors = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const calls = [];
    tab.on('request', (q) => q.url().startsWith(backend) && calls.push({ url: q.url().slice(backend.length), method: q.method(), authorization: q.headers().authorization ?? null }));
    await tab.goto(`${shopOrigin}/my-account/rewards/`);

    // Both elements load the customer's account through /storefront with the token.
    await tab.waitForSelector('loyalty-balance >> #balance');
    await tab.waitForSelector('loyalty-account >> #balance');
    const shown = new Intl.NumberFormat('en-US').format(balance);
    assert.equal(shown, '1,280');
    assert.equal((await tab.textContent('loyalty-balance >> #balance')).trim(), shown);
    assert.equal((await tab.textContent('loyalty-account >> #balance')).trim(), shown);
    assert.equal((await tab.textContent('loyalty-account >> #error')).trim(), '');
    assert.deepEqual(calls.filter((c) => c.url.startsWith('/widget/')).map((c) => c.url), ['/widget/loyalty-widget.js']);
    const accountCalls = calls.filter((c) => c.url === '/storefront/account' && c.method === 'GET');
    assert.ok(accountCalls.length >= 2, JSON.stringify(calls));
    const token = / customer-token="([^"]+)"/.exec(r.stdout)[1];
    assert.ok(accountCalls.every((c) => c.authorization === `Bearer ${token}`));
    assert.ok(calls.every((c) => c.authorization !== `Bearer ${OPERATOR_TOKEN}`));
    // The classic script defined all three elements; the footer's <loyalty-referral> too.
    assert.deepEqual(await tab.evaluate(() => ['loyalty-balance', 'loyalty-account', 'loyalty-referral'].map((n) => !!customElements.get(n))), [true, true, true]);

    // The cart preview in the browser: the wasm beside the bundle, fetched from the backend
    // across origins, gives the server's points.
    const cart = { currency: 'EUR', at: '2026-12-06T12:00:00+01:00', lines: [{ id: 'a', quantity: 3, unit_price: '49.90', discount: '5.00' }] };
    const server = await (await fetch(`${backend}/storefront/quote`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cart }) })).json();
    const local = await tab.evaluate(async ({ program, cart }) => {
      const el = document.querySelector('loyalty-balance');
      const quoted = new Promise((resolve) => el.addEventListener('quote', (e) => resolve(e.detail), { once: true }));
      el.program = program;
      el.cart = cart;
      return quoted;
    }, { program: (await shops.get(shop.id)).program, cart });
    assert.equal(typeof server.points, 'number');
    assert.equal(local.points, server.points);
    assert.ok(calls.some((c) => c.url === '/widget/loyalty_engine_bg.wasm'), JSON.stringify(calls));
    await tab.screenshot({ path: join(artifacts, 'wordpress-rewards-tab.png'), fullPage: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(ajax, []);

    // The page left open past the token's 15 minutes: the printed token (signed 16 minutes
    // ago) is refused, each element gets a fresh one from admin-ajax.php with its nonce and the
    // login cookie, retries, and shows the balance; the new token is its customer-token.
    const now = Math.floor(Date.now() / 1000);
    const stale = phpSign(shop.id, '42', now - 60, SECRET, now - 16 * 60).token;
    assert.throws(() => verifyCustomerToken(stale, SECRET, { shop: shop.id }), /expired/);
    page = page.replace(/ customer-token="[^"]+"/g, ` customer-token="${stale}"`);
    assert.equal(page.split(stale).length - 1, 3);
    calls.length = 0;
    errors.length = 0;
    await tab.goto(`${shopOrigin}/my-account/rewards/`);
    await tab.waitForSelector('loyalty-balance >> #balance');
    await tab.waitForSelector('loyalty-account >> #balance');
    assert.equal((await tab.textContent('loyalty-balance >> #balance')).trim(), shown);
    assert.equal((await tab.textContent('loyalty-account >> #balance')).trim(), shown);
    assert.equal((await tab.textContent('loyalty-account >> #error')).trim(), '');
    assert.equal(await tab.evaluate(() => document.querySelector('loyalty-balance').shadowRoot.querySelector('.err')), null);
    const nonce = / data-token-nonce="(\w+)"/.exec(page)[1];
    assert.equal(ajax.length, 2, JSON.stringify(ajax));
    assert.deepEqual(ajax[0], { request: { action: 'loyalty_rewards_token', _ajax_nonce: nonce }, user: 42, type: 'application/x-www-form-urlencoded' });
    const fresh = await tab.evaluate(() => ['loyalty-balance', 'loyalty-account'].map((n) => document.querySelector(n).getAttribute('customer-token')));
    for (const t of fresh) assert.equal(verifyCustomerToken(t, SECRET, { shop: shop.id }).customer, '42');
    const bearers = calls.filter((c) => c.url === '/storefront/account' && c.method === 'GET').map((c) => c.authorization.slice('Bearer '.length));
    assert.equal(bearers.filter((b) => b === stale).length, 2, JSON.stringify(calls));
    assert.ok(bearers.filter((b) => b !== stale).every((b) => fresh.includes(b)));
    // Each element loads once: setting the fresh token does not reload it.
    assert.equal(bearers.length, 4, JSON.stringify(calls));
    // Only the refused first calls show in the console (Chromium logs every 401 response).
    assert.ok(errors.every((e) => /status of 401/.test(e)), JSON.stringify(errors));
  } finally {
    await browser?.close();
    await app?.close();
    await new Promise((r) => (shopServer ? shopServer.close(r) : r()));
    await shops?.close();
    await store?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});
