// The one error a store-sync client throws (Shopify, WooCommerce), shaped as
// /work/shared-notes/CONTRACT.md says, so the outbox worker decides retry vs dead letter
// from data, never from message text:
//   code        the platform's own code ('THROTTLED', 'woocommerce_rest_...', 'NETWORK', ...)
//   status      HTTP status, or null when no response arrived
//   retryAfterMs  how long the platform asked us to wait (only on retryable errors)
//   permanent   true when retrying the same call cannot succeed (userErrors, bad token)
//   details     the platform's own payload (userErrors, body) for the dead letter
import { LoyaltyError } from '../errors.js';

export class StoreApiError extends Error {
  constructor(message, { code, status = null, retryAfterMs, permanent = false, details = null, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'StoreApiError';
    this.code = code ?? 'STORE_API_ERROR';
    this.status = status;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
    this.permanent = permanent;
    this.details = details;
  }
}

/**
 * Input a store-sync client refuses before calling the store (a coupon term the platform
 * cannot take, a missing email, an unknown time zone): permanent, since no retry mends it,
 * with the field in the message and in `details.field`, so the dead letter names it.
 * @example throw inputError('coupon.value', 'not a decimal string (12,5)');
 */
export function inputError(field, problem) {
  return new StoreApiError(`${field}: ${problem}`, { code: 'invalid_input', permanent: true, details: { field } });
}

/**
 * A store's error as a person reads it, the same from the CLI and from the admin API: a
 * LoyaltyError (code, path, the store's own words with the key masked) whose `statusCode`
 * the HTTP error handler answers with. A key the store refused is the merchant's to fix (400
 * `store_refused` at `key`); input refused before the call names its field (400
 * `invalid_request`); a store that fails or does not answer is a bad gateway (502
 * `store_error` at `url`).
 * @example catch (err) { if (err instanceof StoreApiError) throw storeFailure(err); throw err; }
 */
export function storeFailure(err) {
  const field = err.code === 'invalid_input' ? err.details?.field : undefined;
  const refused = err.status === 401 || err.status === 403;
  const [statusCode, code, path] = field ? [400, 'invalid_request', field] : refused ? [400, 'store_refused', 'key'] : [502, 'store_error', 'url'];
  const message = field && err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
  return Object.assign(new LoyaltyError(code, path, message), { statusCode });
}
