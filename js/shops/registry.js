// Shops: one backend, many stores. A shop's id is its ledger's program key; its program,
// settings and status live in `shops`, its secrets sealed (AES-256-GCM). `loyalty(shop)`
// gives the shop's durable engine, made once per program version and shared.
import { createHmac } from 'node:crypto';
import { createLoyalty } from '../loyalty.js';
import { seal, unseal } from './crypto.js';
import { LoyaltyError } from '../errors.js';
import { PROGRAM_CHANNEL, notifyShop } from '../stores/program-versions.js';

const row = (r) => r && {
  id: r.id, platform: r.platform, domain: r.domain, status: r.status, program: r.program, settings: r.settings ?? {},
  sealed: r.secrets, scope: r.scope ?? null, updated_at: r.updated_at instanceof Date ? r.updated_at.toISOString() : r.updated_at,
};

/** Shopify domains are case-insensitive; WooCommerce URLs lose a trailing slash. */
export const normalDomain = (platform, domain) => {
  const d = String(domain ?? '').trim();
  return platform === 'shopify' ? d.toLowerCase() : d.replace(/\/+$/, '');
};

/**
 * @param {{store: object, key?: Buffer, secret: string}} options
 *   `key`: the encryption key of sealed secrets; `secret`: the master coupon secret, from
 *   which each shop's code secret derives (codes of two shops never collide or reveal each other).
 */
