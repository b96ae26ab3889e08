// The one SQL schema, for PGlite and PostgreSQL alike, as numbered migrations. A migration
// is never edited once shipped: changes are new entries at the end.
//
// Every table is keyed by `program` first, so several programs share a database and a
// deployment that outgrows one PostgreSQL can shard by (program, customer).
import { kpiMigration } from './kpi-schema.js';
import { notifyMigrations } from './notify-schema.js';
import { recordFunction } from './record-schema.js';
import { shopMigrations } from './shop-schema.js';
import { deviceMigrations } from './device-schema.js';
import { operatorMigration } from './operator-schema.js';
import { programVersionsMigration } from './program-versions-schema.js';
import { adminSearchMigration } from './admin-search-schema.js';

export const migrations = [
  // 1: the ledger.
  `
  -- One row per customer: the engine's state plus the columns queries need.
  CREATE TABLE accounts (
    program    text        NOT NULL,
    customer   text        NOT NULL,
    state      jsonb,                      -- NULL only inside the transaction creating it
    balance    bigint      NOT NULL DEFAULT 0,
    pending    bigint      NOT NULL DEFAULT 0,
    tier       text,
    next_due   timestamptz,                -- state.next_due: when a clock.tick has work
    version    bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, customer)
  );
  -- tick() finds due accounts by this index, never by scanning the ledger; customer
  -- completes the keyset (next_due, customer) tick pages by.
  CREATE INDEX accounts_due ON accounts (program, next_due, customer) WHERE next_due IS NOT NULL;

  -- Every event applied, raw, with its outcome: the idempotency key and the replay source.
  CREATE TABLE events (
    program    text        NOT NULL,
    event_id   text        NOT NULL,
    seq        bigserial   NOT NULL UNIQUE, -- application order, for rebuild
    customer   text,                        -- NULL when no account was found for it
    type       text        NOT NULL,
    at         timestamptz NOT NULL,
    body       jsonb       NOT NULL,
    result     jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, event_id)
  );

  -- Append-only ledger entries; seq orders a customer's history for keyset paging.
  CREATE TABLE entries (
    program       text        NOT NULL,
    id            text        NOT NULL,     -- "<event id>#<n>": stable across replays
    seq           bigserial   NOT NULL UNIQUE,
    customer      text        NOT NULL,
    event_id      text        NOT NULL,
    type          text        NOT NULL,
    points        bigint      NOT NULL,
    balance_after bigint      NOT NULL,
    at            timestamptz NOT NULL,
    data          jsonb       NOT NULL,
    PRIMARY KEY (program, id)
  );
  CREATE INDEX entries_history ON entries (program, customer, seq DESC);

  -- What the host must do after commit; a dispatcher marks rows delivered.
  CREATE TABLE outbox (
    id           bigserial   PRIMARY KEY,
    program      text        NOT NULL,
    key          text        NOT NULL,      -- notify effects carry a unique key; others get "<event>:<n>"
    event_id     text        NOT NULL,
    customer     text,
    type         text        NOT NULL,
    effect       jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempts     integer     NOT NULL DEFAULT 0,
    delivered_at timestamptz,
    UNIQUE (program, key)
  );
  CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL;

  -- Coupons by code, so checkout can look one up without knowing the customer.
  CREATE TABLE coupons (
    program    text        NOT NULL,
    code       text        NOT NULL,
    customer   text        NOT NULL,
    reward     text        NOT NULL,
    status     text        NOT NULL,      -- issued | used | expired | cancelled
    order_id   text,
    data       jsonb       NOT NULL,      -- the coupon as coupon.issued described it
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, code)
  );
  CREATE INDEX coupons_customer ON coupons (program, customer);

  -- The engine's per-order earn record, read back for refunds and cancellations.
  CREATE TABLE orders (
    program    text        NOT NULL,
    order_id   text        NOT NULL,
    customer   text        NOT NULL,
    record     jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, order_id)
  );
  `,
  // 2: indexes for the admin KPIs and customer search.
  kpiMigration,
  // 3: notifications (templates, contacts, push subscriptions, deliveries, outbox leases).
  ...notifyMigrations,
  // Everything one event did, written by one call (a list: a function body holds semicolons).
  [recordFunction],
  // Shops, webhook deliveries, parked events, data exports, coupons' store sync.
  ...shopMigrations,
  // Mobile app devices (FCM, APNs) for push.
  ...deviceMigrations,
  // Named operators, their sessions and the audit log.
  operatorMigration,
  // Program versions per shop (publish, rollback).
  programVersionsMigration,
  // The admin's customer list: email and name prefixes, sorts by balance and activity.
  adminSearchMigration,
];

// pg's extended protocol (and PGlite's query) takes one statement at a time. Our SQL has
// no semicolons inside statements, so splitting at line-final semicolons is enough; a
// migration given as a list is its statements already.
const statements = (sql) =>
  Array.isArray(sql) ? sql : sql
    .replace(/--.*$/gm, '')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its own
 * transaction. An advisory lock makes concurrent migrators (two servers starting at once)
 * take turns. Returns the versions applied.
 * @param {{query: Function, transaction: Function}} db
 */
export async function migrate(db) {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7415001)');
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied = [];
  for (let i = 0; i < migrations.length; i++) {
    const version = i + 1;
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(7415001)');
      const { rows } = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
      if (rows.length) return false;
      for (const s of statements(migrations[i])) await tx.query(s);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      return true;
    });
    if (done) applied.push(version);
  }
  return applied;
}
