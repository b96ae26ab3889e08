// One error shape for every route: {error: {code, path, message}}.
import { LoyaltyError } from '../errors.js';

export const httpError = (status, code, path, message) =>
  Object.assign(new Error(message), { statusCode: status, code, path });

/** Ajv's instancePath ("/lines/0/quantity") as the engine spells paths ("lines[0].quantity"). */
export function jsonPath(instancePath, extra) {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

function fromValidation(err) {
  const v = err.validation[0];
  const extra = v.params?.missingProperty ?? v.params?.additionalProperty;
  const path = jsonPath(v.instancePath ?? '', extra);
  const where = err.validationContext === 'body' ? '' : `${err.validationContext}: `;
  const what = v.keyword === 'additionalProperties' ? 'unknown field' : v.message;
  return { status: 400, code: 'invalid_request', path, message: `${where}${path || err.validationContext} ${what}` };
}

// Fastify's own client errors, renamed to stable codes.
const FASTIFY = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
};

function classify(err) {
  if (err.validation) return fromValidation(err);
  // A LoyaltyError is the caller's to fix (400, 404 for not_found) unless it says otherwise
  // (storeFailure: a store that does not answer is a 502).
  if (err instanceof LoyaltyError) return { status: err.statusCode ?? (err.code === 'not_found' ? 404 : 400), code: err.code, path: err.path, message: err.message };
  if (err.code === 'bad_payload') return { status: 400, code: 'bad_payload', path: err.field ?? '', message: err.message };
  if (err.statusCode >= 400 && err.statusCode < 500) {
    const code = FASTIFY[err.code] ?? (typeof err.code === 'string' && !err.code.startsWith('FST_') ? err.code : 'bad_request');
    return { status: err.statusCode, code, path: err.path ?? (code === 'invalid_json' ? 'body' : ''), message: err.message };
  }
  return null;
}

export function errorHandler(err, request, reply) {
  const known = classify(err);
  if (!known) {
    // Store or engine failure: 500, so a platform retries the delivery later.
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', path: '', message: 'internal error' } });
  }
  return reply.code(known.status).send({ error: { code: known.code, path: known.path ?? '', message: known.message } });
}