export function createShops({ store, key, secret }) {
  const db = store.db;
  if (!db) throw new TypeError('shops need a SQL store (PGlite or PostgreSQL)');
  const engines = new Map(); // shop id -> {version, loyalty}

  const open = (shop) => {
    if (!shop?.sealed) return {};
    if (!key) throw new LoyaltyError('config', 'LOYALTY_ENCRYPTION_KEY', 'is required to read store credentials');
    return JSON.parse(unseal(key, shop.sealed, shop.id));
  };
  const withSecrets = (shop) => (shop ? { ...shop, secrets: open(shop) } : null);

  // Every webhook reads its shop. Rows are kept (secrets opened) until a change signal drops
  // them: each write to a shop's row, here or in another process, and each publish notifies
  // PROGRAM_CHANNEL with the shop's id. Until this process listens, and after its listening
  // connection is lost, every read goes to the table.
  const cached = new Map(); // shop id -> {shop, at}
  const ids = new Map(); // platform + domain -> shop id
  let listening = false;
  let signals = 0; // a read keeps its row only if no signal came while it ran
  const forget = (id) => {
    signals++;
    cached.delete(id);
    for (const [k, v] of ids) if (v === id) ids.delete(k);
  };
  const lost = () => {
    listening = false;
    signals++;
    cached.clear();
    ids.clear();
  };
  const stopListening = db.listen
    ? db.listen(PROGRAM_CHANNEL, forget, lost).then((stop) => { listening = true; return stop; }, () => null)
    : Promise.resolve(null);
  const read = async (sql, params) => {
    const before = signals;
    const heard = listening; // a read begun before LISTEN may have missed a signal
    const { rows } = await db.query(sql, params);
    const shop = withSecrets(row(rows[0]));
    if (shop && heard && listening && before === signals) {
      cached.set(shop.id, { shop, at: Date.now() });
      ids.set(`${shop.platform}\u0000${shop.domain}`, shop.id);
    }
    return shop;
  };
  const changed = async (id) => {
    forget(id);
    await notifyShop(db, id);
  };

  // A backstop for a signal lost without the connection saying so (a proxy that drops NOTIFY).
  const KEPT_MS = 30_000;
  const fresh = (id) => {
    const c = cached.get(id);
    return c && Date.now() - c.at < KEPT_MS ? c.shop : null;
  };
  const get = async (id) => fresh(id) ?? read('SELECT * FROM shops WHERE id = $1', [id]);

  async function byDomain(platform, domain) {
    const d = normalDomain(platform, domain);
    const id = ids.get(`${platform}\u0000${d}`);
    if (id !== undefined && fresh(id)) return fresh(id);
    return read('SELECT * FROM shops WHERE platform = $1 AND domain = $2', [platform, d]);
  }

  async function list() {
    const { rows } = await db.query('SELECT * FROM shops ORDER BY id');
    return rows.map((r) => { const s = row(r); delete s.sealed; return s; });
  }

  const refuse = () => { throw new LoyaltyError('config', 'LOYALTY_ENCRYPTION_KEY', 'is required to store credentials: they are kept encrypted'); };

  /**
   * Creates or updates a shop by (platform, domain). Secrets given are merged into the
   * sealed ones; `program` only replaces the stored one when given.
   */
  async function save({ id, platform, domain, program, settings, secrets, status = 'installed', scope }) {
    const d = normalDomain(platform, domain);
    const { rows } = await db.query('SELECT * FROM shops WHERE platform = $1 AND domain = $2', [platform, d]);
    const old = row(rows[0]);
    const shopId = old?.id ?? id ?? `${platform}:${d.replace(/^https?:\/\//, '')}`;
    const merged = { ...(old ? open(old) : {}), ...(secrets ?? {}) };
    const sealed = Object.keys(merged).length ? (key ? seal(key, JSON.stringify(merged), shopId) : refuse()) : null;
    const prog = program ?? old?.program;
    if (!prog) throw new LoyaltyError('invalid_request', 'program', 'a new shop needs a program');
    await db.query(
      `INSERT INTO shops (id, platform, domain, status, program, settings, secrets, scope, installed_at, uninstalled_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $4 = 'installed' THEN now() END, NULL, now())
       ON CONFLICT (id) DO UPDATE SET status = $4, program = $5, settings = $6, secrets = $7, scope = COALESCE($8, shops.scope),
         installed_at = CASE WHEN $4 = 'installed' AND shops.status <> 'installed' THEN now() ELSE shops.installed_at END,
         uninstalled_at = CASE WHEN $4 = 'installed' THEN NULL ELSE shops.uninstalled_at END, updated_at = now()`,
      [shopId, platform, d, status, JSON.stringify({ ...prog, id: shopId }), JSON.stringify({ ...(old?.settings ?? {}), ...(settings ?? {}) }), sealed, scope ?? null],
    );
    await changed(shopId);
    return get(shopId);
  }

  /** The shop's status alone (read before every call to its store). */
  async function status(id) {
    const { rows } = await db.query('SELECT status FROM shops WHERE id = $1', [id]);
    return rows[0]?.status ?? null;
  }

  async function setStatus(id, status) {
    await db.query(
      `UPDATE shops SET status = $2, updated_at = now(),
              uninstalled_at = CASE WHEN $2 = 'uninstalled' THEN now() ELSE uninstalled_at END WHERE id = $1`,
      [id, status],
    );
    await changed(id);
  }

  /** Removes the shop itself (after shop/redact erased its ledger). */
  const remove = async (id) => {
    await db.query('DELETE FROM shops WHERE id = $1', [id]);
    await changed(id);
  };

  /** The shop's own coupon secret: derived, so one master secret serves every shop. */
  const codeSecret = (id) => createHmac('sha256', secret).update(`shop:${id}`).digest('base64url');

  /** The durable engine of a shop's current program (made again when the program changes). */
  function loyalty(shop) {
    const version = shop.updated_at ?? '';
    const known = engines.get(shop.id);
    if (known && known.version === version) return known.loyalty;
    const program = { ...shop.program, id: shop.id };
    const made = createLoyalty({ program, store: { ...store, close: async () => {} }, secret: shop.settings?.legacy_secret ? secret : codeSecret(shop.id) });
    engines.set(shop.id, { version, loyalty: made });
    return made;
  }

  async function close() {
    await (await stopListening)?.();
    for (const { loyalty: l } of engines.values()) await l.close().catch(() => {});
    engines.clear();
  }

  return { get, byDomain, list, save, status, setStatus, remove, loyalty, codeSecret, close };
}
