// Push to the shop's mobile apps: devices registered through the customer-scoped routes,
// delivered from the outbox to local stand-ins of FCM (HTTP v1 + Google's OAuth token
// endpoint, over HTTP) and APNs (HTTP/2 over TLS with a certificate made for the test),
// with the deep link to the discounts, per-device locales, invalid tokens dropped, a
// throttled device retried and delivered once across a dispatcher restart, and opt-outs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { generateKeyPairSync, createECDH, randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import webpush from 'web-push';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { errorHandler, httpError } from '../../js/server/errors.js';
import { deviceRoutes } from '../../js/server/device-routes.js';
import {
  createDispatcher, notifyStore, deviceStore, pushConfig, pushProviders, fcmProvider, apnsProvider, webPushProvider, fcmError, apnsError, MAX_DEVICES, notifyConfig, providersFrom,
} from '../../js/notify/index.js';
import { testDatabases, DATABASE_URL } from './databases.js';
import { fcmStandin, FCM_SCOPE, GOOGLE_TOKEN_AUD } from './standins/fcm.js';
import { apnsStandin } from './standins/apns.js';

const program = JSON.parse(readFileSync(new URL('../../presets/seed.json', import.meta.url), 'utf8'));
const P = program.id;
const SECRET = 'test-secret';
const PUBLIC_URL = 'https://shop.example';
const quiet = { info() {}, warn() {}, error() {} };
const fast = { maxAgeMs: 0, maxAttempts: 5, leaseMs: 30000, batch: 20, backoffMs: 1000, publicUrl: PUBLIC_URL, discountsPath: '/account/discounts' };

// --- keys: a Firebase service account (RSA) and an APNs auth key (.p8, EC P-256) --------
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SERVICE_ACCOUNT = {
  type: 'service_account', project_id: 'shop-app-test', private_key_id: 'a1b2c3',
  private_key: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  client_email: 'loyalty-push@shop-app-test.iam.gserviceaccount.com', token_uri: GOOGLE_TOKEN_AUD,
};
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const P8 = ec.privateKey.export({ type: 'pkcs8', format: 'pem' });
const APNS = { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleId: 'com.shop.loyalty' };
const SETTINGS = {
  fcm_service_account: JSON.stringify(SERVICE_ACCOUNT),
  apns_key_id: APNS.keyId, apns_team_id: APNS.teamId, apns_bundle_id: APNS.bundleId, apns_key: P8, apns_env: 'sandbox',
};

// --- device tokens -----------------------------------------------------------------------
const fcmToken = (name) => `${name}:APA91b${'F'.repeat(140)}`;
const apnsToken = (digit) => digit.repeat(64);
const FCM_OK = fcmToken('kariPixel');
const FCM_GONE = fcmToken('kariOldPhone');
const FCM_OLA = fcmToken('olaPixel');
const APNS_OK = apnsToken('a');
const APNS_SLOW = apnsToken('b');
const APNS_BAD = apnsToken('c');

// --- events: a 500 EUR order is 5000 points, which the seed program turns into a coupon --
const reward = (id, customer) => ({
  id, type: 'order.placed', at: '2026-01-10T10:00:00+01:00', customer,
  order: { id: `o-${id}`, currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '500.00', discount: '0.00' }], shipping: '0.00', tax: '0.00', taxes_included: true, coupon_codes: [] },
});
const couponOf = (result) => result.effects.find((e) => e.type === 'coupon.issued').coupon.code;

const db = testDatabases('push');
const open = {
  pglite: async () => openPgliteStore({ dataDir: await db.pgliteDir() }),
  postgres: async () => openPostgresStore({ connectionString: await db.postgresUrl(), max: 4 }),
};
async function withStore(backend, fn) {
  const store = await open[backend]();
  const loyalty = createLoyalty({ program, store, secret: SECRET });
  try {
    await fn({ store, loyalty, ns: notifyStore(store.db), ds: deviceStore(store.db) });
  } finally {
    await loyalty.close();
  }
}

