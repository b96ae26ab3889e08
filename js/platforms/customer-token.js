// Short-lived customer tokens for the storefront routes (`Authorization: Bearer <token>`).
// The store signs one server-side for its logged-in customer (the WordPress plugin's
// includes/token.php), so the browser holds no secret and reaches only its own account.
//
// Format: base64url(JSON {"shop","customer","exp"}) "." base64url(HMAC-SHA256(secret, first part))
// exp in epoch seconds (PHP's time()). The MAC covers the encoded payload exactly as sent, so
// the verifier never re-serialises JSON (PHP and JS would escape differently).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LoyaltyError } from '../errors.js';

/** The longest lifetime accepted: a leaked token is useless within the hour. */
export const MAX_TOKEN_LIFETIME_MS = 60 * 60 * 1000;
const MIN_SECRET_LENGTH = 16;
const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * @param {{shop: string, customer: string, expiresAt: number}} claims  expiresAt in epoch ms
 * @param {string} secret  the shop's token secret (at least 16 characters)
 * @example signCustomerToken({ shop: 'shop-1', customer: '42', expiresAt: Date.now() + 15 * 60_000 }, secret)
 */
export function signCustomerToken({ shop, customer, expiresAt }, secret, { now = Date.now() } = {}) {
  checkSecret(secret, 'secret');
  if (typeof shop !== 'string' || shop === '') throw new LoyaltyError('bad_token', 'shop', 'expected a non-empty string');
  if (typeof customer !== 'string' || customer === '') throw new LoyaltyError('bad_token', 'customer', 'expected a non-empty string (IDs are strings)');
  if (!Number.isSafeInteger(expiresAt)) throw new LoyaltyError('bad_token', 'expiresAt', 'expected epoch milliseconds');
  if (expiresAt <= now) throw new LoyaltyError('bad_token', 'expiresAt', 'already past');
  if (expiresAt - now > MAX_TOKEN_LIFETIME_MS) throw new LoyaltyError('bad_token', 'expiresAt', 'more than 1 hour ahead');
  const payload = b64url(Buffer.from(JSON.stringify({ shop, customer, exp: Math.floor(expiresAt / 1000) }), 'utf8'));
  return `${payload}.${b64url(mac(payload, secret))}`;
}

/**
 * The claims of a valid token, or a LoyaltyError('bad_token') naming what is wrong.
 * `secretOrSecrets`: the current secret, or a list (current first) during a rotation; every
 * one is tried so the time taken does not tell which matched.
 * @returns {{shop: string, customer: string, expiresAt: number}}
 */
export function verifyCustomerToken(token, secretOrSecrets, { now = Date.now(), shop } = {}) {
  const secrets = typeof secretOrSecrets === 'string' ? [secretOrSecrets] : secretOrSecrets;
  if (!Array.isArray(secrets) || secrets.length === 0) throw new TypeError('secrets: expected a secret or a non-empty list of secrets');
  secrets.forEach((s, i) => checkSecret(s, `secrets[${i}]`));
  if (typeof token !== 'string' || token.length > 2048) throw bad('token', 'missing or too long');
  const parts = token.split('.');
  if (parts.length !== 2 || !B64URL.test(parts[0]) || !B64URL.test(parts[1])) throw bad('token', 'not of the form payload.signature (base64url)');
  const given = Buffer.from(parts[1], 'base64url');
  let ok = false;
  for (const secret of secrets) {
    const expected = mac(parts[0], secret);
    // Length is public (32 bytes); only equal lengths reach the constant-time compare.
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  if (!ok) throw bad('token', 'signature does not match');
  let claims;
  try {
    claims = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  } catch {
    throw bad('token', 'payload is not JSON');
  }
  if (typeof claims?.shop !== 'string' || claims.shop === '') throw bad('token.shop', 'missing');
  if (typeof claims.customer !== 'string' || claims.customer === '') throw bad('token.customer', 'missing (must be a string)');
  if (!Number.isSafeInteger(claims.exp)) throw bad('token.exp', 'missing');
  const expiresAt = claims.exp * 1000;
  if (expiresAt <= now) throw bad('token.exp', 'expired');
  // Bounded even when a signer set a far expiry: a long-lived token is a password in a page.
  if (expiresAt - now > MAX_TOKEN_LIFETIME_MS) throw bad('token.exp', 'lifetime over 1 hour');
  if (shop !== undefined && claims.shop !== shop) throw bad('token.shop', 'issued for another shop');
  return { shop: claims.shop, customer: claims.customer, expiresAt };
}

/**
 * The shop a token claims, NOT verified: only to choose which shop's secret to verify it with
 * (then verifyCustomerToken(token, thatShopsSecrets, { shop })). Null when unreadable.
 * @example const shop = tokenShop(bearer); const claims = verifyCustomerToken(bearer, secretsOf(shop), { shop });
 */
export function tokenShop(token) {
  if (typeof token !== 'string' || token.length > 2048) return null;
  const [payload] = token.split('.');
  if (!payload || !B64URL.test(payload)) return null;
  try {
    const shop = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))?.shop;
    return typeof shop === 'string' && shop !== '' ? shop : null;
  } catch {
    return null;
  }
}

function mac(payload, secret) {
  return createHmac('sha256', secret).update(payload, 'utf8').digest();
}

function b64url(buf) {
  return buf.toString('base64url');
}

function checkSecret(secret, path) {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new LoyaltyError('bad_token', path, `the token secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  }
}

function bad(path, message) {
  return new LoyaltyError('bad_token', path, message);
}
