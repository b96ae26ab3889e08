// Migration for the admin panel's KPIs and customer search (appended to schema.js's list).
// The KPI queries read only these indexes (index-only scans once vacuumed), never the
// jsonb payloads, so the dashboard stays fast at millions of ledger rows.
export const kpiMigration = `
  -- Window aggregates (earned, redeemed, expired per day; buyers; repeat buyers).
  CREATE INDEX entries_kpi ON entries (program, at) INCLUDE (type, points, customer, event_id);
  -- Outstanding points (liability) without reading the state column.
  CREATE INDEX accounts_kpi ON accounts (program) INCLUDE (balance, pending);
  -- Customer search by id prefix (LIKE 'abc%' needs pattern ops under any collation).
  CREATE INDEX accounts_search ON accounts (program, customer text_pattern_ops);
`;
