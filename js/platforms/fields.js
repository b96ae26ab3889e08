// Strict readers for payload fields shared by both adapters: each one either returns
// the value in canonical form or throws bad_payload naming the field.
import { badPayload } from './json.js';
import { scaleOf } from './amounts.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const NAIVE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

const missing = (value, otherwise) => (value == null ? 'missing' : otherwise);

export function ignored(reason) {
  return { kind: 'ignored', reason };
}

export function object(value, path) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badPayload(path, missing(value, 'not a JSON object'));
  return value;
}

export function list(value, path) {
  if (!Array.isArray(value)) throw badPayload(path, missing(value, 'not an array'));
  return value;
}

/** A decimal amount string, kept exactly as given. JSON numbers are refused. */
export function decimalString(value, path) {
  if (typeof value !== 'string') throw badPayload(path, missing(value, `not a decimal string (${JSON.stringify(value)})`));
  scaleOf(value, path); // validates the format
  return value;
}

export function count(value, path, min) {
  if (!Number.isSafeInteger(value) || value < min) {
    throw badPayload(path, missing(value, `expected an integer >= ${min}, got ${JSON.stringify(value)}`));
  }
  return value;
}

/** RFC 3339 with offset, as Shopify sends it. */
export function time(value, path) {
  if (typeof value !== 'string' || !RFC3339.test(value)) throw badPayload(path, missing(value, `not RFC 3339 with offset (${value})`));
  return value;
}

/** WooCommerce *_gmt fields are UTC without a designator: append 'Z'. */
export function gmtTime(value, path) {
  if (typeof value === 'string' && NAIVE.test(value)) return `${value}Z`;
  return time(value, path);
}

export function currency(value, path = 'currency') {
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value)) throw badPayload(path, missing(value, `not an ISO 4217 code (${value})`));
  return value;
}
