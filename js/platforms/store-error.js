// One error for every call to a store's API (Shopify Admin, WooCommerce REST), so the
// outbox worker decides retry / dead letter from data, not from platform-specific shapes.
// Shape fixed by the integration contract: {message, code, status, retryAfterMs?, permanent, details}.

export class StoreApiError extends Error {
  /**
   * @param {string} message  what failed, naming the call and the field or key at fault
   * @param {{code: string, status?: number, retryAfterMs?: number, permanent?: boolean, details?: unknown}} info
   *   code: the platform's own ('woocommerce_rest_invalid_id', 'THROTTLED', ...);
   *   status: HTTP status (0 when no response arrived); details: the platform's error body.
   */
  constructor(message, { code, status = 0, retryAfterMs, permanent = false, details } = {}) {
    super(message);
    this.name = 'StoreApiError';
    this.code = code ?? 'unknown';
    this.status = status;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
    this.permanent = permanent;
    this.details = details;
  }
}

/**
 * Retry policy from an HTTP status: 429 and 5xx are transient (retry after `Retry-After`
 * or `fallbackMs`); other 4xx are permanent (the same request will fail the same way).
 */
export function retryPolicy(status, retryAfterHeader, fallbackMs = 30_000) {
  if (status === 429 || status >= 500 || status === 0) {
    return { permanent: false, retryAfterMs: parseRetryAfter(retryAfterHeader) ?? fallbackMs };
  }
  return { permanent: status >= 400 };
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value, now = Date.now()) {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
