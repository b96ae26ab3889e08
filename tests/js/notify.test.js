// Notifications end to end: the engine's notify effects, written to the outbox in the
// ledger's transaction, rendered from Liquid templates in the customer's locale and
// delivered to a real SMTP server, a local Web Push service and a webhook receiver, with
// retries, dead letters, opt-outs, and exactly-once delivery across a dispatcher crash.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { createECDH, createHmac, createDecipheriv, createPublicKey, verify, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import webpush from 'web-push';
import { createLoyalty } from '../../js/loyalty.js';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { buildApp } from '../../js/server/app.js';
import { serve } from '../../js/server/serve.js';
import { serverConfig } from '../../js/server/config.js';
import {
  createDispatcher, notifyStore, smtpProvider, webPushProvider, webhookProvider, signWebhook, messageId,
  render, TRIGGERS, FIELDS, LOCALES, shippedTemplate, sampleData, localeChain, backoff,
} from '../../js/notify/index.js';
import { createOperator, login, auditLog } from '../../js/server/operators.js';
import { testDatabases, DATABASE_URL } from './databases.js';
import { smtpSink } from './smtp-sink.js';

const programPath = new URL('../../presets/seed.json', import.meta.url).pathname;
const program = JSON.parse(readFileSync(programPath, 'utf8'));
const P = program.id;
const SECRET = 'test-secret';
const TOKEN = 'test-token';
const PUBLIC_URL = 'https://shop.example';
const mainJs = new URL('../../js/notify/main.js', import.meta.url).pathname;

// --- events: a 500 EUR order is 5000 points, which the seed program turns into a coupon --
const reward = (id, customer, at = '2026-01-10T10:00:00+01:00') => ({
  id, type: 'order.placed', at, customer,
  order: { id: `o-${id}`, currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '500.00', discount: '0.00' }], shipping: '0.00', tax: '0.00', taxes_included: true, coupon_codes: [] },
});
const couponOf = (result) => result.effects.find((e) => e.type === 'coupon.issued').coupon.code;

// --- backends ----------------------------------------------------------------------------
const db = testDatabases('notify');

/** {store, open(), env, cleanup}: env locates the same database for a child process. */
const backends = {
  async pglite() {
    const dir = await db.pgliteDir();
    return { open: () => openPgliteStore({ dataDir: dir }), env: { LOYALTY_DATA: dir } };
  },
  async postgres() {
    const url = await db.postgresUrl();
    return { open: () => openPostgresStore({ connectionString: url, max: 4 }), env: { DATABASE_URL: url } };
  },
};

async function withStore(backend, fn) {
  const b = await backends[backend]();
  const store = await b.open();
  const loyalty = createLoyalty({ program, store, secret: SECRET });
  let closed = false;
  const close = async () => { if (!closed) { closed = true; await loyalty.close(); } };
  try {
    await fn({ store, loyalty, ns: notifyStore(store.db), env: b.env, reopen: b.open, close });
  } finally {
    await close();
  }
}

/** An HTTP server keeping every request: {method, url, headers, body}. */
async function httpSink(respond = () => 201) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(r);
      res.writeHead(respond(r)).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { origin: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

const fast = { maxAgeMs: 0, maxAttempts: 3, leaseMs: 30000, batch: 20, backoffMs: 1000, publicUrl: PUBLIC_URL, discountsPath: '/account/discounts' };
const quiet = { info() {}, warn() {}, error() {} };
/** A signed-in operator of the program's shop: the bearer header of their session. */
async function signedIn(store, name, role) {
  await createOperator(store.db, P, { name, role, password: `${name}-password-1` });
  return { authorization: `Bearer ${(await login(store.db, P, name, `${name}-password-1`)).token}` };
}
/** The shop's audit rows, oldest first, as [operator, action, target, details]. */
const auditRows = async (store) => (await auditLog(store.db, P, { limit: 500 })).entries.reverse().map((e) => [e.operator, e.action, e.target, e.details]);
const outboxRows = async (store) => (await store.db.query(`SELECT id, key, type, status, attempts FROM outbox WHERE program = $1 ORDER BY id`, [P])).rows;

// --- templates (no store) ----------------------------------------------------------------
test('every trigger has a shipped template on every channel in every locale, and each renders', async () => {
  for (const trigger of TRIGGERS) {
    for (const channel of Object.keys(FIELDS)) {
      for (const locale of LOCALES) {
        const t = shippedTemplate(trigger, channel, locale);
        assert.ok(t, `${trigger}/${channel}/${locale}`);
        const out = await render(channel, t, sampleData(trigger));
        for (const f of FIELDS[channel]) assert.ok(out[f]?.trim(), `${trigger}/${channel}/${locale}.${f} renders to something`);
        assert.doesNotMatch(JSON.stringify(out), /\{\{|\{%/, 'no Liquid left over');
      }
    }
  }
  const nb = await render('email', shippedTemplate('reward_earned', 'email', 'nb'), { ...sampleData('reward_earned'), name: '<b>Kari</b>' });
  assert.match(nb.html, /LOY-7K2M-QX9D/);
  assert.match(nb.html, /&lt;b&gt;Kari&lt;\/b&gt;/);
  assert.match(nb.text, /Hei <b>Kari<\/b>/, 'plain text is not HTML-escaped');
  assert.deepEqual(localeChain('nb-NO'), ['nb-no', 'nb', 'en']);
  assert.deepEqual(localeChain('no'), ['no', 'nb', 'en']);
  assert.deepEqual(localeChain(null, 'sv'), ['sv', 'en']);
  assert.deepEqual([1, 2, 3, 4].map((n) => backoff(n, 1000, 0)), [1000, 2000, 4000, 8000]);
  assert.equal(backoff(40, 1000, 0), 6 * 3600 * 1000);
});

// --- Web Push: the request web-push builds, checked against RFC 8292 and RFC 8291 ----------
function subscriber(endpoint) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, subscription: { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } } };
}
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
/** RFC 8291 aes128gcm decryption, as the browser does it. */
function decryptPush({ ecdh, auth }, body) {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const secret = ecdh.computeSecret(asPublic);
  const ikm = hmac(hmac(auth, secret), Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), asPublic, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'latin1')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'latin1')).subarray(0, 12);
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  let end = plain.length - 1;
  while (plain[end] === 0) end--;
  assert.equal(plain[end], 2, 'the last record ends with the 0x02 delimiter');
  return JSON.parse(plain.subarray(0, end).toString('utf8'));
}
/** Checks the VAPID Authorization header: a JWT for the push service's origin, ES256 under the public key. */
function checkVapid(headers, { origin, publicKey, subject }) {
  const m = /^vapid t=([^,]+), k=(.+)$/.exec(headers.authorization ?? headers.Authorization);
  assert.ok(m, 'Authorization: vapid t=<jwt>, k=<public key>');
  assert.equal(m[2], publicKey);
  const [h, p, s] = m[1].split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { typ: 'JWT', alg: 'ES256' });
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  assert.equal(claims.aud, origin);
  assert.equal(claims.sub, subject);
  assert.ok(claims.exp > Date.now() / 1000 && claims.exp <= Date.now() / 1000 + 24 * 3600 + 60, 'expires within 24 hours');
  const raw = Buffer.from(publicKey, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')), 'ES256 signature verifies with the VAPID public key');
}