/** The storefront as the lead mounts it: our error shape, strict JSON schemas, a prefix, and a customerOf. */
function storefront(store) {
  const app = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } } });
  app.setErrorHandler(errorHandler);
  const customerOf = (request) => {
    const c = request.headers['x-test-customer'];
    if (c === 'throw-plain') throw new Error('bad signature');
    if (!c) throw httpError(401, 'unauthorized', '', 'sign in first');
    return { shop: P, customer: c };
  };
  app.register(deviceRoutes, { prefix: '/storefront', store, customerOf });
  return app;
}
const as = (customer) => ({ 'x-test-customer': customer });

async function standins(fcmTokens = {}, apnsTokens = {}) {
  const fcm = await fcmStandin({ projectId: SERVICE_ACCOUNT.project_id, clientEmail: SERVICE_ACCOUNT.client_email, publicKey: rsa.publicKey, tokens: fcmTokens });
  const apns = await apnsStandin({ ...APNS, publicKey: ec.publicKey, tokens: apnsTokens });
  const env = { FCM_TOKEN_URI: fcm.tokenUri, FCM_ENDPOINT: fcm.endpoint, APNS_ENDPOINT: apns.origin };
  const providers = () => pushProviders(pushConfig(SETTINGS, env), { apnsCa: apns.ca });
  return { fcm, apns, providers, close: async () => { await fcm.close(); await apns.close(); } };
}
const closeAll = async (providers) => { for (const p of Object.values(providers)) await p.close?.(); };

