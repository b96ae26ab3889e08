// Migration for named operators, their sessions and the audit log (for the lead to append
// to js/stores/schema.js's list; never edited once shipped: changes are new entries).
// Everything is keyed by `shop` first, like the ledger's tables by program.
export const operatorMigration = `
  -- People who run a shop's program from the admin. name is the login, unique per shop.
  -- password_hash is scrypt's, self-describing (scrypt$N$r$p$salt$hash), so the cost can
  -- be raised later without a migration.
  CREATE TABLE operators (
    shop          text        NOT NULL,
    name          text        NOT NULL,
    display_name  text,
    role          text        NOT NULL CHECK (role IN ('owner', 'staff', 'viewer')),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text,
    disabled_at   timestamptz,
    PRIMARY KEY (shop, name)
  );

  -- Sign-in sessions. Only the SHA-256 of the token is kept, so a copy of this table lets
  -- nobody in; expired rows are ignored and swept on login.
  CREATE TABLE operator_sessions (
    token_hash text        PRIMARY KEY,
    shop       text        NOT NULL,
    operator   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (shop, operator) REFERENCES operators (shop, name) ON DELETE CASCADE
  );
  CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);

  -- Who did what in the admin. Append-only; id orders the rows, so pages are keyset
  -- pages on (shop, id) and never skip or repeat a row while new ones arrive.
  CREATE TABLE audit_log (
    id       bigserial   PRIMARY KEY,
    shop     text        NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    operator text,
    action   text        NOT NULL,
    target   text,
    details  jsonb       NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_log_shop ON audit_log (shop, id DESC);
  -- Recent failed sign-ins per name, counted to slow down password guessing.
  CREATE INDEX audit_log_failed_logins ON audit_log (shop, target, at) WHERE action = 'operator.login_failed';
`;
