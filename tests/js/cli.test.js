// The `loyalty` command as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const loyalty = (...args) => spawnSync(process.execPath, [join(root, 'js/cli/loyalty.js'), ...args], { cwd: root, encoding: 'utf8' });

test('replay prints the seed scenario exactly as the shared expected file says', () => {
  const r = loyalty('replay', '--program', 'presets/seed.json', '--events', 'tests/scenarios/seed.jsonl', '--secret', 'demo-secret');
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  const expected = JSON.parse(readFileSync(join(root, 'tests/scenarios/seed.expected.json'), 'utf8'));
  assert.deepEqual(got, expected);
  assert.equal(got.customers.c1.balance, 2654);
  assert.equal(got.customers.c1.next_expiry.at, '2027-12-20T23:59:59.999+01:00');
  assert.deepEqual(got.effects.filter((e) => e.trigger === 'points_expiring').map((e) => [e.customer, e.data.points]), [['c3', 199], ['c1', 2654]]);
});

test('check accepts the seed program and names the path of an error', () => {
  let r = loyalty('check', 'presets/seed.json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: program demo \(EUR, Europe\/Oslo, 1 rewards\)/);
  const dir = mkdtempSync(join(tmpdir(), 'loyalty-'));
  const bad = JSON.parse(readFileSync(join(root, 'presets/seed.json'), 'utf8'));
  bad.expiry.warn_before[2] = 'two weeks';
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
  r = loyalty('check', join(dir, 'bad.json'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid_program: expiry\.warn_before\[2\]: "two weeks" is not an ISO 8601 duration/);
});

test('bad event lines and bad usage fail clearly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loyalty-'));
  writeFileSync(join(dir, 'e.jsonl'), '{"id":"a","type":"clock.tick","at":"2026-01-01T00:00:00Z"}\n{oops\n');
  let r = loyalty('replay', '--program', 'presets/seed.json', '--events', join(dir, 'e.jsonl'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /line 2: not JSON/);
  r = loyalty('frobnicate');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage:/);
});