// --- settings ----------------------------------------------------------------------------
test('pushConfig: shop settings, env fallbacks (inline or a file path), never half of each, errors name the setting', () => {
  assert.deepEqual(pushConfig({}, {}), { fcm: null, apns: null });

  const fromSettings = pushConfig(SETTINGS, {});
  assert.equal(fromSettings.fcm.projectId, 'shop-app-test', 'the project id defaults to the service account’s');
  assert.equal(fromSettings.fcm.serviceAccount.client_email, SERVICE_ACCOUNT.client_email);
  assert.equal(fromSettings.fcm.tokenUri, GOOGLE_TOKEN_AUD);
  assert.equal(fromSettings.fcm.endpoint, 'https://fcm.googleapis.com');
  assert.deepEqual([fromSettings.apns.keyId, fromSettings.apns.teamId, fromSettings.apns.bundleId, fromSettings.apns.production], [APNS.keyId, APNS.teamId, APNS.bundleId, false]);

  const dir = mkdtempSync(join(tmpdir(), 'push-config-'));
  try {
    writeFileSync(join(dir, 'sa.json'), JSON.stringify(SERVICE_ACCOUNT));
    writeFileSync(join(dir, 'AuthKey.p8'), P8);
    const env = {
      FCM_PROJECT_ID: 'other-project', FCM_SERVICE_ACCOUNT: join(dir, 'sa.json'),
      APNS_KEY_ID: APNS.keyId, APNS_TEAM_ID: APNS.teamId, APNS_BUNDLE_ID: APNS.bundleId, APNS_KEY: join(dir, 'AuthKey.p8'),
    };
    const fromEnv = pushConfig({}, env);
    assert.equal(fromEnv.fcm.projectId, 'other-project');
    assert.equal(fromEnv.fcm.serviceAccount.private_key, SERVICE_ACCOUNT.private_key, 'read from the file');
    assert.equal(fromEnv.apns.key, P8);
    assert.equal(fromEnv.apns.production, true, 'production unless APNS_ENV=sandbox');
    assert.equal(pushConfig({}, { ...env, FCM_SERVICE_ACCOUNT: JSON.stringify(SERVICE_ACCOUNT), APNS_KEY: P8 }).apns.key, P8, 'inline values');
    // notifyConfig carries the env's push settings for the single-shop server, and providersFrom makes the providers.
    const providers = providersFrom(notifyConfig({ ...env, NOTIFY_SECONDS: '0' }), { log: quiet });
    assert.deepEqual(['fcm', 'apns'].map((k) => providers[k]?.platform), ['fcm', 'apns']);

    // A shop that configures APNs in its settings gets none of the env's APNs values.
    assert.throws(() => pushConfig({ apns_key_id: APNS.keyId }, env), (err) => err.code === 'config' && err.path === 'apns_team_id');
    // Settings for FCM do not disturb APNs from env (another platform).
    assert.equal(pushConfig({ fcm_service_account: SERVICE_ACCOUNT }, env).apns.bundleId, APNS.bundleId);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = (settings, path, message) => assert.throws(() => pushConfig(settings, {}), (err) => {
    assert.equal(err.code, 'config');
    assert.equal(err.path, path);
    if (message) assert.match(err.message, message);
    return true;
  });
  bad({ fcm_service_account: '{not json' }, 'fcm_service_account', /not valid JSON/);
  bad({ fcm_service_account: '/etc/hostname' }, 'fcm_service_account', /not valid JSON/); // a shop's setting is never read as a path
  bad({ ...SETTINGS, apns_key: '/etc/hostname' }, 'apns_key', /not a PEM/);
  bad({ fcm_service_account: { ...SERVICE_ACCOUNT, private_key: 'nope' } }, 'fcm_service_account.private_key');
  bad({ fcm_service_account: { ...SERVICE_ACCOUNT, project_id: undefined } }, 'fcm_project_id');
  bad({ fcm_project_id: 'shop-app-test' }, 'fcm_service_account', /required/);
  bad({ ...SETTINGS, apns_env: 'staging' }, 'apns_env', /sandbox or production/);
  bad({ ...SETTINGS, apns_key_id: 'short' }, 'apns_key_id');
  bad({ ...SETTINGS, apns_key: SERVICE_ACCOUNT.private_key }, 'apns_key', /EC P-256/);
});

// --- how the push services' answers are read -------------------------------------------
test('errors: which answers drop the token, which are retried, which wait for the shop', () => {
  const statusName = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 503: 'UNAVAILABLE' };
  const fcm = (status, errorCode, message = '', extra = []) => fcmError(status, { error: { code: status, message, status: statusName[status], details: [...(errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : []), ...extra] } }, new Headers({ 'retry-after': '7' }));
  const kind = (e) => (e.gone ? 'drop' : e.permanent ? 'permanent' : 'retry');
  assert.equal(kind(fcm(404, 'UNREGISTERED')), 'drop');
  assert.equal(kind(fcm(403, 'SENDER_ID_MISMATCH')), 'drop');
  assert.equal(kind(fcm(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token')), 'drop');
  assert.equal(kind(fcm(400, null, 'Invalid value', [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'message.token' }] }])), 'drop', 'a field violation on message.token');
  assert.equal(kind(fcm(400, null, 'Invalid value', [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'message.android.ttl' }] }])), 'permanent');
  assert.equal(kind(fcm(400, 'INVALID_ARGUMENT', 'Message is too big')), 'permanent', 'a message error keeps the token');
  assert.equal(kind(fcm(401, 'THIRD_PARTY_AUTH_ERROR')), 'retry');
  const quota = fcm(429, 'QUOTA_EXCEEDED');
  assert.deepEqual([kind(quota), quota.code, quota.retryAfterMs], ['retry', 'QUOTA_EXCEEDED', 7000]);
  assert.equal(kind(fcm(503, 'UNAVAILABLE')), 'retry');
  assert.equal(kind(apnsError(410, 'Unregistered')), 'drop');
  assert.equal(kind(apnsError(400, 'BadDeviceToken')), 'drop');
  assert.equal(kind(apnsError(400, 'DeviceTokenNotForTopic')), 'drop');
  assert.equal(kind(apnsError(429, 'TooManyRequests')), 'retry');
  assert.equal(kind(apnsError(503, 'ServiceUnavailable')), 'retry');
  assert.equal(kind(apnsError(403, 'ExpiredProviderToken')), 'retry');
  assert.equal(kind(apnsError(403, 'InvalidProviderToken')), 'permanent');
  assert.equal(kind(apnsError(400, 'BadTopic')), 'permanent');
});