test('the Web Push request: VAPID JWT for the push origin, signed ES256, aes128gcm payload', () => {
  const vapid = webpush.generateVAPIDKeys();
  const subject = 'mailto:ops@shop.example';
  const provider = webPushProvider({ publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject });
  const sub = subscriber('https://fcm.googleapis.com/fcm/send/abc123');
  const req = provider.requestDetails(sub.subscription, JSON.stringify({ title: 'Hi', url: `${PUBLIC_URL}/account/discounts` }), 'demo/e1:reward_earned:0');
  assert.equal(req.method, 'POST');
  assert.equal(req.endpoint, sub.subscription.endpoint);
  checkVapid(req.headers, { origin: 'https://fcm.googleapis.com', publicKey: vapid.publicKey, subject });
  assert.equal(req.headers['Content-Encoding'], 'aes128gcm');
  assert.equal(req.headers['Content-Type'], 'application/octet-stream');
  assert.equal(req.headers.TTL, 7 * 24 * 3600);
  assert.match(req.headers.Topic, /^[A-Za-z0-9_-]{1,32}$/);
  assert.equal(Number(req.headers['Content-Length']), req.body.length);
  assert.deepEqual(decryptPush(sub, req.body), { title: 'Hi', url: `${PUBLIC_URL}/account/discounts` });
});

