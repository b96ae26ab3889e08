// Replays one history of canonical events (a JSONL file) under two programs at once, one
// worker thread each, and compares what they would have done: points issued, redeemed,
// expired, reversed, outstanding, rewards. Each worker streams the file itself into a wasm
// `Simulation`, which applies every event through the same `apply` as everything else.
import { Worker } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { LoyaltyError, fromWasm } from './errors.js';
import { zoneTable } from './zone.js';

function programText(program, path) {
  const text = typeof program === 'string' ? program : JSON.stringify(program);
  try {
    return { text, parsed: JSON.parse(text) };
  } catch (err) {
    throw new LoyaltyError('invalid_program', path, `not JSON: ${err.message}`);
  }
}

function run(text, parsed, events, secret, onProgress) {
  const zone = zoneTable(parsed?.timezone);
  const worker = new Worker(new URL('./simulate-worker.js', import.meta.url), {
    workerData: { program: text, zone: zone ? JSON.stringify(zone) : '', secret, events },
  });
  const done = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      if (m.progress) onProgress(m.progress);
      else if (m.report) resolve(JSON.parse(m.report));
      else if (m.error) reject(fromWasm(new Error(m.error)));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`simulation worker exited with code ${code}`)));
  });
  return { worker, done };
}

/**
 * Replays `events` (a JSONL file path) under `program` and, when given, `vs`, in parallel.
 * @param {{program: object|string, vs?: object|string, events: string, secret?: string,
 *          onProgress?: (p: {bytes: number, total: number, events: number}) => void}} options
 * @returns {Promise<{program: object, vs?: object}>} a report per program
 */
export async function simulate({ program, vs, events, secret = '', onProgress }) {
  let total;
  try {
    total = statSync(events).size;
  } catch (err) {
    throw new LoyaltyError('not_found', 'events', `cannot read ${events}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  const programs = { program: programText(program, 'program'), ...(vs == null ? {} : { vs: programText(vs, 'vs') }) };
  const names = Object.keys(programs);
  // Progress is the slower worker's: both read the same file.
  const seen = Object.fromEntries(names.map((n) => [n, { bytes: 0, events: 0 }]));
  const runs = names.map((n) => {
    const { text, parsed } = programs[n];
    return run(text, parsed, events, secret, (p) => {
      seen[n] = p;
      const slowest = names.reduce((a, b) => (seen[a].bytes <= seen[b].bytes ? a : b));
      onProgress?.({ ...seen[slowest], total });
    });
  });
  try {
    const reports = await Promise.all(runs.map((r, i) => r.done.catch((err) => {
      err.program = names[i]; // which of the two failed, for the caller to say so
      throw err;
    })));
    const out = {};
    names.forEach((n, i) => {
      const r = reports[i];
      out[n] = r;
    });
    return out;
  } finally {
    for (const r of runs) {
      r.worker.removeAllListeners('exit');
      await r.worker.terminate();
    }
  }
}
