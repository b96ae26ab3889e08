// The program's time zone as a table of UTC-offset changes, read from the host's Intl data
// so the wasm needs no time-zone database (chrono-tz would add ~950 KB).
import { LoyaltyError } from './errors.js';

const FROM = Date.UTC(1970, 0, 1);
const TO = Date.UTC(2100, 0, 1);
const STEP = 14 * 86_400_000; // no zone changes its offset twice within two weeks
const cache = new Map();

function offsetReader(name) {
  let fmt;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
  } catch {
    throw new LoyaltyError('invalid_program', 'timezone', `unknown time zone "${name}"`);
  }
  // "GMT+05:30", "GMT-03:00", or "GMT" for zero; in seconds.
  return (ms) => {
    const text = fmt.formatToParts(ms).find((p) => p.type === 'timeZoneName').value;
    const m = /^GMT(?:([+-])(\d\d):(\d\d)(?::(\d\d))?)?$/.exec(text);
    if (!m || !m[1]) return 0;
    const s = (+m[2] * 60 + +m[3]) * 60 + +(m[4] ?? 0);
    return m[1] === '-' ? -s : s;
  };
}

/** `{name, offset, changes: [[utcSeconds, offsetSeconds], ...]}` for an IANA zone, or null for UTC. */
export function zoneTable(name) {
  if (name === 'UTC' || name === 'Etc/UTC') return null;
  if (typeof name !== 'string') return null; // the engine reports the type error with its path
  if (cache.has(name)) return cache.get(name);
  const offsetAt = offsetReader(name);
  const table = { name, offset: offsetAt(FROM), changes: [] };
  let prev = table.offset;
  for (let t = FROM; t < TO; t += STEP) {
    const next = offsetAt(t + STEP);
    if (next === prev) continue;
    // Bisect to the second the offset changed.
    let lo = t, hi = t + STEP;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (offsetAt(mid) === prev) lo = mid; else hi = mid;
    }
    table.changes.push([hi / 1000, next]);
    prev = next;
  }
  cache.set(name, table);
  return table;
}
