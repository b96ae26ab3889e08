// createStorefrontClient's token refresh (js/widget/api.js) with a fake fetch: a 401 gets one
// new token and one retry, concurrent 401s share the refresh, and a failed refresh or a second
// 401 is the call's error. And tokenRefresher, the refresh from an element's data-token-url /
// data-token-nonce (the WordPress plugin's admin-ajax action).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStorefrontClient, tokenRefresher } from '../../js/widget/api.js';

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const expired = () => json(401, { error: { code: 'bad_token', path: 'token.exp', message: 'expired' } });

// The backend: accepts only `valid` bearers; records every call's bearer.
function backend(valid) {
  const calls = [];
  const fetch = async (url, init) => {
    const bearer = /^Bearer (.+)$/.exec(init.headers.authorization ?? '')?.[1] ?? null;
    calls.push({ url, bearer });
    await new Promise((r) => setTimeout(r, 5));
    return valid.includes(bearer) ? json(200, { url, bearer }) : expired();
  };
  return { calls, fetch };
}

// A refresh that counts its calls and resolves to `answer` (or rejects with it) after a tick.
function refresher(answer) {
  const r = async () => {
    r.count += 1;
    await new Promise((res) => setTimeout(res, 5));
    if (answer instanceof Error) throw answer;
    return answer;
  };
  r.count = 0;
  return r;
}

test('a 401 refreshes once and retries with the new bearer; later calls use it', async () => {
  const { calls, fetch } = backend(['new']);
  const refreshToken = refresher('new');
  const client = createStorefrontClient({ base: 'https://loyalty.example/storefront/', customerToken: 'old', refreshToken, fetch });
  assert.deepEqual(await client.account(), { url: 'https://loyalty.example/storefront/account', bearer: 'new' });
  assert.equal(refreshToken.count, 1);
  assert.deepEqual(calls.map((c) => c.bearer), ['old', 'new']);
  await client.coupons();
  assert.equal(refreshToken.count, 1);
  assert.deepEqual(calls.map((c) => c.bearer), ['old', 'new', 'new']);
});

test('concurrent 401s share one refresh', async () => {
  const { calls, fetch } = backend(['new']);
  const refreshToken = refresher('new');
  const client = createStorefrontClient({ base: '/storefront', customerToken: 'old', refreshToken, fetch });
  const out = await Promise.all([client.account(), client.coupons(), client.preferences()]);
  assert.deepEqual(out.map((o) => o.bearer), ['new', 'new', 'new']);
  assert.equal(refreshToken.count, 1);
  assert.equal(calls.length, 6);
  assert.deepEqual(calls.filter((c) => c.bearer === 'old').map((c) => c.url).sort(), ['/storefront/account', '/storefront/coupons', '/storefront/preferences']);
});

test('a second 401 is final: the call fails with it, one refresh, one retry', async () => {
  const { calls, fetch } = backend([]);
  const refreshToken = refresher('also-refused');
  const client = createStorefrontClient({ base: '/storefront', customerToken: 'old', refreshToken, fetch });
  await assert.rejects(client.account(), (err) => err.name === 'ApiError' && err.status === 401 && err.path === 'token.exp');
  assert.equal(refreshToken.count, 1);
  assert.deepEqual(calls.map((c) => c.bearer), ['old', 'also-refused']);
});

test('a failed refresh: the call fails with its 401 (the refresh error as its cause), not retried', async () => {
  for (const answer of [new Error('nonce expired'), '']) {
    const { calls, fetch } = backend(['new']);
    const refreshToken = refresher(answer);
    const client = createStorefrontClient({ base: '/storefront', customerToken: 'old', refreshToken, fetch });
    const both = await Promise.allSettled([client.account(), client.coupons()]);
    for (const r of both) {
      assert.equal(r.status, 'rejected');
      assert.equal(r.reason.status, 401);
      assert.ok(r.reason.cause instanceof Error);
      if (answer instanceof Error) assert.equal(r.reason.cause, answer);
    }
    assert.equal(refreshToken.count, 1);
    assert.deepEqual(calls.map((c) => c.bearer), ['old', 'old']);
  }
});

test('other errors and clients without refreshToken are unchanged', async () => {
  const refreshToken = refresher('new');
  const notFound = createStorefrontClient({ base: '/s', customerToken: 'old', refreshToken, fetch: async () => json(404, { error: { code: 'not_found', message: 'no' } }) });
  await assert.rejects(notFound.account(), (err) => err.status === 404);
  assert.equal(refreshToken.count, 0);
  // The App Proxy: no token, no refresh, no authorization header.
  const { calls, fetch } = backend([null]);
  assert.deepEqual(await createStorefrontClient({ base: '/apps/loyalty', fetch }).account(), { url: '/apps/loyalty/account', bearer: null });
  const plain = backend(['new']);
  await assert.rejects(createStorefrontClient({ base: '/s', customerToken: 'old', fetch: plain.fetch }).account(), (err) => err.status === 401);
  assert.equal(plain.calls.length, 1);
  assert.equal(calls.length, 1);
});

// An element as far as tokenRefresher reads it: attributes.
function element(attrs) {
  const a = new Map(Object.entries(attrs));
  return { getAttribute: (n) => (a.has(n) ? a.get(n) : null), setAttribute: (n, v) => a.set(n, String(v)), attrs: a };
}

test('tokenRefresher: POSTs the nonce to data-token-url, sets customer-token; fails on a refusal', async () => {
  assert.equal(tokenRefresher(element({ 'customer-token': 't' })), undefined);
  const el = element({ 'customer-token': 'old', 'data-token-url': '/wp-admin/admin-ajax.php?action=loyalty_rewards_token', 'data-token-nonce': 'abc123' });
  const posts = [];
  const ajax = async (url, init) => {
    posts.push({ url, ...init });
    const nonce = new URLSearchParams(init.body).get('_ajax_nonce');
    // WordPress: check_ajax_referer dies with -1 and 403 on a bad nonce.
    return nonce === 'abc123' ? json(200, { success: true, data: { token: 'fresh' } }) : new Response('-1', { status: 403 });
  };
  assert.equal(await tokenRefresher(el, { fetch: ajax })(), 'fresh');
  assert.equal(el.getAttribute('customer-token'), 'fresh');
  assert.deepEqual(posts, [{
    url: '/wp-admin/admin-ajax.php?action=loyalty_rewards_token', method: 'POST', credentials: 'same-origin',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '_ajax_nonce=abc123',
  }]);

  el.setAttribute('data-token-nonce', 'stale');
  await assert.rejects(tokenRefresher(el, { fetch: ajax })(), /token refresh failed \(HTTP 403\)/);
  assert.equal(el.getAttribute('customer-token'), 'fresh');
  const notConfigured = async () => json(503, { success: false, data: { code: 'not_configured' } });
  await assert.rejects(tokenRefresher(el, { fetch: notConfigured })(), /HTTP 503/);

  // Wired into a client: the 401's retry carries the token the ajax action gave.
  el.setAttribute('data-token-nonce', 'abc123');
  const { calls, fetch } = backend(['fresh']);
  const client = createStorefrontClient({ base: '/storefront', customerToken: 'old', refreshToken: tokenRefresher(el, { fetch: ajax }), fetch });
  assert.equal((await client.account()).bearer, 'fresh');
  assert.deepEqual(calls.map((c) => c.bearer), ['old', 'fresh']);
});
