// Push to the shop's own mobile apps: FCM (Android, and iOS apps that use Firebase) and
// APNs (iOS). Per shop, from the shop's settings (secrets decrypted by the caller), with
// environment fallbacks for the single-shop `npm start`:
//   fcm_project_id        FCM_PROJECT_ID         (default: the service account's project_id)
//   fcm_service_account   FCM_SERVICE_ACCOUNT    the service account key JSON (in the env: the JSON or a file path)
//   apns_key_id           APNS_KEY_ID            the .p8 key's 10-character key id
//   apns_team_id          APNS_TEAM_ID           the Apple developer team id
//   apns_bundle_id        APNS_BUNDLE_ID         the app's bundle id (the apns-topic)
//   apns_key              APNS_KEY               the .p8 key, PEM (in the env: the PEM or a file path)
//   apns_env              APNS_ENV               production (App Store and TestFlight builds; default) or sandbox (Xcode builds)
// Environment only, for emulators and tests, never from a shop's settings (a shop must
// not be able to point the server at an arbitrary URL): FCM_TOKEN_URI, FCM_ENDPOINT,
// APNS_ENDPOINT.
//
// A platform is configured from the settings when they hold any of its keys, else from
// the environment: never half of one and half of the other, so one shop's key is never
// paired with another's ids.
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { LoyaltyError } from '../errors.js';
import { fcmProvider, GOOGLE_TOKEN_URL, FCM_ENDPOINT } from './fcm.js';
import { apnsProvider } from './apns.js';

const FCM_KEYS = { projectId: ['fcm_project_id', 'FCM_PROJECT_ID'], serviceAccount: ['fcm_service_account', 'FCM_SERVICE_ACCOUNT'] };
const APNS_KEYS = {
  keyId: ['apns_key_id', 'APNS_KEY_ID'], teamId: ['apns_team_id', 'APNS_TEAM_ID'], bundleId: ['apns_bundle_id', 'APNS_BUNDLE_ID'],
  key: ['apns_key', 'APNS_KEY'], env: ['apns_env', 'APNS_ENV'],
};

/** The settings that are secrets, to seal at rest (js/shops/crypto.js) and unseal before pushConfig. */
export const PUSH_SECRETS = ['fcm_service_account', 'apns_key'];

const present = (v) => v !== undefined && v !== null && v !== '';
const fail = (path, message) => { throw new LoyaltyError('config', path, message); };

/** From settings when any of the platform's keys is there, else from env: {value(field), path(field), fromEnv}. */
function source(keys, settings, env) {
  const fromSettings = Object.values(keys).some(([s]) => present(settings[s]));
  const pick = fromSettings ? 0 : 1;
  const bag = fromSettings ? settings : env;
  return { fromEnv: !fromSettings, value: (f) => (present(bag[keys[f][pick]]) ? bag[keys[f][pick]] : null), path: (f) => keys[f][pick] };
}

// In the environment a secret may be given inline or as a file path (a mounted secret).
// Never for a shop's settings: a setting must not make the server read one of its files.
function inlineOrFile(value, path, looksInline) {
  if (typeof value !== 'string' || looksInline(value)) return value;
  try { return readFileSync(value, 'utf8'); } catch (err) { return fail(path, `is neither inline nor a readable file: ${err.code ?? err.message}`); }
}

function serviceAccountOf(raw, path) {
  let sa = raw;
  if (typeof raw === 'string') {
    try { sa = JSON.parse(raw); } catch { fail(path, 'is not valid JSON (expected the service account key file Firebase gives)'); }
  }
  if (!sa || typeof sa !== 'object') fail(path, 'must be the service account key JSON');
  if (sa.type && sa.type !== 'service_account') fail(`${path}.type`, `is ${sa.type}, expected service_account`);
  if (!present(sa.client_email)) fail(`${path}.client_email`, 'is required');
  if (!present(sa.private_key)) fail(`${path}.private_key`, 'is required');
  try { createPrivateKey(sa.private_key); } catch { fail(`${path}.private_key`, 'is not a PEM private key'); }
  return { client_email: sa.client_email, private_key: sa.private_key, private_key_id: sa.private_key_id ?? undefined, project_id: sa.project_id ?? undefined };
}

