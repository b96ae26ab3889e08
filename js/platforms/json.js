// Lossless JSON for webhook bodies. Platform IDs exceed 2^53 (Shopify's synthetic
// samples, future real IDs), so JSON.parse would silently round them.
import { parse, isInteger } from 'lossless-json';

/** An Error the server maps to 400: `code` is 'bad_payload', the message names the field. */
export function badPayload(field, problem) {
  const err = new Error(`${field}: ${problem}`);
  err.code = 'bad_payload';
  err.field = field;
  return err;
}

// Unsafe integers stay exact strings; everything else becomes a plain number.
// Money is never read from JSON numbers (adapters use the amount strings), so
// floats like WooCommerce `price` may stay lossy.
function parseNumber(text) {
  if (isInteger(text) && !Number.isSafeInteger(Number(text))) return text;
  return Number(text);
}

/** Parse a raw body (Buffer or string); throws bad_payload on malformed JSON. */
/**
 * The deepest nesting of arrays and objects in JSON text, counted without parsing: a body
 * nested thousands deep must be refused before any recursive reader overflows its stack.
 */
export function jsonDepth(text) {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** Deeper than any platform payload or canonical event nests. */
export const MAX_DEPTH = 64;

export function parseBody(raw) {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw ?? '');
  if (jsonDepth(text) > MAX_DEPTH) throw badPayload('body', `nested deeper than ${MAX_DEPTH} levels`);
  try {
    return parse(text, null, parseNumber);
  } catch (e) {
    throw badPayload('body', `invalid JSON (${e.message})`);
  }
}

/** An ID as a string: safe integers, exact big-integer strings, or non-empty strings. */
export function idString(value, field) {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && value !== '') return value;
  throw badPayload(field, value === undefined || value === null ? 'missing' : `not an id (${JSON.stringify(value)})`);
}

/** True for an ID string above 2^53: the only kind a lossy relay can have rounded. */
export function isUnsafeInteger(value) {
  return typeof value === 'string' && isInteger(value) && !Number.isSafeInteger(Number(value));
}
