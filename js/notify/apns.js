// Apple Push Notification service with token-based authentication: an ES256 provider
// token (JWT with kid = the key id, iss = the team id, iat) signed with the shop's .p8
// key, over HTTP/2, POST /3/device/<token>.
//
// Why node:http2 and no library: APNs speaks HTTP/2 only, which Node's fetch does not
// (undici's HTTP/2 needs its own Agent and is not enabled for fetch), and the protocol is
// one request per device with a JWT we can sign with node:crypto. The maintained APNs
// packages (@parse/node-apn and the like) wrap the same http2 module with their own
// retry and connection pooling, which would duplicate the dispatcher's retries, backoff
// and per-device records, and bring several dependencies for a few dozen lines.
import http2 from 'node:http2';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { pushTopic } from './keys.js';

export const APNS_HOSTS = { production: 'https://api.push.apple.com', sandbox: 'https://api.sandbox.push.apple.com' };
// Apple: refresh the provider token no more than once every 20 minutes, and before it
// is an hour old (older ones get 403 ExpiredProviderToken).
const TOKEN_REFRESH_MS = 50 * 60 * 1000;
export const MAX_PAYLOAD = 4096;

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** The APNs provider token: an ES256 JWT, header {alg, kid}, claims {iss, iat}. */
export function providerToken({ keyId, teamId, key, now = Date.now() }) {
  const input = `${b64url({ alg: 'ES256', kid: keyId })}.${b64url({ iss: teamId, iat: Math.floor(now / 1000) })}`;
  const signature = sign('sha256', Buffer.from(input), { key: typeof key === 'string' ? createPrivateKey(key) : key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** A stable apns-id (canonical UUID) per (notification, device): APNs echoes it in its answer. */
export function apnsId(key, token) {
  const h = createHash('sha256').update(`${key}\u0000${token}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The JSON payload: the alert in `aps`, the deep link beside it (custom keys sit outside aps). */
export function apnsPayload({ title, body, data }) {
  return { aps: { alert: { title, body }, sound: 'default', 'thread-id': 'loyalty' }, ...Object.fromEntries(Object.entries(data ?? {}).filter(([, v]) => v != null)) };
}

/** APNs's answer -> an Error with `code` (its reason), `gone`, `permanent`, `retryAfterMs`. */
export function apnsError(status, reason) {
  const err = new Error(`APNs ${status} ${reason ?? ''}`.trim());
  Object.assign(err, { statusCode: status, code: reason ?? `HTTP_${status}` });
  // The token is no longer valid for this app: uninstalled (410 Unregistered,
  // ExpiredToken), malformed or of the other environment (BadDeviceToken), or of another
  // app (DeviceTokenNotForTopic).
  if (status === 410 || ['BadDeviceToken', 'DeviceTokenNotForTopic', 'Unregistered', 'ExpiredToken'].includes(reason)) {
    Object.assign(err, { gone: true, permanent: true });
  } else if (status === 429 || status >= 500 || reason === 'ExpiredProviderToken') {
    // TooManyRequests (the same device too often), InternalServerError, ServiceUnavailable,
    // Shutdown, and a provider token that expired under us: retried with backoff.
  } else {
    err.permanent = true; // BadTopic, InvalidProviderToken, PayloadTooLarge, ...: a setup error
  }
  return err;
}

/**
 * @param {{keyId: string, teamId: string, bundleId: string, key: string, production?: boolean,
 *          endpoint?: string, ca?: string|Buffer, ttlSeconds?: number, timeoutMs?: number, now?: () => number}} options
 *   endpoint overrides the host (tests); ca trusts a test server's certificate.
 */
export function apnsProvider({ keyId, teamId, bundleId, key, production = true, endpoint, ca, ttlSeconds = 7 * 24 * 3600, timeoutMs = 10000, now = () => Date.now() }) {
  const origin = endpoint ?? (production ? APNS_HOSTS.production : APNS_HOSTS.sandbox);
  const privateKey = createPrivateKey(key);
  let jwt = null;
  let session = null;

  const bearer = () => {
    if (!jwt || now() - jwt.at >= TOKEN_REFRESH_MS) jwt = { at: now(), token: providerToken({ keyId, teamId, key: privateKey, now: now() }) };
    return jwt.token;
  };

  // One HTTP/2 connection, reused for every device (Apple asks providers to keep
  // connections open rather than reconnect per push); reopened after an error or GOAWAY.
  function connect() {
    if (session && !session.closed && !session.destroyed) return session;
    const s = http2.connect(origin, ca ? { ca } : {});
    s.on('error', () => { if (session === s) session = null; });
    s.on('goaway', () => { if (session === s) session = null; });
    s.on('close', () => { if (session === s) session = null; });
    session = s;
    return s;
  }

  // Held open while a request is in flight, not between batches: an idle connection
  // must not keep `loyalty notify --once` or a test process alive.
  const hold = (s) => { s.inflight = (s.inflight ?? 0) + 1; s.ref(); };
  const release = (s) => { if (--s.inflight === 0) s.unref(); };

  function request(headers, body) {
    return new Promise((resolve, reject) => {
      let req;
      let s;
      try { s = connect(); req = s.request(headers); } catch (err) { session = null; reject(err); return; }
      hold(s);
      req.on('close', () => release(s));
      const chunks = [];
      let status = 0;
      let responseHeaders = {};
      req.setTimeout(timeoutMs, () => { req.close(http2.constants.NGHTTP2_CANCEL); reject(new Error(`APNs did not answer in ${timeoutMs} ms`)); });
      req.on('response', (h) => { status = h[':status']; responseHeaders = h; });
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => resolve({ status, headers: responseHeaders, text: Buffer.concat(chunks).toString('utf8') }));
      req.on('error', (err) => { session = null; reject(err); });
      req.end(body);
    });
  }

  return {
    channel: 'push',
    platform: 'apns',
    /** One device: {device: {token}, title, body, data} -> {id: the apns-id}. */
    async send({ device, title, body, data }, { key }) {
      const payload = Buffer.from(JSON.stringify(apnsPayload({ title, body, data })));
      if (payload.length > MAX_PAYLOAD) throw Object.assign(new Error(`APNs payload is ${payload.length} bytes, over ${MAX_PAYLOAD}`), { permanent: true, code: 'PayloadTooLarge' });
      const id = apnsId(key, device.token);
      const res = await request({
        ':method': 'POST',
        ':path': `/3/device/${device.token}`,
        authorization: `bearer ${bearer()}`,
        'apns-topic': bundleId,
        'apns-push-type': 'alert',
        'apns-priority': '10',
        'apns-expiration': String(Math.floor(now() / 1000) + ttlSeconds),
        // The same notification sent twice (a crash between APNs's answer and our record)
        // replaces itself on the device instead of showing twice. At most 64 bytes.
        'apns-collapse-id': pushTopic(key),
        'apns-id': id,
        'content-type': 'application/json',
      }, payload);
      if (res.status === 200) return { id: res.headers['apns-id'] ?? id };
      let reason;
      try { reason = JSON.parse(res.text).reason; } catch { /* no JSON body */ }
      if (reason === 'ExpiredProviderToken') jwt = null;
      throw apnsError(res.status, reason);
    },
    close: async () => {
      const s = session;
      session = null;
      if (s && !s.closed) await new Promise((resolve) => s.close(resolve));
    },
  };
}
