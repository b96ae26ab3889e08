// A local stand-in for the Apple Push Notification service: HTTP/2 over TLS with a
// self-signed certificate made for the test (openssl req), strict where APNs is strict,
// as Apple's "Sending notification requests to APNs", "Establishing a token-based
// connection to APNs" and "Handling notification responses from APNs" describe it:
//   POST /3/device/<hex token>, authorization: bearer <ES256 JWT with header {alg: ES256,
//   kid} and claims {iss: team id, iat}>, verified with the key's public half; iat older
//   than an hour -> 403 ExpiredProviderToken; wrong kid/iss/signature -> 403
//   InvalidProviderToken; none -> 403 MissingProviderToken.
//   apns-topic required (400 MissingTopic), the app's bundle id (400 BadTopic);
//   apns-push-type one of Apple's types, an alert push needs aps.alert (400 InvalidPushType);
//   apns-priority 5|10 (BadPriority); apns-expiration a UNIX time (BadExpirationDate);
//   apns-id a canonical UUID (BadMessageId); apns-collapse-id at most 64 bytes (BadCollapseId);
//   payload a JSON object with an `aps` dictionary, at most 4096 bytes (PayloadEmpty,
//   PayloadTooLarge).
// Per token behaviours: 'bad' -> 400 BadDeviceToken, 'unregistered' -> 410 Unregistered
// (with timestamp), {throttle: n} -> 429 TooManyRequests n times, then accepted.
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, verify } from 'node:crypto';

const PUSH_TYPES = ['alert', 'background', 'location', 'voip', 'complication', 'fileprovider', 'mdm', 'liveactivity', 'pushtotalk', 'widgets', 'controls'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl: {key, cert} (PEM). */
export function selfSignedCert() {
  const dir = mkdtempSync(join(tmpdir(), 'apns-standin-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function decodeJwt(jwt) {
  const parts = String(jwt).split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  const [h, p, s] = parts;
  return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(p, 'base64url')), input: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

/**
 * @param {{keyId: string, teamId: string, bundleId: string, publicKey: import('node:crypto').KeyObject|string,
 *          tokens?: Record<string, 'bad'|'unregistered'|{throttle: number}>, now?: () => number}} options
 * -> {origin, ca, accepted: [{token, headers, payload}], requests: [...], close()}
 */
export async function apnsStandin({ keyId, teamId, bundleId, publicKey, tokens = {}, now = () => Date.now() }) {
  const { key, cert } = selfSignedCert();
  const accepted = [];
  const requests = [];
  const throttled = new Map();
  const sessions = new Set();

  function answer(headers, body) {
    const fail = (status, reason, extra = {}) => [status, { reason, ...extra }];
    if (headers[':method'] !== 'POST') return fail(405, 'MethodNotAllowed');
    const m = /^\/3\/device\/([^/]*)$/.exec(headers[':path'] ?? '');
    if (!m) return fail(404, 'BadPath');
    const token = m[1];
    if (!token) return fail(400, 'MissingDeviceToken');
    const auth = /^bearer (.+)$/.exec(headers.authorization ?? '');
    if (!auth) return fail(403, 'MissingProviderToken');
    let jwt;
    try { jwt = decodeJwt(auth[1]); } catch { return fail(403, 'InvalidProviderToken'); }
    if (jwt.header.alg !== 'ES256' || jwt.header.kid !== keyId || jwt.claims.iss !== teamId) return fail(403, 'InvalidProviderToken');
    if (!verify('sha256', Buffer.from(jwt.input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature)) return fail(403, 'InvalidProviderToken');
    const t = Math.floor(now() / 1000);
    if (!Number.isInteger(jwt.claims.iat) || jwt.claims.iat > t + 60) return fail(403, 'InvalidProviderToken');
    if (t - jwt.claims.iat > 3600) return fail(403, 'ExpiredProviderToken');
    if (!headers['apns-topic']) return fail(400, 'MissingTopic');
    if (headers['apns-topic'] !== bundleId) return fail(400, 'BadTopic');
    const type = headers['apns-push-type'];
    if (type !== undefined && !PUSH_TYPES.includes(type)) return fail(400, 'InvalidPushType');
    if (headers['apns-priority'] !== undefined && !['5', '10', '1'].includes(headers['apns-priority'])) return fail(400, 'BadPriority');
    if (headers['apns-expiration'] !== undefined && !/^\d+$/.test(headers['apns-expiration'])) return fail(400, 'BadExpirationDate');
    if (headers['apns-id'] !== undefined && !UUID.test(headers['apns-id'])) return fail(400, 'BadMessageId');
    if (headers['apns-collapse-id'] !== undefined && Buffer.byteLength(headers['apns-collapse-id']) > 64) return fail(400, 'BadCollapseId');
    if (!body.length) return fail(400, 'PayloadEmpty');
    if (body.length > 4096) return fail(413, 'PayloadTooLarge');
    let payload;
    try { payload = JSON.parse(body.toString('utf8')); } catch { return fail(400, 'PayloadEmpty'); }
    if (!payload || typeof payload !== 'object' || !payload.aps || typeof payload.aps !== 'object') return fail(400, 'PayloadEmpty');
    // An alert push must carry an alert to show: the push type reflects the payload.
    if (type === 'alert' && !payload.aps.alert) return fail(400, 'InvalidPushType');
    if (!/^[0-9a-f]+$/i.test(token)) return fail(400, 'BadDeviceToken');
    const behaviour = tokens[token];
    if (behaviour === 'bad') return fail(400, 'BadDeviceToken');
    if (behaviour === 'unregistered') return fail(410, 'Unregistered', { timestamp: now() });
    if (behaviour?.throttle && (throttled.get(token) ?? 0) < behaviour.throttle) {
      throttled.set(token, (throttled.get(token) ?? 0) + 1);
      return fail(429, 'TooManyRequests');
    }
    accepted.push({ token, headers, payload });
    return [200, null];
  }

  const server = http2.createSecureServer({ key, cert, allowHTTP1: false });
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  server.on('stream', (stream, headers) => {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const h = { ...headers };
      requests.push({ headers: h, body: body.toString('utf8') });
      const [status, json] = answer(h, body);
      const id = UUID.test(h['apns-id'] ?? '') ? h['apns-id'] : randomUUID();
      stream.respond({ ':status': status, 'apns-id': id, ...(json ? { 'content-type': 'application/json' } : {}) });
      stream.end(json ? JSON.stringify(json) : undefined);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    origin: `https://127.0.0.1:${server.address().port}`, ca: cert, accepted, requests,
    close: () => new Promise((r) => { for (const s of sessions) s.destroy(); server.close(r); }),
  };
}