// --- the suite, per SQL store --------------------------------------------------------------
function suite(backend) {
  test('the reward email reaches an SMTP server with the code, in the customer locale, en as fallback, names escaped', () =>
    withStore(backend, async ({ store, loyalty, ns }) => {
      const smtp = await smtpSink();
      try {
        await ns.putContact(P, 'kari', { email: 'kari@example.com', name: 'Kari <script>alert(1)</script>', locale: 'nb-NO' });
        await ns.putContact(P, 'hans', { email: 'hans@example.com', name: 'Hans', locale: 'de' });
        const kari = couponOf(await loyalty.handle(reward('e-kari', 'kari')));
        const hans = couponOf(await loyalty.handle(reward('e-hans', 'hans')));
        assert.notEqual(kari, hans);
        const d = createDispatcher({ store, program: P, providers: { email: smtpProvider({ url: smtp.url, from: 'Demo <rewards@shop.example>' }) }, config: fast, log: quiet });
        const summary = await d.drain();
        assert.equal(summary.dead + summary.retry, 0);
        assert.equal(smtp.accepted.length, 2);

        const nb = smtp.accepted.find((m) => m.envelope[0] === 'kari@example.com');
        assert.equal(nb.subject, 'Belønningen din er klar: 10% off your next order');
        assert.ok(nb.html.includes(kari), 'the code is in the HTML');
        assert.ok(nb.text.includes(kari), 'the code is in the text');
        assert.match(nb.text, /Bruk koden/);
        assert.match(nb.html, /Hei Kari &lt;script&gt;alert\(1\)&lt;\/script&gt;,/);
        assert.doesNotMatch(nb.html, /<script>/);
        assert.ok(nb.html.includes(`${PUBLIC_URL}/account/discounts`));
        assert.equal(nb.messageId, messageId(`${P}/e-kari:reward_earned:0`, 'shop.example'), 'Message-ID derives from the outbox key');

        const en = smtp.accepted.find((m) => m.envelope[0] === 'hans@example.com');
        assert.equal(en.subject, 'Your reward is here: 10% off your next order');
        assert.ok(en.html.includes(hans) && en.text.includes(hans));

        const rows = await outboxRows(store);
        assert.ok(rows.every((r) => r.status === 'delivered'), 'every outbox row is delivered');
        const notify = rows.find((r) => r.key === 'e-kari:reward_earned:0');
        const deliveries = await ns.deliveries(Number(notify.id));
        assert.deepEqual(deliveries.map((x) => [x.channel, x.status, x.reason]), [['email', 'sent', null], ['push', 'skipped', 'not_configured']]);
        // Nothing is sent twice: a second pass finds nothing due.
        assert.equal((await d.drain()).claimed, 0);
        assert.equal(smtp.accepted.length, 2);
      } finally {
        await smtp.close();
      }
    }));

  test('Web Push is delivered to the push service, signed and encrypted; a 410 drops the subscription', () =>
    withStore(backend, async ({ store, loyalty, ns }) => {
      const push = await httpSink((r) => (r.url === '/push/gone' ? 410 : 201));
      try {
        const vapid = webpush.generateVAPIDKeys();
        const subject = 'mailto:ops@shop.example';
        const live = subscriber(`${push.origin}/push/live`);
        const gone = subscriber(`${push.origin}/push/gone`);
        await ns.putContact(P, 'sven', { locale: 'sv-SE', name: 'Sven' });
        await ns.addSubscription(P, 'sven', live.subscription);
        await ns.addSubscription(P, 'sven', gone.subscription);
        const code = couponOf(await loyalty.handle(reward('e-sven', 'sven')));
        const providers = { push: webPushProvider({ publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject }) };
        await createDispatcher({ store, program: P, providers, config: fast, log: quiet }).drain();

        const sent = push.requests.filter((r) => r.url === '/push/live');
        assert.equal(sent.length, 1);
        checkVapid(sent[0].headers, { origin: push.origin, publicKey: vapid.publicKey, subject });
        assert.equal(sent[0].headers['content-encoding'], 'aes128gcm');
        assert.match(sent[0].headers.topic, /^[A-Za-z0-9_-]{1,32}$/);
        const payload = decryptPush(live, sent[0].body);
        assert.equal(payload.title, 'Din belöning är här: 10% off your next order');
        assert.ok(payload.body.includes(code));
        assert.equal(payload.url, `${PUBLIC_URL}/account/discounts`, 'opening the push leads to the discounts');

        assert.deepEqual((await ns.subscriptions(P, 'sven')).map((s) => s.endpoint), [live.subscription.endpoint], 'the 410 subscription is dropped');
        const row = (await outboxRows(store)).find((r) => r.key === 'e-sven:reward_earned:0');
        assert.equal(row.status, 'delivered');
        const ds = await ns.deliveries(Number(row.id));
        assert.deepEqual(ds.filter((x) => x.channel === 'push').map((x) => [x.target, x.status]).sort(),
          [[gone.subscription.endpoint, 'gone'], [live.subscription.endpoint, 'sent']]);
        assert.deepEqual(ds.filter((x) => x.channel === 'email').map((x) => [x.status, x.reason]), [['skipped', 'not_configured']]);
      } finally {
        await push.close();
      }
    }));

  test('an opted-out channel is skipped and recorded; the others go out', () =>
    withStore(backend, async ({ store, loyalty, ns }) => {
      const smtp = await smtpSink();
      const push = await httpSink();
      const app = buildApp({ loyalty, store, token: TOKEN });
      try {
        const auth = { authorization: `Bearer ${TOKEN}` };
        let res = await app.inject({ method: 'PUT', url: '/api/customers/ola/contact', headers: auth, payload: { email: 'ola@example.com', locale: 'nb' } });
        assert.equal(res.statusCode, 200, res.body);
        res = await app.inject({ method: 'PUT', url: '/api/customers/ola/opt-outs/email', headers: auth });
        assert.deepEqual(res.json().opt_out, ['email']);
        const vapid = webpush.generateVAPIDKeys();
        await ns.addSubscription(P, 'ola', subscriber(`${push.origin}/push/ola`).subscription);
        await loyalty.handle(reward('e-ola', 'ola'));
        const providers = {
          email: smtpProvider({ url: smtp.url, from: 'rewards@shop.example' }),
          push: webPushProvider({ publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject: 'mailto:a@b.c' }),
        };
        await createDispatcher({ store, program: P, providers, config: fast, log: quiet }).drain();
        assert.equal(smtp.accepted.length, 0, 'no email to an opted-out customer');
        assert.equal(push.requests.length, 1, 'push still goes out');
        const row = (await outboxRows(store)).find((r) => r.key === 'e-ola:reward_earned:0');
        res = await app.inject({ method: 'GET', url: `/api/notify/outbox/${row.id}`, headers: auth });
        assert.equal(res.json().status, 'delivered');
        assert.deepEqual(res.json().deliveries.map((x) => [x.channel, x.status, x.reason]), [['email', 'skipped', 'opted_out'], ['push', 'sent', null]]);
        // Opting back in is recorded too.
        res = await app.inject({ method: 'DELETE', url: '/api/customers/ola/opt-outs/email', headers: auth });
        assert.deepEqual(res.json().opt_out, []);
      } finally {
        await app.close();
        await smtp.close();
        await push.close();
      }
    }));

  test('failures retry with backoff, then dead-letter (visible in the admin), and a retry delivers once', () =>
    withStore(backend, async ({ store, loyalty, ns }) => {
      let failing = true;
      const smtp = await smtpSink({ onMessage: () => { if (failing) throw Object.assign(new Error('mailbox busy, try later'), { responseCode: 451 }); } });
      const app = buildApp({ loyalty, store, token: TOKEN });
      const auth = { authorization: `Bearer ${TOKEN}` };
      try {
        await ns.putContact(P, 'lina', { email: 'lina@example.com', locale: 'es' });
        await loyalty.handle(reward('e-lina', 'lina'));
        let clock = new Date('2030-01-01T00:00:00Z').getTime();
        const d = createDispatcher({ store, program: P, providers: { email: smtpProvider({ url: smtp.url, from: 'rewards@shop.example' }) }, config: fast, log: quiet, now: () => new Date(clock), jitter: 0 });
        const key = 'e-lina:reward_earned:0';
        const row = async () => (await store.db.query(`SELECT * FROM outbox WHERE program = $1 AND key = $2`, [P, key])).rows[0];

        assert.equal((await d.runOnce()).retry, 1);
        let r = await row();
        assert.equal(r.status, 'pending');
        assert.equal(new Date(r.next_attempt_at).getTime(), clock + 1000, 'first retry after the base delay');
        assert.match(r.last_error, /email: .*451/);
        assert.equal((await d.runOnce()).claimed, 0, 'not due before the backoff');
        clock += 1000;
        assert.equal((await d.runOnce()).retry, 1);
        assert.equal(new Date((await row()).next_attempt_at).getTime(), clock + 2000, 'the delay doubles');
        clock += 1999;
        assert.equal((await d.runOnce()).claimed, 0);
        clock += 1;
        assert.equal((await d.runOnce()).dead, 1, 'the third failure (maxAttempts) is a dead letter');
        clock += 3600 * 1000;
        assert.equal((await d.runOnce()).claimed, 0, 'a dead letter is not retried by itself');

        let res = await app.inject({ method: 'GET', url: '/api/notify/dead-letters', headers: auth });
        assert.equal(res.statusCode, 200);
        const dead = res.json().items;
        assert.deepEqual(dead.map((x) => x.key), [key]);
        assert.equal(dead[0].attempts, 3);
        assert.equal(dead[0].status, 'dead');
        assert.match(dead[0].last_error, /451/);
        assert.deepEqual(dead[0].deliveries.map((x) => [x.channel, x.status, x.attempts]), [['email', 'failed', 3], ['push', 'skipped', 0]]);
        assert.equal(smtp.accepted.length, 0);

        failing = false;
        res = await app.inject({ method: 'POST', url: `/api/notify/outbox/${dead[0].id}/retry`, headers: auth, payload: {} });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().status, 'pending');
        assert.deepEqual(await auditRows(store), [['token', 'notify.retry', String(dead[0].id), { key }]], 'the retry is in the audit log, by the token');
        assert.equal((await d.drain()).delivered, 1);
        assert.equal(smtp.accepted.length, 1);
        assert.match(smtp.accepted[0].subject, /^Tu recompensa ya está aquí/);
        assert.equal((await app.inject({ method: 'GET', url: '/api/notify/dead-letters', headers: auth })).json().items.length, 0);
        res = await app.inject({ method: 'POST', url: `/api/notify/outbox/${dead[0].id}/retry`, headers: auth, payload: {} });
        assert.equal(res.statusCode, 404, 'a delivered row is not retried');
      } finally {
        await app.close();
        await smtp.close();
      }
    }));

  test('templates: preview reports Liquid errors with their line; a merchant override is what goes out', () =>
    withStore(backend, async ({ store, loyalty, ns }) => {
      const app = buildApp({ loyalty, store, token: TOKEN });
      const auth = { authorization: `Bearer ${TOKEN}` };
      const smtp = await smtpSink();
      try {
        let res = await app.inject({ method: 'POST', url: '/api/notify/preview', headers: auth,
          payload: { trigger: 'reward_earned', channel: 'email', locale: 'nb', source: '<p>Hei</p>\n<p>{{ coupon.code }}</p>\n{% if coupon %}\n<p>unclosed</p>' } });
        assert.equal(res.statusCode, 422);
        assert.equal(res.json().error.code, 'template_error');
        assert.equal(res.json().error.line, 3);
        assert.equal(res.json().error.field, 'html');
        assert.match(res.json().error.message, /not closed/);

        res = await app.inject({ method: 'POST', url: '/api/notify/preview', headers: auth,
          payload: { trigger: 'reward_earned', channel: 'email', locale: 'nb', source: { subject: 'ok', text: 'one\ntwo {{ coupon.code | nosuchfilter }}' } } });
        assert.equal(res.statusCode, 422);
        assert.deepEqual([res.json().error.field, res.json().error.line], ['text', 2]);

        res = await app.inject({ method: 'POST', url: '/api/notify/preview', headers: auth,
          payload: { trigger: 'reward_earned', channel: 'email', locale: 'nb', source: { subject: 'Koden din: {{ coupon.code }}' }, data: { name: '<i>x</i>' } } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().rendered.subject, 'Koden din: LOY-7K2M-QX9D');
        assert.match(res.json().rendered.html, /&lt;i&gt;x&lt;\/i&gt;/, 'the preview escapes like delivery does');

        res = await app.inject({ method: 'PUT', url: '/api/notify/templates/reward_earned/email/nb', headers: auth, payload: { subject: '{% if x %}' } });
        assert.equal(res.statusCode, 422, 'a broken override is refused');
        res = await app.inject({ method: 'PUT', url: '/api/notify/templates/reward_earned/email/nb', headers: auth,
          payload: { subject: 'Rabattkode {{ coupon.code }} fra {{ program }}', text: 'Koden: {{ coupon.code }}' } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().origin, 'override');
        res = await app.inject({ method: 'GET', url: '/api/notify/templates/reward_earned/email/nb-NO', headers: auth });
        assert.equal(res.json().resolved_locale, 'nb');
        assert.match(res.json().fields.html, /Hei/, 'fields the override leaves out keep the shipped default');
        res = await app.inject({ method: 'GET', url: '/api/notify/templates', headers: auth });
        assert.deepEqual(res.json().overrides.map((o) => [o.trigger, o.channel, o.locale]), [['reward_earned', 'email', 'nb']]);

        await ns.putContact(P, 'kari', { email: 'kari@example.com', locale: 'nb' });
        const code = couponOf(await loyalty.handle(reward('e-kari', 'kari')));
        await createDispatcher({ store, program: P, providers: { email: smtpProvider({ url: smtp.url, from: 'rewards@shop.example' }) }, config: fast, log: quiet }).drain();
        assert.equal(smtp.accepted[0].subject, `Rabattkode ${code} fra Demo rewards`);
        assert.equal(smtp.accepted[0].text.trim(), `Koden: ${code}`);

        res = await app.inject({ method: 'DELETE', url: '/api/notify/templates/reward_earned/email/nb', headers: auth });
        assert.deepEqual(res.json(), { deleted: true });
        res = await app.inject({ method: 'GET', url: '/api/notify/templates/reward_earned/email/nb', headers: auth });
        assert.equal(res.json().origin, 'default');
        res = await app.inject({ method: 'GET', url: '/api/notify/templates', headers: { authorization: 'Bearer wrong' } });
        assert.equal(res.statusCode, 401);
      } finally {
        await app.close();
        await smtp.close();
      }
    }));

  test('templates: the admin routes fall back to the configured default locale (NOTIFY_LOCALE), as delivery does', () =>
    withStore(backend, async ({ store, loyalty }) => {
      const app = buildApp({ loyalty, store, token: TOKEN, notifyLocale: 'sv' });
      const auth = { authorization: `Bearer ${TOKEN}` };
      try {
        let res = await app.inject({ method: 'GET', url: '/api/notify/templates/reward_earned/email/fr', headers: auth });
        assert.equal(res.json().resolved_locale, 'sv');
        res = await app.inject({ method: 'POST', url: '/api/notify/preview', headers: auth, payload: { trigger: 'reward_earned', channel: 'email' } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().locale, 'sv', 'a preview without a locale is in the default locale');
        // An override in a locale with no shipped template takes the fields it leaves out from the default locale's.
        res = await app.inject({ method: 'PUT', url: '/api/notify/templates/reward_earned/email/fr', headers: auth, payload: { subject: 'Votre code {{ coupon.code }}' } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().resolved_locale, 'fr');
        assert.notEqual(shippedTemplate('reward_earned', 'email', 'sv').html, shippedTemplate('reward_earned', 'email', 'en').html);
        assert.equal(res.json().fields.html, shippedTemplate('reward_earned', 'email', 'sv').html);
      } finally {
        await app.close();
      }
    }));

  test('emails warn before points expire, in the customer locale', () =>
    withStore(backend, async ({ store, loyalty, ns }) => {
      const smtp = await smtpSink();
      try {
        await ns.putContact(P, 'ana', { email: 'ana@example.com', locale: 'es-ES' });
        await loyalty.handle({ ...reward('e-ana', 'ana'), order: { ...reward('e-ana', 'ana').order, lines: [{ id: 'l1', quantity: 1, unit_price: '120.00', discount: '0.00' }] } });
        // 1200 points valid 12 months; the first warning is due two months before.
        await loyalty.tick('2026-11-15T12:00:00Z');
        await createDispatcher({ store, program: P, providers: { email: smtpProvider({ url: smtp.url, from: 'rewards@shop.example' }) }, config: fast, log: quiet }).drain();
        assert.equal(smtp.accepted.length, 1);
        assert.equal(smtp.accepted[0].subject, '1200 puntos caducan pronto');
        assert.match(smtp.accepted[0].text, /1200 de tus puntos caducan el 2027-01-10/);
      } finally {
        await smtp.close();
      }
    }));

  test('a notification about an event older than the max age expires unsent (an import of old orders)', () =>
    withStore(backend, async ({ store, loyalty, ns }) => {
      const smtp = await smtpSink();
      try {
        await ns.putContact(P, 'old', { email: 'old@example.com' });
        await ns.putContact(P, 'new', { email: 'new@example.com' });
        const daysAgo = (n) => new Date(Date.now() - n * 24 * 3600 * 1000).toISOString();
        await loyalty.handle(reward('e-old', 'old', daysAgo(10)));
        await loyalty.handle(reward('e-new', 'new', daysAgo(1)));
        const config = { ...fast, maxAgeMs: 3 * 24 * 3600 * 1000 };
        const summary = await createDispatcher({ store, program: P, providers: { email: smtpProvider({ url: smtp.url, from: 'r@shop.example' }) }, config, log: quiet }).drain();
        assert.equal(summary.expired, 1);
        assert.deepEqual(smtp.accepted.map((m) => m.envelope[0]), ['new@example.com']);
        const old = (await outboxRows(store)).find((r) => r.key === 'e-old:reward_earned:0');
        assert.equal(old.status, 'expired');
      } finally {
        await smtp.close();
      }
    }));

  test('contact, push subscription and VAPID key routes', () =>
    withStore(backend, async ({ store, loyalty }) => {
      const app = buildApp({ loyalty, store, token: TOKEN });
      const auth = { authorization: `Bearer ${TOKEN}` };
      try {
        const sub = subscriber('https://updates.push.services.mozilla.com/wpush/v2/abc').subscription;
        let res = await app.inject({ method: 'POST', url: '/api/customers/c1/push-subscriptions', headers: auth, payload: sub });
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(res.json().subscriptions, [sub]);
        res = await app.inject({ method: 'POST', url: '/api/customers/c1/push-subscriptions', headers: auth, payload: { ...sub, endpoint: 'http://insecure.example/x' } });
        assert.equal(res.statusCode, 400, 'push endpoints are https');
        res = await app.inject({ method: 'PUT', url: '/api/customers/c1/contact', headers: auth, payload: { email: 'c1@example.com', locale: 'sv', opt_out: ['sms'] } });
        assert.deepEqual(res.json(), { customer: 'c1', email: 'c1@example.com', phone: null, name: null, locale: 'sv', opt_out: ['sms'], marketing: null });
        res = await app.inject({ method: 'PUT', url: '/api/customers/c1/contact', headers: auth, payload: { name: 'Siv' } });
        assert.deepEqual([res.json().email, res.json().name, res.json().locale], ['c1@example.com', 'Siv', 'sv'], 'fields left out are kept');
        res = await app.inject({ method: 'PUT', url: '/api/customers/c1/contact', headers: auth, payload: { email: 'not an address' } });
        assert.equal(res.statusCode, 400);
        res = await app.inject({ method: 'DELETE', url: '/api/customers/c1/push-subscriptions', headers: auth, payload: { endpoint: sub.endpoint } });
        assert.deepEqual(res.json(), { deleted: true });
        res = await app.inject({ method: 'GET', url: '/api/customers/c1/push-subscriptions', headers: auth });
        assert.deepEqual(res.json(), { subscriptions: [] });
        const saved = process.env.VAPID_PUBLIC_KEY;
        process.env.VAPID_PUBLIC_KEY = 'BPublicKeyForTheStorefront';
        const keyed = buildApp({ loyalty, store, token: TOKEN });
        try {
          res = await keyed.inject({ method: 'GET', url: '/api/notify/vapid-public-key', headers: auth });
          assert.deepEqual(res.json(), { publicKey: 'BPublicKeyForTheStorefront' });
        } finally {
          if (saved === undefined) delete process.env.VAPID_PUBLIC_KEY; else process.env.VAPID_PUBLIC_KEY = saved;
          await keyed.close();
        }
      } finally {
        await app.close();
      }
    }));

  test('every change through the notification routes is in the audit log under the operator who made it', () =>
    withStore(backend, async ({ store, loyalty }) => {
      const app = buildApp({ loyalty, store, token: TOKEN });
      try {
        const sam = await signedIn(store, 'sam', 'staff');
        const vic = await signedIn(store, 'vic', 'viewer');
        const call = (method, url, headers, payload) => app.inject({ method, url, headers, payload });
        const sub = subscriber('https://updates.push.services.mozilla.com/wpush/v2/audit').subscription;
        // A viewer changes nothing, and nothing is recorded for the attempts.
        for (const [method, url, payload] of [
          ['PUT', '/api/notify/templates/reward_earned/email/nb', { subject: 'x' }], ['PUT', '/api/customers/c1/contact', { name: 'x' }],
          ['PUT', '/api/customers/c1/opt-outs/sms'], ['POST', '/api/customers/c1/push-subscriptions', sub], ['POST', '/api/notify/outbox/1/retry', {}],
        ]) {
          const res = await call(method, url, vic, payload);
          assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
          assert.equal(res.json().error.code, 'forbidden');
        }
        assert.deepEqual(await auditRows(store), []);

        const ok = async (...args) => { const res = await call(...args); assert.ok(res.statusCode < 300, `${args[0]} ${args[1]}: ${res.body}`); return res.json(); };
        await ok('PUT', '/api/notify/templates/reward_earned/email/nb-NO', sam, { subject: 'Koden {{ coupon.code }}' });
        await ok('DELETE', '/api/notify/templates/reward_earned/email/nb-NO', sam);
        assert.deepEqual(await ok('DELETE', '/api/notify/templates/reward_earned/email/nb-NO', sam), { deleted: false });
        await ok('PUT', '/api/customers/c1/contact', sam, { email: 'c1@example.com', phone: '+47 22 00 00 00' });
        await ok('PUT', '/api/customers/c1/opt-outs/sms', sam);
        await ok('DELETE', '/api/customers/c1/opt-outs/sms', sam);
        await ok('POST', '/api/customers/c1/push-subscriptions', sam, sub);
        await ok('DELETE', '/api/customers/c1/push-subscriptions', sam, { endpoint: sub.endpoint });
        const rows = await auditRows(store);
        assert.deepEqual(rows, [
          ['sam', 'template.override', 'reward_earned/email/nb-no', { fields: ['subject'] }],
          ['sam', 'template.revert', 'reward_earned/email/nb-no', {}],
          ['sam', 'customer.contact', 'c1', { fields: ['email', 'phone'] }],
          ['sam', 'customer.opt_out', 'c1', { channel: 'sms' }],
          ['sam', 'customer.opt_in', 'c1', { channel: 'sms' }],
          ['sam', 'customer.push_subscription.add', 'c1', { service: 'https://updates.push.services.mozilla.com' }],
          ['sam', 'customer.push_subscription.remove', 'c1', {}],
        ], 'a revert that deleted nothing is no change');
        assert.ok(!JSON.stringify(rows).includes('c1@example.com') && !JSON.stringify(rows).includes('/wpush/v2/audit'), 'contact values and push endpoints stay out of the log');
      } finally {
        await app.close();
      }
    }));

  test('SMS and merchant webhooks; a channel that failed is retried alone, the ones sent are not sent again', () =>
    withStore(backend, async ({ store, ns }) => {
      const all = { ...program, notifications: { reward_earned: ['email', 'sms', 'webhook'] } };
      const loyalty = createLoyalty({ program: all, store, secret: SECRET });
      const smtp = await smtpSink();
      let smsUp = false;
      const sms = await httpSink(() => (smsUp ? 200 : 503));
      const hook = await httpSink(() => 204);
      try {
        await ns.putContact(P, 'per', { email: 'per@example.com', phone: '+4790000000', locale: 'nb' });
        const code = couponOf(await loyalty.handle(reward('e-per', 'per')));
        let clock = new Date('2030-01-01T00:00:00Z').getTime();
        const providers = {
          email: smtpProvider({ url: smtp.url, from: 'rewards@shop.example' }),
          sms: (await import('../../js/notify/providers.js')).httpSmsProvider({ url: `${sms.origin}/sms` }),
          webhook: webhookProvider({ url: `${hook.origin}/hook`, secret: 'k', now: () => clock }),
        };
        const d = createDispatcher({ store, program: P, providers, config: fast, log: quiet, now: () => new Date(clock), jitter: 0 });
        const first = await d.drain();
        assert.equal(first.retry, 1, 'the notify row waits for its SMS');
        assert.equal(smtp.accepted.length, 1);
        const notifyHooks = () => hook.requests.filter((r) => JSON.parse(r.body).type === 'notify');
        assert.equal(notifyHooks().length, 1);
        smsUp = true;
        clock += 1000;
        await d.drain();
        assert.equal(smtp.accepted.length, 1, 'the email is not sent again');
        assert.equal(notifyHooks().length, 1, 'the webhook is not sent again');
        assert.equal(sms.requests.length, 2);
        const text = JSON.parse(sms.requests[1].body);
        assert.equal(text.to, '+4790000000');
        assert.ok(text.text.includes(code) && text.text.startsWith('Demo rewards: Du har fått'));
        assert.equal(sms.requests[1].headers['idempotency-key'], `${P}/e-per:reward_earned:0`);
        const wh = notifyHooks()[0];
        const body = JSON.parse(wh.body);
        assert.deepEqual([body.id, body.trigger, body.customer, body.data.coupon.code], ['e-per:reward_earned:0', 'reward_earned', 'per', code]);
        assert.equal(wh.headers['x-loyalty-event-id'], body.id);
        assert.equal(wh.headers['x-loyalty-timestamp'], String(Math.floor(new Date('2030-01-01T00:00:00Z').getTime() / 1000)));
        assert.equal(wh.headers['x-loyalty-signature'], `sha256=${signWebhook('k', wh.headers['x-loyalty-timestamp'], wh.body.toString())}`);
        const row = (await outboxRows(store)).find((r) => r.key === 'e-per:reward_earned:0');
        assert.equal(row.status, 'delivered');
        assert.deepEqual((await ns.deliveries(Number(row.id))).map((x) => [x.channel, x.status, x.attempts]),
          [['email', 'sent', 1], ['sms', 'sent', 2], ['webhook', 'sent', 1]]);
      } finally {
        await smtp.close();
        await sms.close();
        await hook.close();
      }
    }));

  test('a dispatcher killed mid-batch and restarted delivers each notification exactly once per channel', { timeout: 120000 }, () =>
    withStore(backend, async ({ loyalty, ns, env, close }) => {
      const N = 12;
      let child;
      let killed;
      const kill = new Promise((resolve) => { killed = resolve; });
      // The SMTP server holds the 5th message unanswered and kills the dispatcher meanwhile:
      // a crash after 4 emails were accepted, with the 5th in flight.
      let seen = 0;
      let killing = false;
      const smtp = await smtpSink({
        onMessage: async () => {
          if (++seen === 5 && child) {
            killing = true;
            child.kill('SIGKILL');
            await once(child, 'exit');
            killed();
            throw new Error('connection lost');
          }
        },
      });
      const secret = 'whsec-test';
      const hook = await httpSink((r) => {
        const ts = r.headers['x-loyalty-timestamp'];
        return r.headers['x-loyalty-signature'] === `sha256=${signWebhook(secret, ts, r.body.toString('utf8'))}` ? 204 : 401;
      });
      try {
        for (let i = 0; i < N; i++) {
          await ns.putContact(P, `c${i}`, { email: `c${i}@example.com`, locale: i % 2 ? 'nb' : 'en' });
          await loyalty.handle(reward(`e${i}`, `c${i}`));
        }
        await close(); // PGlite is one process: the dispatcher opens the folder itself
        const childEnv = {
          ...process.env, ...env, LOYALTY_PROGRAM: programPath, SMTP_URL: smtp.url, MAIL_FROM: 'rewards@shop.example',
          MERCHANT_WEBHOOK_URL: `${hook.origin}/hooks`, MERCHANT_WEBHOOK_SECRET: secret, PUBLIC_URL,
          NOTIFY_LEASE_SECONDS: '1', NOTIFY_BATCH: '4', NOTIFY_MAX_AGE_HOURS: '0', NOTIFY_SECONDS: '0.1',
        };
        delete childEnv.VAPID_PUBLIC_KEY;
        delete childEnv.VAPID_PRIVATE_KEY;
        if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
        const run = (args) => {
          const p = spawn(process.execPath, [mainJs, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
          let err = '';
          p.stderr.on('data', (c) => { err += c; });
          p.stdout.resume();
          p.done = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, err })));
          return p;
        };
        child = run([]);
        await Promise.race([kill, child.done.then((r) => { if (!killing) throw new Error(`dispatcher exited before the crash: ${JSON.stringify(r)}`); })]);
        await kill;
        assert.equal((await child.done).signal, 'SIGKILL');
        assert.equal(smtp.accepted.length, 4, 'four emails were accepted before the crash');
        child = null;
        await new Promise((r) => setTimeout(r, 1200)); // the dead dispatcher's lease runs out
        const second = await run(['--once']).done;
        assert.equal(second.code, 0, second.err);

        const ids = smtp.accepted.map((m) => m.messageId);
        assert.equal(smtp.accepted.length, N, 'every reward email was accepted once');
        assert.equal(new Set(ids).size, N, 'no Message-ID twice');
        assert.deepEqual(smtp.accepted.map((m) => m.envelope[0]).sort(), Array.from({ length: N }, (_, i) => `c${i}@example.com`).sort());
        const hookIds = hook.requests.map((r) => r.headers['x-loyalty-event-id']);
        assert.ok(hook.requests.every((r) => r.method === 'POST' && r.url === '/hooks'));
        assert.equal(new Set(hookIds).size, hookIds.length, 'no webhook sent twice');
        // One webhook per outbox row other than the notify rows (coupon.issued), every one signed.
        const after = await reopenRows(env);
        assert.equal(after.filter((r) => r.type !== 'notify').length, hookIds.length);
        assert.deepEqual(hookIds.sort(), after.filter((r) => r.type !== 'notify').map((r) => r.key).sort());
        assert.ok(after.every((r) => r.status === 'delivered'), JSON.stringify(after.filter((r) => r.status !== 'delivered')));
        const body = JSON.parse(hook.requests[0].body);
        assert.equal(body.id, hook.requests[0].headers['x-loyalty-event-id']);
        assert.equal(body.type, 'coupon.issued');
      } finally {
        if (child) child.kill('SIGKILL');
        await smtp.close();
        await hook.close();
      }
    }));

  async function reopenRows(env) {
    const s = env.DATABASE_URL ? await openPostgresStore({ connectionString: env.DATABASE_URL, max: 1 }) : await openPgliteStore({ dataDir: env.LOYALTY_DATA });
    try { return await outboxRows(s); } finally { await s.close(); }
  }
}

describe('pglite', () => suite('pglite'));

test('loyalty serve runs the dispatcher: an order posted to the API becomes an email', async () => {
  const smtp = await smtpSink();
  const dir = await db.pgliteDir();
  const env = { LOYALTY_TOKEN: TOKEN, LOYALTY_SECRET: SECRET, SMTP_URL: smtp.url, MAIL_FROM: 'rewards@shop.example', NOTIFY_SECONDS: '0.1', PUBLIC_URL };
  const config = { ...serverConfig({ program: programPath, data: dir, port: 0 }, env), env };
  const server = await serve(config, { logger: false });
  try {
    const auth = { authorization: `Bearer ${TOKEN}` };
    let res = await server.app.inject({ method: 'PUT', url: '/api/customers/web/contact', headers: auth, payload: { email: 'web@example.com', locale: 'sv' } });
    assert.equal(res.statusCode, 200);
    const at = new Date().toISOString();
    res = await server.app.inject({ method: 'POST', url: '/api/events', headers: auth, payload: reward('e-web', 'web', at) });
    assert.equal(res.statusCode, 200, res.body);
    const code = couponOf(res.json());
    for (let i = 0; i < 100 && smtp.accepted.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(smtp.accepted.length, 1);
    assert.match(smtp.accepted[0].subject, /^Din belöning är här/);
    assert.ok(smtp.accepted[0].html.includes(code));
  } finally {
    await server.close();
    await smtp.close();
  }
});

// PostgreSQL: required in CI, optional on a laptop without a server.
if (!DATABASE_URL && process.env.CI) {
  test('postgres', () => assert.fail('DATABASE_URL is not set: the PostgreSQL suite cannot run in CI'));
} else {
  describe('postgres', { skip: DATABASE_URL ? false : 'DATABASE_URL is not set' }, () => {
    suite('postgres');

    test('two dispatchers on two pools never take the same row', () =>
      withStore('postgres', async ({ store, loyalty, ns, reopen }) => {
        const smtp = await smtpSink({ onMessage: () => new Promise((r) => setTimeout(r, 5)) });
        const other = await reopen();
        try {
          for (let i = 0; i < 20; i++) {
            await ns.putContact(P, `c${i}`, { email: `c${i}@example.com` });
            await loyalty.handle(reward(`e${i}`, `c${i}`));
          }
          const make = (s) => createDispatcher({ store: s, program: P, providers: { email: smtpProvider({ url: smtp.url, from: 'r@shop.example' }) }, config: { ...fast, batch: 3 }, log: quiet });
          const [a, b] = await Promise.all([make(store).drain(), make(other).drain()]);
          assert.ok(a.delivered > 0 && b.delivered > 0, `both worked: ${a.delivered} + ${b.delivered}`);
          assert.equal(smtp.accepted.length, 20);
          assert.equal(new Set(smtp.accepted.map((m) => m.messageId)).size, 20);
        } finally {
          await other.close();
          await smtp.close();
        }
      }));
  });
}
