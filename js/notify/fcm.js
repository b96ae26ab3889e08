// Firebase Cloud Messaging, HTTP v1 API: an OAuth 2.0 access token from the shop's
// service account (google-auth-library's JWT client signs the RS256 assertion, exchanges
// it and caches the token until shortly before it expires), then one
// POST /v1/projects/{project}/messages:send per device.
//
// google-auth-library always posts the assertion to Google's token URL (its `aud`
// claim, which Google checks, stays that URL). A configured tokenUri (an emulator, the
// tests' stand-in) is reached through a request interceptor on the client's own
// transporter, so the library still builds, signs and caches everything.
import { JWT } from 'google-auth-library';
import { pushTopic } from './keys.js';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const FCM_ENDPOINT = 'https://fcm.googleapis.com';

const FCM_ERROR = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';

/** Seconds from a Retry-After header (delta seconds or an HTTP date), as ms; undefined when absent. */
export function retryAfterMs(value, now = Date.now()) {
  if (value == null || value === '') return undefined;
  if (/^\d+$/.test(String(value))) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** FCM's error body -> an Error with `code` (its errorCode or status), `gone`, `permanent`. */
export function fcmError(status, body, headers = new Headers()) {
  const e = body?.error ?? {};
  const details = Array.isArray(e.details) ? e.details : [];
  const code = details.find((d) => d['@type'] === FCM_ERROR)?.errorCode ?? e.status ?? `HTTP_${status}`;
  const fields = details.filter((d) => d['@type'] === BAD_REQUEST).flatMap((d) => d.fieldViolations ?? []).map((v) => v.field);
  const err = new Error(`FCM ${status} ${code}: ${String(e.message ?? '').slice(0, 200)}`);
  Object.assign(err, { statusCode: status, code, retryAfterMs: retryAfterMs(headers.get('retry-after')) });
  // The token will never work again: the app was uninstalled (UNREGISTERED), the token is
  // malformed (INVALID_ARGUMENT about message.token), or it belongs to another Firebase
  // project (SENDER_ID_MISMATCH, e.g. after the shop changed projects).
  const badToken = code === 'INVALID_ARGUMENT' && (fields.includes('message.token') || /registration token/i.test(e.message ?? ''));
  if (code === 'UNREGISTERED' || code === 'SENDER_ID_MISMATCH' || badToken) Object.assign(err, { gone: true, permanent: true });
  // QUOTA_EXCEEDED (429), UNAVAILABLE (503), INTERNAL (500) and an expired access token
  // (401 UNAUTHENTICATED) are worth retrying; every other 4xx is a message or setup error.
  else if (status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429) err.permanent = true;
  return err;
}

/** FCM v1 data values are strings only; nulls are left out. */
const strings = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v != null).map(([k, v]) => [k, String(v)]));

/**
 * The v1 message for one device (the fields used, as in the REST reference's Message).
 * `tag` and `collapse_key` come from the notification key: if a send is ever repeated
 * (a crash between FCM's answer and our record), the device replaces the notification
 * instead of showing it twice.
 */
export function fcmMessage({ token, title, body, data, key, ttlSeconds = 7 * 24 * 3600, analyticsLabel }) {
  const tag = pushTopic(key);
  return {
    token,
    notification: { title, body },
    data: strings(data),
    android: { collapse_key: tag, priority: 'HIGH', ttl: `${ttlSeconds}s`, notification: { tag } },
    apns: { headers: { 'apns-collapse-id': tag } },
    ...(analyticsLabel ? { fcm_options: { analytics_label: analyticsLabel } } : {}),
  };
}

/**
 * @param {{projectId: string, serviceAccount: {client_email: string, private_key: string, private_key_id?: string},
 *          tokenUri?: string, endpoint?: string, ttlSeconds?: number, timeoutMs?: number}} options
 */
export function fcmProvider({ projectId, serviceAccount, tokenUri = GOOGLE_TOKEN_URL, endpoint = FCM_ENDPOINT, ttlSeconds = 7 * 24 * 3600, timeoutMs = 10000 }) {
  const client = new JWT({
    email: serviceAccount.client_email, key: serviceAccount.private_key, keyId: serviceAccount.private_key_id,
    scopes: [FCM_SCOPE],
  });
  if (tokenUri !== GOOGLE_TOKEN_URL) {
    client.transporter.interceptors.request.add({
      resolved: async (opts) => (String(opts.url) === GOOGLE_TOKEN_URL ? { ...opts, url: new URL(tokenUri) } : opts),
    });
  }
  const url = `${endpoint.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(projectId)}/messages:send`;

  async function accessToken() {
    try {
      const { token } = await client.getAccessToken();
      return token;
    } catch (err) {
      // A refused grant (bad key, deleted service account) stays refused until the shop
      // fixes its settings; a token endpoint that is down is retried.
      const status = err.response?.status ?? err.status;
      throw Object.assign(new Error(`FCM access token: ${err.message}`), { statusCode: status, permanent: status === 400 || status === 401 || status === 403 });
    }
  }

  return {
    channel: 'push',
    platform: 'fcm',
    /** One device: {device: {token}, title, body, data} -> {id: the message name}. */
    async send({ device, title, body, data }, { key }) {
      const token = await accessToken();
      const message = fcmMessage({ token: device.token, title, body, data, key, ttlSeconds, analyticsLabel: data?.trigger });
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ message }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text().catch(() => '');
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON: a proxy's error page */ }
      if (!res.ok) {
        // A revoked or expired access token: drop the cached one so the retry fetches anew.
        if (res.status === 401) client.credentials = {};
        throw fcmError(res.status, json ?? { error: { message: text } }, res.headers);
      }
      return { id: json?.name ?? null };
    },
    close: async () => {},
  };
}
