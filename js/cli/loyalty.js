#!/usr/bin/env node
// The `loyalty` command: replay a history, check a program.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createEngine, replay, LoyaltyError } from '../index.js';

const USAGE = `usage:
  loyalty replay --program P.json --events E.jsonl [--secret S]
      replays events and prints {"customers": {id: account view}, "effects": [...]}
  loyalty check P.json
      validates a program and prints the first error with its JSON path`;

function readJsonl(path) {
  const events = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      events.push(JSON.parse(line));
    } catch (err) {
      throw new LoyaltyError('invalid_event', `line ${i + 1}`, `not JSON: ${err.message}`);
    }
  });
  return events;
}

function main(argv) {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { program: { type: 'string' }, events: { type: 'string' }, secret: { type: 'string' } },
    allowPositionals: true,
  });
  const secret = values.secret ?? process.env.LOYALTY_SECRET ?? '';
  switch (command) {
    case 'check': {
      const path = positionals[0] ?? values.program;
      if (!path) break;
      const engine = createEngine(readFileSync(path, 'utf8'), { secret });
      const p = engine.program;
      process.stdout.write(`ok: program ${p.id} (${p.currency}, ${p.timezone}, ${p.rewards?.length ?? 0} rewards)\n`);
      return 0;
    }
    case 'replay': {
      if (!values.program || !values.events) break;
      const engine = createEngine(readFileSync(values.program, 'utf8'), { secret });
      const { customers, effects } = replay(engine, readJsonl(values.events));
      process.stdout.write(JSON.stringify({ customers, effects }, null, 2) + '\n');
      return 0;
    }
  }
  process.stderr.write(USAGE + '\n');
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`loyalty: ${err instanceof LoyaltyError ? `${err.code}: ${err.message}` : err.stack}\n`);
  process.exitCode = 1;
}
