// A local stand-in for Firebase Cloud Messaging's HTTP v1 API and Google's OAuth 2.0
// token endpoint, over real HTTP, strict where the real services are strict.
//
// Token endpoint (RFC 7523 JWT bearer grant, as Google documents it for service
// accounts): form body grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and
// assertion=<JWT>; the JWT is RS256, signed with the service account's private key
// (checked against its public key), iss = client_email, scope includes the FCM scope,
// aud = https://oauth2.googleapis.com/token, exp after now and at most an hour after iat.
// Errors as Google answers them: 400 {error: 'invalid_grant', error_description}.
//
// messages:send: the request and message schema transcribed from the FCM HTTP v1 REST
// reference, https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages
// (Message, Notification, AndroidConfig, AndroidNotification, AndroidFcmOptions,
// ApnsConfig, ApnsFcmOptions, WebpushConfig, WebpushFcmOptions, FcmOptions), and the
// error shapes from https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode and
// the FCM error codes page: an unknown field is 400 INVALID_ARGUMENT "Invalid JSON payload
// received. Unknown name ..." with a google.rpc.BadRequest field violation; a non-string
// data value is 400 INVALID_ARGUMENT at message.data; an unregistered token is 404
// NOT_FOUND with FcmError UNREGISTERED; a malformed token 400 INVALID_ARGUMENT "The
// registration token is not a valid FCM registration token"; throttling 429
// RESOURCE_EXHAUSTED with FcmError QUOTA_EXCEEDED; no or a bad bearer token 401
// UNAUTHENTICATED.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { randomBytes, verify } from 'node:crypto';

export const GOOGLE_TOKEN_AUD = 'https://oauth2.googleapis.com/token';
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

// Field types: 'string', 'bool', 'int', 'duration', 'strings' (repeated string),
// 'map' (map<string,string>), 'struct' (any JSON object), or a nested shape.
const LIGHT_SETTINGS = { color: 'struct', light_on_duration: 'duration', light_off_duration: 'duration' };
const ANDROID_NOTIFICATION = {
  title: 'string', body: 'string', icon: 'string', color: 'string', sound: 'string', tag: 'string', click_action: 'string',
  body_loc_key: 'string', body_loc_args: 'strings', title_loc_key: 'string', title_loc_args: 'strings', channel_id: 'string',
  ticker: 'string', sticky: 'bool', event_time: 'string', local_only: 'bool',
  notification_priority: ['PRIORITY_UNSPECIFIED', 'PRIORITY_MIN', 'PRIORITY_LOW', 'PRIORITY_DEFAULT', 'PRIORITY_HIGH', 'PRIORITY_MAX'],
  default_sound: 'bool', default_vibrate_timings: 'bool', default_light_settings: 'bool', vibrate_timings: 'strings',
  visibility: ['VISIBILITY_UNSPECIFIED', 'PRIVATE', 'PUBLIC', 'SECRET'], notification_count: 'int', light_settings: LIGHT_SETTINGS,
  image: 'string', bypass_proxy_notification: 'bool', proxy: ['PROXY_UNSPECIFIED', 'ALLOW', 'DENY', 'IF_PRIORITY_LOWERED'],
};
const ANDROID_CONFIG = {
  collapse_key: 'string', priority: ['NORMAL', 'HIGH'], ttl: 'duration', restricted_package_name: 'string', data: 'map',
  notification: ANDROID_NOTIFICATION, fcm_options: { analytics_label: 'string' }, direct_boot_ok: 'bool',
  bandwidth_constrained_ok: 'bool', restricted_satellite_ok: 'bool',
};
const APNS_CONFIG = { headers: 'map', payload: 'struct', fcm_options: { analytics_label: 'string', image: 'string' }, live_activity_token: 'string' };
const WEBPUSH_CONFIG = { headers: 'map', data: 'map', notification: 'struct', fcm_options: { link: 'string', analytics_label: 'string' } };
export const MESSAGE = {
  name: 'string', data: 'map', notification: { title: 'string', body: 'string', image: 'string' },
  android: ANDROID_CONFIG, webpush: WEBPUSH_CONFIG, apns: APNS_CONFIG, fcm_options: { analytics_label: 'string' },
  token: 'string', topic: 'string', condition: 'string',
};
const REQUEST = { validate_only: 'bool', message: MESSAGE };

