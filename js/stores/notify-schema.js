// Notification tables and the outbox's delivery columns, as migrations appended to
// js/stores/schema.js's list (never edited once shipped: changes are new entries).
export const notifyMigrations = [
  // notifications.
  `
  -- Delivery state on the outbox: pending -> delivered | dead | expired (too old to send). A dispatcher claims a row by
  -- setting lease_until (FOR UPDATE SKIP LOCKED), so two dispatchers never take one row;
  -- a crashed dispatcher's lease runs out and another picks the row up.
  ALTER TABLE outbox ADD COLUMN status text NOT NULL DEFAULT 'pending';
  ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();
  ALTER TABLE outbox ADD COLUMN lease_until timestamptz;
  ALTER TABLE outbox ADD COLUMN lease_owner text;
  ALTER TABLE outbox ADD COLUMN last_error text;
  CREATE INDEX outbox_due ON outbox (program, next_attempt_at, id) WHERE status = 'pending';
  CREATE INDEX outbox_dead ON outbox (program, id) WHERE status = 'dead';

  -- One row per channel (and push subscription) of an outbox row: what was sent, skipped
  -- (opted out, no address) or failed. A channel marked sent is never sent again, so a
  -- crash between two channels resends neither.
  CREATE TABLE notify_deliveries (
    outbox_id    bigint      NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    channel      text        NOT NULL,
    target       text        NOT NULL DEFAULT '',  -- the push endpoint; '' otherwise
    program      text        NOT NULL,
    customer     text,
    status       text        NOT NULL,              -- sent | skipped | failed | gone
    reason       text,                              -- why skipped, or the last error
    attempts     integer     NOT NULL DEFAULT 0,
    provider_id  text,                              -- Message-ID, push location, ...
    updated_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (outbox_id, channel, target)
  );
  CREATE INDEX notify_deliveries_customer ON notify_deliveries (program, customer);

  -- Merchant overrides of the shipped templates; fields is {subject, html, text} etc.
  CREATE TABLE notify_templates (
    program    text        NOT NULL,
    trigger    text        NOT NULL,
    channel    text        NOT NULL,
    locale     text        NOT NULL,
    fields     jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, trigger, channel, locale)
  );

  -- Where and how to reach a customer, and the channels they opted out of.
  CREATE TABLE notify_contacts (
    program    text        NOT NULL,
    customer   text        NOT NULL,
    email      text,
    phone      text,
    name       text,
    locale     text,
    opt_out    jsonb       NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, customer)
  );

  -- Web Push subscriptions (PushSubscription.toJSON()), several per customer.
  CREATE TABLE push_subscriptions (
    program    text        NOT NULL,
    customer   text        NOT NULL,
    endpoint   text        NOT NULL,
    keys       jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, customer, endpoint)
  );
  `,
];