// --- the stand-ins are as strict as the real services --------------------------------------
test('FCM stand-in: unknown fields and non-string data are 400 INVALID_ARGUMENT; no bearer is 401; a foreign key gets invalid_grant', async () => {
  const s = await standins();
  try {
    const provider = fcmProvider({ projectId: 'shop-app-test', serviceAccount: SERVICE_ACCOUNT, tokenUri: s.fcm.tokenUri, endpoint: s.fcm.endpoint });
    const sent = await provider.send({ device: { token: FCM_OK }, title: 'Hi', body: 'There', data: { route: 'discounts', code: 'X', n: 1 } }, { key: 'demo/k1' });
    assert.match(sent.id, /^projects\/shop-app-test\/messages\/0:/);
    assert.equal(s.fcm.accepted[0].message.data.n, '1', 'data values are sent as strings');
    const { claims } = s.fcm.tokenRequests[0];
    assert.deepEqual([claims.iss, claims.aud, claims.scope], [SERVICE_ACCOUNT.client_email, GOOGLE_TOKEN_AUD, FCM_SCOPE]);
    assert.equal(claims.exp - claims.iat, 3600);
    const bearer = s.fcm.requests.find((r) => r.path.endsWith('messages:send')).headers.authorization;
    assert.match(bearer, /^Bearer ya29\.standin-/);

    const post = (body, auth = bearer) => fetch(`${s.fcm.endpoint}/v1/projects/shop-app-test/messages:send`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let res = await post({ message: { token: FCM_OK, notificaton: { title: 'typo' } } });
    assert.equal(res.status, 400);
    let err = (await res.json()).error;
    assert.equal(err.status, 'INVALID_ARGUMENT');
    assert.match(err.message, /Unknown name "notificaton" at 'message'/);
    assert.equal(err.details[0]['@type'], 'type.googleapis.com/google.rpc.BadRequest');
    res = await post({ message: { token: FCM_OK, android: { notification: { clickAction: 'x' } } } });
    assert.match((await res.json()).error.message, /Unknown name "clickAction" at 'message.android.notification'/, 'camelCase is not the REST field name');
    res = await post({ message: { token: FCM_OK, data: { code: 12 } } });
    assert.equal((await res.json()).error.details[0].fieldViolations[0].field, 'message.data[0].value');
    res = await post({ message: { token: FCM_OK, android: { ttl: 3600 } } });
    assert.equal(res.status, 400, 'a Duration is a string like "3600s"');
    res = await post({ message: { token: FCM_OK, topic: 'news' } });
    assert.equal(res.status, 400, 'one target only');
    res = await post({ message: { token: FCM_OK } }, 'Bearer made-up');
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.status, 'UNAUTHENTICATED');

    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const forged = fcmProvider({ projectId: 'shop-app-test', serviceAccount: { ...SERVICE_ACCOUNT, private_key: other }, tokenUri: s.fcm.tokenUri, endpoint: s.fcm.endpoint });
    await assert.rejects(forged.send({ device: { token: FCM_OK }, title: 'a', body: 'b', data: {} }, { key: 'k' }), (e) => {
      assert.match(e.message, /invalid_grant: Invalid JWT Signature/);
      assert.equal(e.permanent, true, 'a refused grant waits for the shop to fix its settings');
      return true;
    });
    assert.equal(s.fcm.accepted.length, 1);
  } finally {
    await s.close();
  }
});

