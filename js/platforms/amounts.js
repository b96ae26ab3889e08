// Exact decimal-string arithmetic on BigInt minor units. Floats never carry money.
// A result keeps the largest number of decimals among its operands, so "14090" stays
// "14090" (JPY) and "3.20" + "5.00" is "8.20".
import { badPayload } from './json.js';

const DECIMAL = /^-?\d+(\.\d+)?$/;

function parts(amount, field) {
  if (typeof amount !== 'string' || !DECIMAL.test(amount)) {
    throw badPayload(field, `not a decimal string (${JSON.stringify(amount)})`);
  }
  const [int, frac = ''] = amount.split('.');
  // BigInt('-1' + '50') is -150n: the sign carries over to the fraction digits.
  return { units: BigInt(int + frac), scale: frac.length };
}

/** Number of decimals an amount string carries. */
export function scaleOf(amount, field = 'amount') {
  return parts(amount, field).scale;
}

/** Minor units of `amount` at `scale` (which must be >= the amount's own decimals). */
export function toUnits(amount, scale, field = 'amount') {
  const p = parts(amount, field);
  if (p.scale > scale) throw badPayload(field, `more than ${scale} decimals (${amount})`);
  return p.units * 10n ** BigInt(scale - p.scale);
}

/** Format minor units back to a decimal string with `scale` decimals. */
export function fromUnits(units, scale) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const cut = digits.length - scale;
  const text = scale === 0 ? digits : `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${text}` : text;
}

/** Sum of amount strings; `minScale` sets the decimals of an empty or integral sum. */
export function sum(amounts, minScale = 0, field = 'amount') {
  const scale = Math.max(minScale, ...amounts.map((a) => scaleOf(a, field)));
  const total = amounts.reduce((acc, a) => acc + toUnits(a, scale, field), 0n);
  return fromUnits(total, scale);
}

/** a - b, exactly. */
export function subtract(a, b, field = 'amount') {
  const scale = Math.max(scaleOf(a, field), scaleOf(b, field));
  return fromUnits(toUnits(a, scale, field) - toUnits(b, scale, field), scale);
}

/** |a| as a string (WooCommerce refund totals arrive negative). */
export function abs(a, field = 'amount') {
  scaleOf(a, field);
  return a.startsWith('-') ? a.slice(1) : a;
}

/**
 * Split a line amount over `quantity` units at the amount's own decimals.
 * Returns the unit price rounded UP and `extra` = unit * quantity - amount (>= 0),
 * which the caller adds to the line's discount so the net line amount stays exact.
 */
export function splitUnitPrice(amount, quantity, scale, field = 'amount') {
  const units = toUnits(amount, scale, field);
  if (units < 0n) throw badPayload(field, `negative (${amount})`);
  const q = BigInt(quantity);
  const unit = (units + q - 1n) / q; // ceil for non-negative units
  return { unit_price: fromUnits(unit, scale), extra: fromUnits(unit * q - units, scale) };
}
