// HMAC-SHA256 webhook signatures (Shopify and WooCommerce use the same scheme:
// base64 of the HMAC over the RAW body bytes; re-serialised JSON never verifies).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** One header value from a lower-cased header object (Node gives arrays for repeats). */
export function headerValue(headers, name) {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/**
 * True when `signature` (base64) matches the body under any of `secrets`
 * (current first, previous ones during a rotation). Every secret is tried, so the
 * time taken does not reveal which one matched.
 */
export function verifyHmac(rawBody, signature, secrets) {
  const given = Array.isArray(signature) ? signature[0] : signature;
  if (typeof given !== 'string' || given === '') return false;
  const body = Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(String(rawBody ?? ''), 'utf8');
  const givenBytes = Buffer.from(given.trim(), 'utf8');
  let ok = false;
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('base64'), 'utf8');
    // Length is public (always 44 for SHA-256); only equal lengths reach the constant-time compare.
    if (expected.length === givenBytes.length && timingSafeEqual(expected, givenBytes)) ok = true;
  }
  return ok;
}

/**
 * WordPress wp_specialchars_decode($secret, ENT_QUOTES): WooCommerce stores the webhook
 * secret HTML-escaped and signs with the decoded form, so a secret typed as `a&b`
 * is used as-is while `a&amp;b` copied from the database must become `a&b`.
 * Hex forms exist only for & " ' (as in WordPress). Single pass, like PHP's strtr: '&amp;lt;' decodes to '&lt;', not '<'.
 */
const ENTITY = /&(?:(lt|gt|amp|quot)|#0*(60|62|38|34|39)|#[xX]0*(26|22|27));/g;
const NAMED = { lt: '<', gt: '>', amp: '&', quot: '"' };
export function wpSpecialcharsDecode(text) {
  return String(text).replace(ENTITY, (_, name, dec, hex) =>
    name ? NAMED[name] : String.fromCharCode(dec ? Number(dec) : parseInt(hex, 16)));
}

/** Normalise a secrets option: a non-empty array of strings, current first. */
export function secretList(secrets, decode = (s) => s) {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string')) {
    throw new TypeError('secrets: expected a non-empty array of strings (current secret first)');
  }
  return list.map(decode);
}
