// A coupon's amounts as both store clients send them (Shopify, WooCommerce): a decimal string
// in the currency with exactly its decimals, never a float. Bad input is a StoreApiError
// naming the field (inputError), the same from either platform.
import { inputError } from './store-error.js';
import { fromUnits, toUnits } from './amounts.js';

export const DECIMAL = /^\d+(\.\d+)?$/;

/** "10" or "10.5" in the currency -> "10.00" (amounts.js, the one money parser); more decimals than the currency has is refused. */
export function amountDecimal(value, exponent, field) {
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw inputError(field, `not a non-negative decimal string (${JSON.stringify(value)})`);
  try {
    return fromUnits(toUnits(value, exponent, field), exponent);
  } catch (err) {
    if (err.code === 'bad_payload') throw inputError(field, `more than ${exponent} decimals for this currency (${value})`);
    throw err;
  }
}

// min_order arrives two ways: CONTRACT.md says integer minor units (a JS number, 10000),
// the engine's effect today carries a decimal string in the currency ("100.00", JPY "14090").
// A number is minor units, a string is an amount: never ambiguous, never a float.
export function minimumDecimal(value, exponent, field) {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw inputError(field, `expected non-negative integer minor units (${value})`);
    return fromUnits(BigInt(value), exponent);
  }
  return amountDecimal(value, exponent, field);
}
