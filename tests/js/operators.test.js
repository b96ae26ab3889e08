// Named operators, roles, sessions and the audit log (js/server/operators.js), and program
// versions per shop (js/stores/program-versions.js), on PGlite opened as the store tests do
// (and on PostgreSQL when DATABASE_URL is set), with this branch's migrations applied on top
// of the store's.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import pg from 'pg';
import { openPgliteStore } from '../../js/stores/pglite.js';
import { openPostgresStore } from '../../js/stores/postgres.js';
import { programVersionsMigration } from '../../js/stores/program-versions-schema.js';
import { operatorRoutes, operatorAuth, permit, createOperator, audit, can, hashPassword, verifyPassword, login, sessionOf } from '../../js/server/operators.js';
import { PGlite } from '@electric-sql/pglite';
import { publish, current, list, rollback, currentVersion, getVersion, PROGRAM_CHANNEL } from '../../js/stores/program-versions.js';
import { errorHandler } from '../../js/server/errors.js';
import { testDatabases, DATABASE_URL } from './databases.js';

const dbs = testDatabases('operators');
let store, db, app, url, postgresUrl;
// PGlite always; PostgreSQL too when DATABASE_URL names a server (npm test starts one).
const BACKENDS = ['pglite', ...(DATABASE_URL ? ['postgres'] : [])];

// The store's migration runner splits the same way (line-final semicolons, comments out).
const statements = (sql) => sql.replace(/--.*$/gm, '').split(/;\s*$/m).map((s) => s.trim()).filter(Boolean);