test('APNs stand-in: HTTP/2 with TLS; the ES256 provider token is checked (kid, iss, iat, signature); an expired one is refreshed', async () => {
  const s = await standins();
  try {
    const ok = apnsProvider({ ...APNS, key: P8, endpoint: s.apns.origin, ca: s.apns.ca });
    const sent = await ok.send({ device: { token: APNS_OK }, title: 'Hi', body: 'There', data: { route: 'discounts', code: 'X' } }, { key: 'demo/k1' });
    assert.match(sent.id, /^[0-9a-f-]{36}$/);
    const [got] = s.apns.accepted;
    assert.equal(got.headers[':method'], 'POST');
    assert.equal(got.headers[':path'], `/3/device/${APNS_OK}`);
    assert.deepEqual([got.headers['apns-topic'], got.headers['apns-push-type'], got.headers['apns-priority']], [APNS.bundleId, 'alert', '10']);
    assert.ok(Buffer.byteLength(got.headers['apns-collapse-id']) <= 64);
    assert.deepEqual(got.payload, { aps: { alert: { title: 'Hi', body: 'There' }, sound: 'default', 'thread-id': 'loyalty' }, route: 'discounts', code: 'X' });
    const [h] = got.headers.authorization.slice('bearer '.length).split('.');
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'ES256', kid: APNS.keyId });
    await ok.close();

    const wrongKid = apnsProvider({ ...APNS, keyId: 'ZZZ999ZZZZ', key: P8, endpoint: s.apns.origin, ca: s.apns.ca });
    await assert.rejects(wrongKid.send({ device: { token: APNS_OK }, title: 'a', body: 'b', data: {} }, { key: 'k' }), (e) => e.code === 'InvalidProviderToken' && e.permanent === true && !e.gone);
    await wrongKid.close();

    // A provider token made two hours ago (a clock gone wrong) is refused as expired: not
    // permanent, and the next send signs a fresh one.
    let clock = Date.now() - 2 * 3600 * 1000;
    const stale = apnsProvider({ ...APNS, key: P8, endpoint: s.apns.origin, ca: s.apns.ca, now: () => clock });
    await assert.rejects(stale.send({ device: { token: APNS_OK }, title: 'a', body: 'b', data: {} }, { key: 'k2' }), (e) => e.code === 'ExpiredProviderToken' && !e.permanent);
    clock = Date.now();
    await stale.send({ device: { token: APNS_OK }, title: 'a', body: 'b', data: {} }, { key: 'k2' });
    assert.equal(s.apns.accepted.length, 2);
    await stale.close();

    const notTrusted = apnsProvider({ ...APNS, key: P8, endpoint: s.apns.origin });
    await assert.rejects(notTrusted.send({ device: { token: APNS_OK }, title: 'a', body: 'b', data: {} }, { key: 'k3' }), /self[- ]signed|certificate/i, 'TLS is verified');
    await notTrusted.close();
  } finally {
    await s.close();
  }
});