function fcmConfig(settings, env) {
  const src = source(FCM_KEYS, settings, env);
  let raw = src.value('serviceAccount');
  const projectId = src.value('projectId');
  if (!raw && !projectId) return null;
  if (!raw) fail(src.path('serviceAccount'), `is required with ${src.path('projectId')}`);
  if (src.fromEnv) raw = inlineOrFile(raw, src.path('serviceAccount'), (v) => v.trimStart().startsWith('{'));
  const serviceAccount = serviceAccountOf(raw, src.path('serviceAccount'));
  const project = projectId ?? serviceAccount.project_id;
  if (!project) fail(src.path('projectId'), 'is required (the service account names no project_id)');
  if (!/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/.test(project)) fail(src.path('projectId'), `is not a Firebase project id: ${project}`);
  return { projectId: project, serviceAccount, tokenUri: env.FCM_TOKEN_URI || GOOGLE_TOKEN_URL, endpoint: env.FCM_ENDPOINT || FCM_ENDPOINT };
}

function apnsConfig(settings, env) {
  const src = source(APNS_KEYS, settings, env);
  const [keyId, teamId, bundleId] = ['keyId', 'teamId', 'bundleId'].map((f) => src.value(f));
  let key = src.value('key');
  if (!keyId && !teamId && !bundleId && !key) return null;
  for (const f of ['keyId', 'teamId', 'bundleId', 'key']) if (!src.value(f)) fail(src.path(f), 'is required for APNs');
  if (!/^[A-Z0-9]{10}$/.test(keyId)) fail(src.path('keyId'), 'must be the 10-character key id of the .p8 key');
  if (!/^[A-Z0-9]{10}$/.test(teamId)) fail(src.path('teamId'), 'must be the 10-character Apple team id');
  if (!/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(bundleId)) fail(src.path('bundleId'), `is not a bundle id: ${bundleId}`);
  if (src.fromEnv) key = inlineOrFile(key, src.path('key'), (v) => v.includes('-----BEGIN'));
  let k;
  try { k = createPrivateKey(key); } catch { fail(src.path('key'), 'is not a PEM private key (the .p8 file)'); }
  if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') fail(src.path('key'), 'must be an APNs auth key: EC P-256 (.p8)');
  const mode = src.value('env') ?? 'production';
  if (mode !== 'production' && mode !== 'sandbox') fail(src.path('env'), `must be sandbox or production, not ${mode}`);
  return { keyId, teamId, bundleId, key, production: mode === 'production', endpoint: env.APNS_ENDPOINT || null };
}

/**
 * The push settings of one shop: {fcm: {...} | null, apns: {...} | null}. `settings` are
 * the shop's plain (already unsealed) settings; `env` the fallbacks. Throws a LoyaltyError
 * ('config', path of the setting) for an incomplete or malformed one.
 * @param {object} [settings]
 * @param {Record<string, string|undefined>} [env]
 */
export function pushConfig(settings = {}, env = process.env) {
  return { fcm: fcmConfig(settings ?? {}, env), apns: apnsConfig(settings ?? {}, env) };
}

/**
 * Providers for a pushConfig(): {fcm?, apns?}, to put beside the others given to
 * createDispatcher. `apns.ca` trusts a test server's certificate.
 */
export function pushProviders(config, { apnsCa } = {}) {
  const p = {};
  if (config?.fcm) p.fcm = fcmProvider(config.fcm);
  if (config?.apns) p.apns = apnsProvider({ ...config.apns, endpoint: config.apns.endpoint ?? undefined, ca: apnsCa });
  return p;
}
