// A shop's app push settings through the admin API: validated as the dispatcher reads them,
// sealed with the shop's secrets (the key never stored or shown in clear).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverConfig } from '../../js/server/config.js';
import { serve } from '../../js/server/serve.js';

const scratch = mkdtempSync(join(tmpdir(), 'loyalty-push-settings-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('push settings are checked, sealed at rest, and shown without their secrets', async () => {
  const env = { LOYALTY_TOKEN: 'ps-token', LOYALTY_SECRET: 'ps-secret', LOYALTY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), NOTIFY_SECONDS: '0', LOYALTY_TICK_SECONDS: '0' };
  const config = { ...serverConfig({ program: new URL('../../presets/seed.json', import.meta.url).pathname, data: join(scratch, 'db'), port: 0 }, env), env };
  const server = await serve(config, { logger: false });
  const put = (body) => server.app.inject({ method: 'PUT', url: '/api/push-settings', headers: { authorization: 'Bearer ps-token' }, payload: body });
  try {
    const p8 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    let res = await put({ apns_key_id: 'ABC123DEFG', apns_team_id: 'TEAM123456', apns_bundle_id: 'com.shop.app', apns_key: 'not a key' });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().error.path, /apns_key/);
    res = await put({ apns_key_id: 'ABC123DEFG', apns_team_id: 'TEAM123456', apns_bundle_id: 'com.shop.app', apns_key: p8, apns_env: 'sandbox' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().settings, { apns_key_id: 'ABC123DEFG', apns_team_id: 'TEAM123456', apns_bundle_id: 'com.shop.app', apns_key: 'set', apns_env: 'sandbox' });
    const { rows: [row] } = await server.store.db.query('SELECT secrets FROM shops WHERE id = $1', ['demo']);
    assert.ok(!row.secrets.includes('PRIVATE KEY') && !row.secrets.includes('TEAM123456'), 'sealed at rest');
    const shop = await server.registry.get('demo');
    assert.equal(shop.secrets.push.apns_key, p8);
    const read = await server.app.inject({ url: '/api/push-settings', headers: { authorization: 'Bearer ps-token' } });
    assert.ok(!read.body.includes('PRIVATE KEY'));
  } finally {
    await server.close();
  }
});