// The store-backed tests, on PGlite always and on PostgreSQL when DATABASE_URL is set (as in CI).
function suite(backend) {
  // --- device routes -------------------------------------------------------------------------
  test('device routes: customer-scoped register and remove, JSON schemas, a device moves with its sign-in', () =>
    withStore(backend, async ({ store, ds }) => {
      const app = storefront(store);
      try {
        const post = (customer, payload) => app.inject({ method: 'POST', url: '/storefront/devices', headers: customer ? as(customer) : {}, payload });
        let res = await post(null, { platform: 'fcm', token: FCM_OK });
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().error.code, 'unauthorized');
        res = await post('throw-plain', { platform: 'fcm', token: FCM_OK });
        assert.equal(res.statusCode, 401, 'a customerOf failure without a status is a 401, not a 500');
        res = await post(null, { platform: 'nope' });
        assert.equal(res.statusCode, 401, 'an anonymous caller learns nothing about the body');

        res = await post('kari', { platform: 'huawei', token: FCM_OK });
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().error.path, 'platform');
        res = await post('kari', { platform: 'apns', token: FCM_OK });
        assert.equal(res.statusCode, 400, 'an APNs token is hex');
        assert.equal(res.json().error.path, 'token');
        res = await post('kari', { platform: 'fcm', token: 'short' });
        assert.equal(res.statusCode, 400);
        res = await post('kari', { platform: 'fcm', token: FCM_OK, badge: 1 });
        assert.equal(res.statusCode, 400);
        assert.match(res.json().error.message, /unknown field/);
        res = await post('kari', { platform: 'fcm', token: FCM_OK, locale: 'not a locale' });
        assert.equal(res.statusCode, 400);

        res = await post('kari', { platform: 'fcm', token: FCM_OK, locale: 'nb_NO', app: 'com.shop.loyalty' });
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual([res.json().device.platform, res.json().device.token, res.json().device.locale, res.json().device.app], ['fcm', FCM_OK, 'nb-no', 'com.shop.loyalty']);
        res = await post('kari', { platform: 'apns', token: APNS_OK.toUpperCase() });
        assert.equal(res.json().device.token, APNS_OK, 'APNs hex is stored in one case');
        res = await post('kari', { platform: 'apns', token: APNS_OK, locale: 'sv' });
        assert.equal(res.statusCode, 201);
        assert.deepEqual((await ds.devices(P, 'kari')).map((d) => [d.platform, d.token, d.locale]), [['fcm', FCM_OK, 'nb-no'], ['apns', APNS_OK, 'sv']], 're-registering updates, never duplicates');

        // The phone signs in as Ola: its token is Ola's now, not both customers'.
        res = await post('ola', { platform: 'fcm', token: FCM_OK });
        assert.equal(res.statusCode, 201);
        assert.deepEqual((await ds.devices(P, 'kari')).map((d) => d.token), [APNS_OK]);
        assert.deepEqual((await ds.devices(P, 'ola')).map((d) => d.token), [FCM_OK]);

        res = await app.inject({ method: 'DELETE', url: `/storefront/devices/${FCM_OK}`, headers: as('kari') });
        assert.deepEqual(res.json(), { deleted: false }, "kari cannot remove ola's device");
        assert.equal((await ds.devices(P, 'ola')).length, 1);
        res = await app.inject({ method: 'DELETE', url: `/storefront/devices/${APNS_OK.toUpperCase()}`, headers: as('kari') });
        assert.deepEqual(res.json(), { deleted: true });
        res = await app.inject({ method: 'DELETE', url: '/storefront/devices/not%20a%20token', headers: as('kari') });
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().error.code, 'invalid_request');
        res = await app.inject({ method: 'DELETE', url: `/storefront/devices/${FCM_OK}`, headers: {} });
        assert.equal(res.statusCode, 401);
        assert.equal((await ds.devices(P, 'ola')).length, 1);

        for (let i = 0; i < MAX_DEVICES + 3; i++) await post('many', { platform: 'fcm', token: fcmToken(`install${String(i).padStart(2, '0')}`) });
        const many = await ds.devices(P, 'many');
        assert.equal(many.length, MAX_DEVICES, 'a customer keeps the most recent registrations');
        assert.ok(!many.some((d) => d.token === fcmToken('install00')), 'the oldest went');
      } finally {
        await app.close();
      }
    }));

  // --- end to end ------------------------------------------------------------------------------
  test('a reward earned reaches each registered device once, with the deep link and the code; invalid tokens are dropped; a throttled push is retried across a restart and delivered once; an opted-out customer gets none', { timeout: 60000 }, () =>
    withStore(backend, async ({ store, loyalty, ns, ds }) => {
      const s = await standins({ [FCM_GONE]: 'unregistered' }, { [APNS_SLOW]: { throttle: 1 }, [APNS_BAD]: 'bad' });
      const app = storefront(store);
      let providers = s.providers();
      try {
        // Devices registered by the apps, through the storefront routes.
        const register = async (customer, payload) => {
          const res = await app.inject({ method: 'POST', url: '/storefront/devices', headers: as(customer), payload });
          assert.equal(res.statusCode, 201, res.body);
        };
        await register('kari', { platform: 'fcm', token: FCM_OK, locale: 'nb-NO', app: 'com.shop.loyalty' });
        await register('kari', { platform: 'fcm', token: FCM_GONE, locale: 'en' });
        await register('kari', { platform: 'apns', token: APNS_OK, locale: 'sv' });
        await register('kari', { platform: 'apns', token: APNS_SLOW }); // no app locale: the customer's (es)
        await register('kari', { platform: 'apns', token: APNS_BAD, locale: 'en' });
        await register('ola', { platform: 'fcm', token: FCM_OLA, locale: 'nb' });
        await ns.putContact(P, 'kari', { locale: 'es' });
        await ns.setOptOut(P, 'ola', 'push', true);

        const code = couponOf(await loyalty.handle(reward('e-kari', 'kari')));
        await loyalty.handle(reward('e-ola', 'ola'));
        let clock = new Date('2030-01-01T00:00:00Z').getTime();
        const dispatcher = () => createDispatcher({ store, program: P, providers, config: fast, log: quiet, now: () => new Date(clock), jitter: 0 });

        const first = await dispatcher().drain();
        assert.equal(first.retry, 1, "kari's notification waits for the throttled device");
        assert.equal(first.dead, 0);

        // FCM: one message to the live token, in the app's locale (nb), with the deep link.
        assert.deepEqual(s.fcm.accepted.map((a) => a.token), [FCM_OK]);
        const { message } = s.fcm.accepted[0];
        assert.equal(message.notification.title, 'Belønningen din er klar: 10% off your next order');
        assert.ok(message.notification.body.includes(code), 'the code is in the text');
        assert.deepEqual({ route: message.data.route, code: message.data.code, url: message.data.url, trigger: message.data.trigger },
          { route: 'discounts', code, url: `${PUBLIC_URL}/account/discounts`, trigger: 'reward_earned' });
        assert.equal(message.android.collapse_key, message.android.notification.tag);
        assert.equal(message.apns.headers['apns-collapse-id'], message.android.collapse_key);
        assert.equal(s.fcm.tokenRequests.length, 1, 'one OAuth token for both sends');

        // APNs: one push to the live device, in its locale (sv), the deep link beside aps.
        assert.deepEqual(s.apns.accepted.map((a) => a.token), [APNS_OK]);
        const apnsPush = s.apns.accepted[0];
        assert.equal(apnsPush.payload.aps.alert.title, 'Din belöning är här: 10% off your next order');
        assert.ok(apnsPush.payload.aps.alert.body.includes(code));
        assert.deepEqual([apnsPush.payload.route, apnsPush.payload.code], ['discounts', code]);
        assert.equal(apnsPush.headers['apns-topic'], APNS.bundleId);
        assert.equal(apnsPush.headers['apns-push-type'], 'alert');
        assert.equal(apnsPush.headers['apns-collapse-id'], message.android.collapse_key, 'one collapse id per notification, on every platform');

        // The tokens the services reported invalid are gone; the throttled one is kept.
        assert.deepEqual((await ds.devices(P, 'kari')).map((d) => `${d.platform}:${d.token.slice(0, 10)}`).sort(),
          [`apns:${APNS_OK.slice(0, 10)}`, `apns:${APNS_SLOW.slice(0, 10)}`, `fcm:${FCM_OK.slice(0, 10)}`]);
        assert.equal(s.apns.requests.filter((r) => r.headers[':path'].endsWith(APNS_SLOW)).length, 1, 'the throttled device was tried once');

        // Ola opted out of push: nothing to the device, and the reason is on record.
        assert.ok(!s.fcm.requests.some((r) => r.body.includes(FCM_OLA)), 'no request for the opted-out customer');
        const rowOf = async (key) => (await store.db.query('SELECT id, status FROM outbox WHERE program = $1 AND key = $2', [P, key])).rows[0];
        const ola = await rowOf('e-ola:reward_earned:0');
        assert.equal(ola.status, 'delivered');
        assert.deepEqual((await ns.deliveries(Number(ola.id))).filter((d) => d.channel === 'push').map((d) => [d.status, d.reason]), [['skipped', 'opted_out']]);

        // A restart: the first dispatcher and its connections are gone; a new one with new
        // providers (a new OAuth token cache, a new HTTP/2 connection) picks the row up after
        // the backoff and sends only what was not sent.
        await closeAll(providers);
        providers = s.providers();
        assert.equal((await dispatcher().runOnce()).claimed, 0, 'not due before the backoff');
        clock += fast.backoffMs;
        const second = await dispatcher().drain();
        assert.equal(second.delivered, 1);
        assert.deepEqual(s.apns.accepted.map((a) => a.token), [APNS_OK, APNS_SLOW]);
        assert.equal(s.apns.accepted[1].payload.aps.alert.title, 'Tu recompensa ya está aquí: 10% off your next order', "the customer's locale for a device without one");
        assert.equal(s.apns.accepted[1].payload.code, code);
        assert.deepEqual(s.fcm.accepted.map((a) => a.token), [FCM_OK], 'nothing sent twice');
        assert.equal((await dispatcher().drain()).claimed, 0);

        const kari = await rowOf('e-kari:reward_earned:0');
        assert.equal(kari.status, 'delivered');
        const records = (await ns.deliveries(Number(kari.id))).filter((d) => d.channel === 'push').map((d) => [d.target.slice(0, 14), d.status, d.attempts]).sort();
        assert.deepEqual(records, [
          [`apns:${APNS_OK}`.slice(0, 14), 'sent', 1],
          [`apns:${APNS_SLOW}`.slice(0, 14), 'sent', 2],
          [`apns:${APNS_BAD}`.slice(0, 14), 'gone', 1],
          [`fcm:${FCM_OK}`.slice(0, 14), 'sent', 1],
          [`fcm:${FCM_GONE}`.slice(0, 14), 'gone', 1],
        ].sort());
      } finally {
        await closeAll(providers);
        await app.close();
        await s.close();
      }
    }));

  test('one push channel: Web Push subscriptions and app devices of a customer each get the notification; no target at all is recorded as such', () =>
    withStore(backend, async ({ store, loyalty, ns, ds }) => {
      const s = await standins();
      const received = [];
      const webPushService = createServer((req, res) => { req.resume(); req.on('end', () => { received.push(req.url); res.writeHead(201).end(); }); });
      webPushService.listen(0, '127.0.0.1');
      await once(webPushService, 'listening');
      const vapid = webpush.generateVAPIDKeys();
      const providers = { ...s.providers(), push: webPushProvider({ ...vapid, subject: 'mailto:ops@shop.example' }) };
      try {
        const browser = createECDH('prime256v1');
        browser.generateKeys();
        await ns.addSubscription(P, 'both', {
          endpoint: `http://127.0.0.1:${webPushService.address().port}/wpush/1`,
          keys: { p256dh: browser.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
        });
        await ds.addDevice(P, 'both', { platform: 'fcm', token: FCM_OK, locale: 'en' });
        await ds.addDevice(P, 'both', { platform: 'apns', token: APNS_OK, locale: 'es' });
        const code = couponOf(await loyalty.handle(reward('e-both', 'both')));
        await loyalty.handle(reward('e-none', 'none'));
        const summary = await createDispatcher({ store, program: P, providers, config: fast, log: quiet }).drain();
        assert.equal(summary.retry + summary.dead, 0);

        assert.deepEqual(received, ['/wpush/1'], 'the browser subscription');
        assert.deepEqual(s.fcm.accepted.map((a) => [a.token, a.message.notification.title]), [[FCM_OK, 'Your reward is here: 10% off your next order']]);
        assert.deepEqual(s.apns.accepted.map((a) => [a.token, a.payload.code]), [[APNS_OK, code]]);
        const row = (await store.db.query(`SELECT id FROM outbox WHERE key = 'e-both:reward_earned:0'`)).rows[0];
        assert.deepEqual((await ns.deliveries(Number(row.id))).filter((d) => d.channel === 'push').map((d) => [d.target.split(':')[0], d.status]).sort(),
          [['apns', 'sent'], ['fcm', 'sent'], ['http', 'sent']]);

        const none = (await store.db.query(`SELECT id FROM outbox WHERE key = 'e-none:reward_earned:0'`)).rows[0];
        assert.deepEqual((await ns.deliveries(Number(none.id))).filter((d) => d.channel === 'push').map((d) => [d.status, d.reason]), [['skipped', 'no_subscription']]);
      } finally {
        await closeAll(providers);
        await s.close();
        await new Promise((r) => { webPushService.closeAllConnections?.(); webPushService.close(r); });
      }
    }));
}

describe('pglite', () => suite('pglite'));
if (!DATABASE_URL && process.env.CI) {
  test('postgres', () => assert.fail('DATABASE_URL is not set: the PostgreSQL suite cannot run in CI'));
} else {
  describe('postgres', { skip: DATABASE_URL ? false : 'DATABASE_URL is not set' }, () => suite('postgres'));
}