for (const backend of BACKENDS) describe(backend, () => {
  before(async () => {
    if (backend === 'postgres') postgresUrl = await dbs.postgresUrl();
    store = backend === 'pglite'
      ? await openPgliteStore({ dataDir: await dbs.pgliteDir() })
      : await openPostgresStore({ connectionString: postgresUrl, max: 4 });
    db = store.db;
    // The operator and program-version tables come with the store's migrations.
    // Two shops told apart by a header, as a host or an embedding platform would.
    const shopOf = (request) => request.headers['x-shop'] ?? 'shop-a';
    await createOperator(db, 'shop-a', { name: 'ann', role: 'owner', password: 'ann-password-1', display_name: 'Ann Owner' });
    await createOperator(db, 'shop-b', { name: 'bob', role: 'owner', password: 'bob-password-1' });
    app = Fastify();
    app.setErrorHandler(errorHandler);
    await app.register(operatorRoutes, { db, shopOf });
    // A grant route guarded the way the lead wires the admin API's.
    await app.register(async (api) => {
      api.addHook('onRequest', operatorAuth({ db, shopOf }));
      api.post('/api/customers/:id/adjust', { preHandler: permit('points.adjust') }, async (request) => {
        await audit(db, { shop: request.operator.shop, operator: request.operator.name, action: 'points.adjust', target: request.params.id, details: request.body });
        return { ok: true };
      });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${app.server.address().port}`;
  });

  after(async () => {
    await app?.close();
    await store?.close();
  });

  const call = async (method, path, { token, body, shop } = {}) => {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (shop) headers['x-shop'] = shop;
    if (body) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: await res.json() };
  };
  const signIn = async (name, password, shop) => (await call('POST', '/api/login', { body: { name, password }, shop })).body.token;

  test('can(): owners everything, staff grants and templates, viewers reads only', () => {
    assert.equal(can('owner', 'program.write'), true);
    assert.equal(can('owner', 'operators.write'), true);
    assert.equal(can('staff', 'points.adjust'), true);
    assert.equal(can('staff', 'rewards.redeem'), true);
    assert.equal(can('staff', 'templates.write'), true);
    assert.equal(can('staff', 'program.write'), false);
    assert.equal(can('staff', 'operators.write'), false);
    assert.equal(can('viewer', 'customers.read'), true);
    assert.equal(can('viewer', 'points.adjust'), false);
    assert.equal(can('viewer', 'no.such.action'), false);
    assert.equal(can('owner', 'no.such.action'), false);
    assert.equal(can(undefined, 'customers.read'), false);
  });

  test('passwords: scrypt hashes that verify, salted, and a wrong password fails', async () => {
    const h1 = await hashPassword('a long password');
    const h2 = await hashPassword('a long password');
    assert.match(h1, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.notEqual(h1, h2);
    assert.equal(await verifyPassword('a long password', h1), true);
    assert.equal(await verifyPassword('a long passworD', h1), false);
    assert.equal(await verifyPassword('a long password', 'plain'), false);
    await assert.rejects(hashPassword('short'), { code: 'invalid_request', path: 'password' });
  });

  test('sign in: a session token (stored hashed) that expires; wrong passwords and other shops are refused', async () => {
    const bad = await call('POST', '/api/login', { body: { name: 'ann', password: 'wrong-password' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error.code, 'invalid_credentials');
    assert.equal((await call('POST', '/api/login', { body: { name: 'nobody', password: 'whatever-pass' } })).status, 401);

    const ok = await call('POST', '/api/login', { body: { name: 'ann', password: 'ann-password-1' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.operator, { name: 'ann', role: 'owner', display_name: 'Ann Owner' });
    assert.match(ok.body.token, /^[\w-]{43}$/);
    const { rows } = await db.query('SELECT token_hash FROM operator_sessions');
    assert.ok(rows.length >= 1 && rows.every((r) => r.token_hash !== ok.body.token && /^[0-9a-f]{64}$/.test(r.token_hash)));

    // The token belongs to shop-a: shop-b's admin does not take it.
    assert.equal((await call('GET', '/api/operators', { token: ok.body.token, shop: 'shop-b' })).status, 401);
    assert.equal((await call('GET', '/api/operators')).status, 401);
    // Expiry: a session past its time is gone.
    const short = await login(db, 'shop-a', 'ann', 'ann-password-1', { ttlMs: 1000, now: new Date(Date.now() - 5000) });
    assert.equal(await sessionOf(db, short.token), null);
    assert.equal((await call('GET', '/api/operators', { token: short.token })).status, 401);
    // Logout ends the session.
    assert.equal((await call('POST', '/api/logout', { token: ok.body.token })).status, 200);
    assert.equal((await call('GET', '/api/operators', { token: ok.body.token })).status, 401);
  });

  test('password guessing: after 10 failures in 15 minutes the name is refused (429), even with the right password', async () => {
    await createOperator(db, 'shop-g', { name: 'gus', role: 'staff', password: 'gus-password-1' });
    for (let i = 0; i < 10; i++) assert.equal((await call('POST', '/api/login', { shop: 'shop-g', body: { name: 'gus', password: `guess-${i}` } })).status, 401);
    const locked = await call('POST', '/api/login', { shop: 'shop-g', body: { name: 'gus', password: 'gus-password-1' } });
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'too_many_attempts');
    // Failures from longer ago no longer count.
    await db.query("UPDATE audit_log SET at = at - interval '20 minutes' WHERE shop = 'shop-g'");
    assert.equal((await call('POST', '/api/login', { shop: 'shop-g', body: { name: 'gus', password: 'gus-password-1' } })).status, 200);
  });

  test('owners add operators; a viewer cannot grant (403 with a code) and the audit log names who did what', async () => {
    const owner = await signIn('ann', 'ann-password-1');
    for (const [name, role] of [['sam', 'staff'], ['vic', 'viewer']]) {
      const res = await call('POST', '/api/operators', { token: owner, body: { name, role, password: `${name}-password-1` } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.role, role);
      assert.equal(res.body.created_by, 'ann');
      assert.equal(res.body.password_hash, undefined);
    }
    const dup = await call('POST', '/api/operators', { token: owner, body: { name: 'sam', role: 'staff', password: 'another-password' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'conflict');
    const listed = await call('GET', '/api/operators', { token: owner });
    assert.deepEqual(listed.body.operators.map((o) => [o.name, o.role]), [['ann', 'owner'], ['sam', 'staff'], ['vic', 'viewer']]);
    assert.ok(listed.body.operators.every((o) => !('password_hash' in o)));

    const viewer = await signIn('vic', 'vic-password-1');
    const staff = await signIn('sam', 'sam-password-1');
    const denied = await call('POST', '/api/customers/c-1/adjust', { token: viewer, body: { points: 100, reason: 'nice' } });
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body.error, { code: 'forbidden', path: '', message: 'viewer may not points.adjust' });
    // A viewer also cannot add operators; staff cannot either.
    assert.equal((await call('POST', '/api/operators', { token: viewer, body: { name: 'x', role: 'owner', password: 'x-password-1' } })).status, 403);
    assert.equal((await call('POST', '/api/operators', { token: staff, body: { name: 'x', role: 'owner', password: 'x-password-1' } })).status, 403);
    // Staff may grant; viewers may read the log.
    assert.equal((await call('POST', '/api/customers/c-1/adjust', { token: staff, body: { points: 100, reason: 'nice' } })).status, 200);

    const log = await call('GET', '/api/audit?limit=100', { token: viewer });
    assert.equal(log.status, 200);
    const grant = log.body.entries.find((e) => e.action === 'points.adjust');
    assert.deepEqual([grant.operator, grant.target, grant.details], ['sam', 'c-1', { points: 100, reason: 'nice' }]);
    const created = log.body.entries.filter((e) => e.action === 'operator.create').map((e) => [e.operator, e.target, e.details.role]);
    assert.deepEqual(created, [['ann', 'vic', 'viewer'], ['ann', 'sam', 'staff']]);
    assert.ok(log.body.entries.some((e) => e.action === 'operator.login_failed' && e.target === 'ann'));
    // Nothing of shop-b's in shop-a's log.
    const bob = await signIn('bob', 'bob-password-1', 'shop-b');
    const other = await call('GET', '/api/audit', { token: bob, shop: 'shop-b' });
    assert.ok(other.body.entries.every((e) => e.target === 'bob'));
  });

  test('the audit log pages by keyset, newest first, without skipping or repeating', async () => {
    for (let i = 0; i < 7; i++) await audit(db, { shop: 'shop-p', operator: 'ann', action: 'test.step', target: `t${i}`, details: { i } });
    await createOperator(db, 'shop-p', { name: 'ann', role: 'owner', password: 'ann-password-1' });
    const token = await signIn('ann', 'ann-password-1', 'shop-p');
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const res = await call('GET', `/api/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token, shop: 'shop-p' });
      assert.equal(res.status, 200);
      seen.push(...res.body.entries.filter((e) => e.action === 'test.step').map((e) => e.details.i));
      cursor = res.body.next;
      // A row written while paging lands on the first page, not in the middle.
      if (pages++ === 0) await audit(db, { shop: 'shop-p', operator: 'ann', action: 'test.later' });
    } while (cursor);
    assert.deepEqual(seen, [6, 5, 4, 3, 2, 1, 0]);
    assert.equal((await call('GET', '/api/audit?cursor=abc', { token, shop: 'shop-p' })).status, 400);
  });

  test('program versions: publish, current, list, rollback as a new version, and the change signal', async () => {
    const v1Program = { id: 'demo', currency: 'EUR', timezone: 'Europe/Oslo', earn: { points_per_unit: '10' } };
    const v2Program = { ...v1Program, earn: { points_per_unit: '12' } };
    assert.equal(await current(db, 'shop-v'), null);
    assert.equal(await currentVersion(db, 'shop-v'), 0);

    const v1 = await publish(db, 'shop-v', v1Program, 'ann', { note: 'first' });
    const v2 = await publish(db, 'shop-v', v2Program, 'sam');
    assert.deepEqual([v1.version, v2.version], [1, 2]);
    assert.equal(await currentVersion(db, 'shop-v'), 2);
    assert.deepEqual((await current(db, 'shop-v')).program, v2Program);
    // Concurrent publishes get consecutive versions.
    const both = await Promise.all([publish(db, 'shop-w', v1Program, 'ann'), publish(db, 'shop-w', v2Program, 'ann')]);
    assert.deepEqual(both.map((v) => v.version).sort(), [1, 2]);

    const back = await rollback(db, 'shop-v', 1, 'ann');
    assert.equal(back.version, 3);
    assert.equal(back.note, 'rollback to version 1');
    assert.deepEqual((await current(db, 'shop-v')).program, v1Program);
    assert.deepEqual((await getVersion(db, 'shop-v', 2)).program, v2Program);
    const listed = await list(db, 'shop-v');
    assert.deepEqual(listed.map((v) => [v.version, v.author, v.note]), [[3, 'ann', 'rollback to version 1'], [2, 'sam', null], [1, 'ann', 'first']]);
    assert.ok(listed.every((v) => !('program' in v) && !Number.isNaN(Date.parse(v.created_at))));
    await assert.rejects(rollback(db, 'shop-v', 9, 'ann'), { code: 'not_found', path: 'version' });
    await assert.rejects(publish(db, 'shop-v', v1Program, ''), { code: 'invalid_request', path: 'author' });
    assert.equal(await currentVersion(db, 'shop-x'), 0);
  });

  test('publish sends NOTIFY loyalty_program with the shop, on commit only', async () => {
    const heard = [];
    let raw, stop;
    if (backend === 'pglite') {
      // A bare PGlite (the store does not expose its handle), with the same {query, transaction}.
      const pg = await PGlite.create();
      raw = { query: (t, p) => pg.query(t, p), transaction: (fn) => pg.transaction((tx) => fn({ query: (t, p) => tx.query(t, p) })) };
      for (const s of statements(programVersionsMigration)) await pg.query(s);
      await pg.listen(PROGRAM_CHANNEL, (shop) => heard.push(shop));
      stop = () => pg.close();
    } else {
      // A second connection LISTENing, as another server process would.
      const client = new pg.Client({ connectionString: store.connectionString ?? postgresUrl });
      await client.connect();
      client.on('notification', (m) => heard.push(m.payload));
      await client.query(`LISTEN ${PROGRAM_CHANNEL}`);
      raw = db;
      await db.query("DELETE FROM program_versions WHERE shop IN ('shop-n', 'shop-m')");
      stop = () => client.end();
    }
    try {
      await publish(raw, 'shop-n', { id: 'n' }, 'ann');
      await publish(raw, 'shop-m', { id: 'm' }, 'ann');
      await rollback(raw, 'shop-n', 1, 'ann');
      await assert.rejects(rollback(raw, 'shop-n', 7, 'ann'));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(heard, ['shop-n', 'shop-m', 'shop-n']);
    } finally {
      await stop();
    }
  });
});
