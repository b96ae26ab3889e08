// `npm run bench`, simulate: 1,000,000 events of a synthetic two-year history replayed under
// the seed program and a variant (two worker threads), against two baselines measured in the
// same run: one program alone through the wasm, and natively (the same Simulation in Rust).
// SIMULATE_EVENTS sets another size.
import { existsSync, writeFileSync, readFileSync, mkdirSync, renameSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { simulate, zoneTable } from '../../js/index.js';
import { writeHistory } from './history.js';

const root = new URL('../../', import.meta.url).pathname;
const count = Number(process.env.SIMULATE_EVENTS ?? 1_000_000);
mkdirSync(`${root}target/bench`, { recursive: true });
const events = `${root}target/bench/history-${count}-seed1.jsonl`;
if (!existsSync(events)) {
  // Deterministic for its name, so it is written once and kept.
  await writeHistory(`${events}.part`, { count, seed: 1 });
  renameSync(`${events}.part`, events);
}
const seed = readFileSync(`${root}presets/seed.json`, 'utf8');
const variant = readFileSync(`${root}tests/bench/variant.json`, 'utf8');

const time = async (fn) => {
  const t = performance.now();
  const out = await fn();
  return { seconds: (performance.now() - t) / 1000, out };
};

// Native: the same Simulation, compiled for this machine, fed the file in 1 MB chunks.
const zone = `${root}target/bench/zone-oslo.json`;
writeFileSync(zone, JSON.stringify(zoneTable(JSON.parse(seed).timezone)));
execFileSync('cargo', ['build', '--quiet', '--profile', 'bench-native', '--example', 'bench_native'], { cwd: root, stdio: 'inherit' });
const native = JSON.parse(execFileSync(`${root}target/bench-native/examples/bench_native`, ['simulate', `${root}presets/seed.json`, zone, events], { encoding: 'utf8' }));

const one = await time(() => simulate({ program: seed, events, secret: 'bench' }));
const two = await time(() => simulate({ program: seed, vs: variant, events, secret: 'bench' }));
if (two.out.program.points.issued !== one.out.program.points.issued) throw new Error('the two runs of the seed program disagree');
for (const n of [native.events, one.out.program.events, two.out.program.events, two.out.vs.events]) {
  if (n !== count) throw new Error(`a run read ${n} events of ${count}`);
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const rows = [
  ['native Simulation, seed program (baseline)', native.seconds, '1.00x'],
  ['wasm simulate, seed program alone (1 worker)', one.seconds, `${(one.seconds / native.seconds).toFixed(2)}x native time`],
  ['wasm simulate, seed vs variant (2 workers)', two.seconds, `${(two.seconds / native.seconds).toFixed(2)}x native one program, ${(two.seconds / one.seconds).toFixed(2)}x wasm one program`],
];
console.log(`\nloyalty-engine simulate bench: ${fmt(count)} events (${fmt(two.out.program.customers)} customers, two years), seed program vs variant\n`);
for (const [a, s, c] of rows) console.log(`${a.padEnd(46)}  ${`${s.toFixed(2)} s, ${fmt(count / s)} events/s`.padEnd(32)} ${c}`);
console.log(`${'target: 1,000,000 events under two programs'.padEnd(46)}  ${'15.00 s'.padEnd(32)} ${(two.seconds * (1_000_000 / count) / 15).toFixed(2)}x the target`);
