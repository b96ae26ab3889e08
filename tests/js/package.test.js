// The package as users get it: `npm pack`, installed into an empty project, imported there,
// its bin run, and its TypeScript types checked by tsc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('the packed tarball installs, imports, runs its bin and type-checks', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'loyalty-pack-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root))[0];
  const files = packed.files.map((f) => f.path);
  for (const f of ['pkg/loyalty_engine_bg.wasm', 'pkg/loyalty_engine.js', 'js/index.js', 'js/index.d.ts', 'js/cli/loyalty.js', 'presets/seed.json']) {
    assert.ok(files.includes(f), `${f} must be in the tarball`);
  }
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('target/')), 'no sources or build leftovers');

  const app = join(dir, 'app');
  run('mkdir', ['-p', app], dir);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed.filename)], app);

  writeFileSync(join(app, 'main.js'), `
    import { createEngine } from 'loyalty-engine';
    import seed from 'loyalty-engine/presets/seed.json' with { type: 'json' };
    const e = createEngine(seed);
    const out = e.apply(null, { id: 'e1', type: 'order.placed', at: '2026-11-24T12:00:00+01:00', customer: 'c1',
      order: { id: 'o1', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '12.34' }] } });
    console.log(JSON.stringify(e.view(out.state)));`);
  const view = JSON.parse(run(process.execPath, ['main.js'], app));
  assert.equal(view.balance, 123);

  assert.match(run(join(app, 'node_modules/.bin/loyalty'), ['check', join(app, 'node_modules/loyalty-engine/presets/seed.json')], app), /^ok: program demo/);

  writeFileSync(join(app, 'typed.ts'), `
    import { createEngine, type Program, type LoyaltyEvent, type AccountView } from 'loyalty-engine';
    const program: Program = { id: 'p', currency: 'EUR', timezone: 'UTC', earn: { points_per_unit: '1' } };
    const event: LoyaltyEvent = { id: 'e', type: 'order.refunded', at: '2026-01-01T00:00:00Z', order_id: 'o', amount: '1.00' };
    const view: AccountView = createEngine(program).view(createEngine(program).apply(null, event).state);
    const n: number = view.balance;
    // @ts-expect-error points are numbers, not strings
    const bad: LoyaltyEvent = { id: 'x', type: 'points.adjusted', at: '', customer: 'c', points: '5', reason: 'r', by: 'b' };
    export { n, bad };`);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false }, files: ['typed.ts'] }));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  assert.ok(existsSync(tsc));
  run(process.execPath, [tsc, '-p', app], app);
});