class Invalid extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

/** Checks `value` against a shape; throws Invalid with FCM's wording. */
function check(value, shape, path) {
  if (Array.isArray(shape)) {
    if (typeof value !== 'string' || !shape.includes(value)) throw new Invalid(path, `Invalid value at '${path}' (TYPE_ENUM), ${JSON.stringify(value)}`);
    return;
  }
  if (typeof shape === 'object') {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Invalid(path, `Invalid value at '${path}' (TYPE_MESSAGE), ${JSON.stringify(value)}`);
    for (const [k, v] of Object.entries(value)) {
      if (!(k in shape)) throw new Invalid(path, `Invalid JSON payload received. Unknown name "${k}" at '${path}': Cannot find field.`);
      check(v, shape[k], `${path}.${k}`);
    }
    return;
  }
  const bad = (type) => new Invalid(path, `Invalid value at '${path}' (${type}), ${JSON.stringify(value)}`);
  switch (shape) {
    case 'string': if (typeof value !== 'string') throw bad('TYPE_STRING'); break;
    case 'bool': if (typeof value !== 'boolean') throw bad('TYPE_BOOL'); break;
    case 'int': if (!Number.isInteger(value)) throw bad('TYPE_INT32'); break;
    case 'duration': if (typeof value !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(value)) throw new Invalid(path, `Invalid value at '${path}' (type.googleapis.com/google.protobuf.Duration), Field '${path}', Illegal duration format; duration must end with 's'`); break;
    case 'strings': if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) throw bad('TYPE_STRING'); break;
    case 'struct': if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('TYPE_MESSAGE'); break;
    case 'map': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('TYPE_MESSAGE');
      Object.values(value).forEach((v, i) => { if (typeof v !== 'string') throw new Invalid(`${path}[${i}].value`, `Invalid value at '${path}[${i}].value' (TYPE_STRING), ${JSON.stringify(v)}`); });
      break;
    }
    default: throw new Error(`stand-in: unknown shape ${shape}`);
  }
}

const googleError = (code, status, message, details = []) => ({ error: { code, message, status, details } });
const fcmDetail = (errorCode) => ({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode });
const badRequest = (field, description) => ({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description }] });

function decodeJwt(jwt) {
  const parts = String(jwt).split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  const [h, p, s] = parts;
  return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(p, 'base64url')), input: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

/**
 * Starts the stand-in on 127.0.0.1.
 * @param {{projectId: string, clientEmail: string, publicKey: import('node:crypto').KeyObject|string,
 *          tokens?: Record<string, 'unregistered'|'invalid'|{throttle: number}>, now?: () => number}} options
 * -> {origin, tokenUri, endpoint, accepted: [{token, message}], requests: [...], tokenRequests: [...], close()}
 */
