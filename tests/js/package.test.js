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
  for (const f of ['pkg/loyalty_engine_bg.wasm', 'pkg/loyalty_engine.js', 'pkg/node/loyalty_engine_node_bg.wasm', 'pkg/node/loyalty_engine_node.js', 'js/index.js', 'js/index.d.ts', 'js/stores/pglite.d.ts', 'js/stores/postgres.d.ts', 'js/widget/index.d.ts', 'js/cli/loyalty.js', 'presets/seed.json',
    // The storefront bundle (built, not committed) that the backend serves at /widget/loyalty-widget.js.
    'js/platforms/shopify-theme/assets/loyalty-widget.js']) {
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

  // The declarations as a user meets them: createLoyalty over the memory and SQL stores. Every
  // @ts-expect-error must be an error, so types gone `any` fail the check.
  writeFileSync(join(app, 'typed.ts'), `
    import { createEngine, createLoyalty, openMemoryStore, LoyaltyError,
      type Program, type LoyaltyEvent, type AccountView, type Loyalty, type LoyaltyStore, type HistoryPage, type ImportSummary } from 'loyalty-engine';
    import { openPgliteStore } from 'loyalty-engine/stores/pglite';
    import { openPostgresStore } from 'loyalty-engine/stores/postgres';
    import type { LoyaltyBalance } from 'loyalty-engine/widget';
    const program: Program = { id: 'p', currency: 'EUR', timezone: 'UTC', earn: { points_per_unit: '1' } };
    const event: LoyaltyEvent = { id: 'e', type: 'order.refunded', at: '2026-01-01T00:00:00Z', order_id: 'o', amount: '1.00' };
    const view: AccountView = createEngine(program).view(createEngine(program).apply(null, event).state);
    const n: number = view.balance;
    // @ts-expect-error points are numbers, not strings
    const bad: LoyaltyEvent = { id: 'x', type: 'points.adjusted', at: '', customer: 'c', points: '5', reason: 'r', by: 'b' };

    async function durable(): Promise<number> {
      const memory = openMemoryStore();
      const loyalty: Loyalty = createLoyalty({ program, store: memory, secret: 's' });
      const placed = await loyalty.handle({ id: 'e1', type: 'order.placed', at: '2026-01-01T00:00:00Z', customer: 'c1',
        order: { id: 'o1', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '12.34' }] } });
      const balance: number = placed.balance;
      const refund = await loyalty.handle(event);
      if ('due' in refund) return refund.ticked;
      const who: string | null = refund.customer;
      // @ts-expect-error a refund's order may be unknown: no customer, no balance
      const refundBalance: number = refund.balance;
      const ticked: number = (await loyalty.handle({ id: 't', type: 'clock.tick', at: '2026-02-01T00:00:00Z' })).ticked;
      const adjusted = await loyalty.adjust('c1', { points: 10, reason: 'goodwill', by: 'staff', at: new Date() });
      // @ts-expect-error adjust needs a reason and who did it
      await loyalty.adjust('c1', { points: 10 });
      // @ts-expect-error points are numbers
      await loyalty.adjust('c1', { points: '10', reason: 'r', by: 's' });
      const quote = await loyalty.quote('c1', { at: '2026-01-02T00:00:00Z', currency: 'EUR', lines: [{ id: 'l1', quantity: 1, unit_price: '5.00' }] });
      const earns: number = quote.points;
      const account: AccountView | null = await loyalty.account('c1');
      // @ts-expect-error the account may not exist
      const tier: string | null = (await loyalty.account('c1')).tier;
      let cursor: string | null = null;
      do {
        const page: HistoryPage = await loyalty.history('c1', { cursor, limit: 10 });
        for (const e of page.entries) console.log(e.type, e.points, e.balance_after);
        cursor = page.next;
      } while (cursor);
      // @ts-expect-error limit is a number
      await loyalty.history('c1', { limit: '10' });
      const imported: ImportSummary = await loyalty.importMany([event, bad], { chunk: 500, onError: 'skip', onProgress: (done) => console.log(done) });
      // @ts-expect-error onError is 'stop' or 'skip'
      await loyalty.importMany([event], { onError: 'ignore' });
      if (imported.stopped) console.log(imported.stopped.index, imported.stopped.code);
      const many = await loyalty.handleMany([event]);
      for (const r of many) if ('error' in r) console.log(r.error.code);
      const tick = await loyalty.tick('2026-03-01T00:00:00Z', { batch: 50 });
      const report = await loyalty.rebuild();
      const diff: string[] = report.differences.flatMap((d) => d.fields);
      const redeemed = await loyalty.redeem('c1', { reward: 'r1' });
      const code = (await loyalty.coupon('LOY-X'))?.status;
      const r = await loyalty.redact('c1');
      const anon: string = r.anonymous;
      const data = await loyalty.dataRequest('c1');
      const erased: number = (await loyalty.redactShop()).accounts;
      try { await loyalty.account('c1'); } catch (err) { if (err instanceof LoyaltyError) console.log(err.code, err.path); }
      await loyalty.close();

      const pglite = await openPgliteStore({ dataDir: 'memory://', migrate: true });
      const store: LoyaltyStore = pglite;
      const rows = (await pglite.db.query('SELECT 1 AS one')).rows;
      // @ts-expect-error dataDir is a path
      await openPgliteStore({ dataDir: 42 });
      const onPg = createLoyalty({ program: JSON.stringify(program), store: await openPostgresStore({ connectionString: 'postgres://x', max: 2 }) });
      const el: LoyaltyBalance | null = null;
      return balance + earns + ticked + adjusted.balance + redeemed.balance + tick.ticked + imported.applied + erased + diff.length + rows.length
        + (account?.balance ?? 0) + (who ? 1 : 0) + refundBalance + (tier ? 1 : 0) + (code ? 1 : 0) + anon.length + data.entries.length
        + (store ? 1 : 0) + (onPg ? 1 : 0) + (el ? 1 : 0);
    }
    export { n, bad, durable };`);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false }, files: ['typed.ts'] }));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  assert.ok(existsSync(tsc));
  run(process.execPath, [tsc, '-p', app], app);
});
