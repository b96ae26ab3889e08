// Migration for the admin's customer list on large shops (never edited once shipped).
// Search by email prefix (case-insensitive) or name, and keyset pages sorted by balance or
// by last activity, each answered from an index instead of a scan of every account.
export const adminSearchMigration = `
  -- customer last: ties (several customers named alike) come out of the index in page order.
  CREATE INDEX notify_contacts_email_prefix ON notify_contacts (program, lower(email) text_pattern_ops, customer);
  CREATE INDEX notify_contacts_name_prefix ON notify_contacts (program, lower(name) text_pattern_ops, customer);
  CREATE INDEX accounts_by_balance ON accounts (program, balance DESC, customer);
  CREATE INDEX accounts_by_activity ON accounts (program, updated_at DESC, customer);
`;