export async function fcmStandin({ projectId, clientEmail, publicKey, tokens = {}, now = () => Date.now() }) {
  const accessTokens = new Set();
  const accepted = [];
  const requests = [];
  const tokenRequests = [];
  const throttled = new Map();

  function grant(body) {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return [400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${form.get('grant_type')}` }];
    let jwt;
    try { jwt = decodeJwt(form.get('assertion')); } catch { return [400, { error: 'invalid_grant', error_description: 'Invalid JWT: not a JWS' }]; }
    const { header, claims } = jwt;
    tokenRequests.push({ header, claims });
    const refuse = (d) => [400, { error: 'invalid_grant', error_description: d }];
    if (header.alg !== 'RS256') return refuse(`Invalid JWT Signature: alg ${header.alg}`);
    if (!verify('RSA-SHA256', Buffer.from(jwt.input), publicKey, jwt.signature)) return refuse('Invalid JWT Signature.');
    if (claims.iss !== clientEmail) return refuse('Invalid JWT: iss is not the service account');
    if (claims.aud !== GOOGLE_TOKEN_AUD) return refuse(`Invalid JWT: aud ${claims.aud}`);
    if (!String(claims.scope ?? '').split(' ').includes(FCM_SCOPE)) return refuse('Invalid JWT: no firebase.messaging scope');
    const t = Math.floor(now() / 1000);
    if (!Number.isInteger(claims.iat) || !Number.isInteger(claims.exp)) return refuse('Invalid JWT: iat and exp are required');
    if (claims.exp <= t) return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    if (claims.exp - claims.iat > 3600 || claims.iat > t + 60) return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    const access = `ya29.standin-${randomBytes(12).toString('hex')}`;
    accessTokens.add(access);
    return [200, { access_token: access, expires_in: 3599, token_type: 'Bearer' }];
  }

  function send(project, headers, body) {
    const m = /^Bearer (.+)$/.exec(headers.authorization ?? '');
    if (!m || !accessTokens.has(m[1])) return [401, googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.')];
    if (project !== projectId) return [403, googleError(403, 'PERMISSION_DENIED', `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}'`)];
    if (!/^application\/json/.test(headers['content-type'] ?? '')) return [400, googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.')];
    let req;
    try { req = JSON.parse(body); } catch { return [400, googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.')]; }
    try {
      // The request body is the message wrapper; a path in errors starts at the wrapper's field.
      if (!req || typeof req !== 'object' || Array.isArray(req)) throw new Invalid('', 'Invalid JSON payload received.');
      for (const [k, v] of Object.entries(req)) {
        if (!(k in REQUEST)) throw new Invalid('', `Invalid JSON payload received. Unknown name "${k}": Cannot find field.`);
        check(v, REQUEST[k], k);
      }
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      return [400, googleError(400, 'INVALID_ARGUMENT', err.message, [badRequest(err.field, err.message)])];
    }
    const message = req.message;
    if (!message) return [400, googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [fcmDetail('INVALID_ARGUMENT'), badRequest('message', 'Message must be set')])];
    const targets = ['token', 'topic', 'condition'].filter((k) => message[k] != null);
    if (targets.length !== 1) return [400, googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [fcmDetail('INVALID_ARGUMENT'), badRequest('message', 'Exactly one of token, topic or condition must be set')])];
    for (const k of Object.keys(message.data ?? {})) {
      if (k === 'from' || k === 'message_type' || k.startsWith('google.') || k.startsWith('gcm.notification.')) {
        return [400, googleError(400, 'INVALID_ARGUMENT', `Invalid data payload key: ${k}`, [fcmDetail('INVALID_ARGUMENT'), badRequest('message.data', `Invalid data payload key: ${k}`)])];
      }
    }
    if (message.name != null) return [400, googleError(400, 'INVALID_ARGUMENT', 'message.name is output only', [badRequest('message.name', 'output only')])];
    const behaviour = tokens[message.token];
    if (behaviour === 'unregistered') return [404, googleError(404, 'NOT_FOUND', 'Requested entity was not found.', [fcmDetail('UNREGISTERED')])];
    if (behaviour === 'invalid') return [400, googleError(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token', [fcmDetail('INVALID_ARGUMENT')])];
    if (behaviour?.throttle && (throttled.get(message.token) ?? 0) < behaviour.throttle) {
      throttled.set(message.token, (throttled.get(message.token) ?? 0) + 1);
      return [429, googleError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for the message target.', [fcmDetail('QUOTA_EXCEEDED')]), { 'retry-after': '1' }];
    }
    if (req.validate_only) return [200, { name: `projects/${projectId}/messages/fake_message_id` }];
    const id = `0:${Date.now()}%${randomBytes(8).toString('hex')}`;
    accepted.push({ token: message.token, message, id });
    return [200, { name: `projects/${projectId}/messages/${id}` }];
  }

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://standin');
      requests.push({ method: req.method, path: url.pathname, headers: req.headers, body });
      let out;
      const send1 = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname);
      if (req.method === 'POST' && url.pathname === '/token') out = grant(body);
      else if (req.method === 'POST' && send1) out = send(decodeURIComponent(send1[1]), req.headers, body);
      else out = [404, googleError(404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`)];
      const [status, json, headers = {}] = out;
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(json));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin, tokenUri: `${origin}/token`, endpoint: origin, accepted, requests, tokenRequests,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
