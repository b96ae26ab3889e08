// Mobile app devices (FCM and APNs registration tokens), as a migration appended to
// js/stores/schema.js's list (never edited once shipped: changes are new entries).
//
// Per-device delivery records are rows of notify_deliveries (channel 'push', target
// '<platform>:<token>'), the table that already records each Web Push endpoint: one
// record per (outbox row, device), written right after the push service accepts, so
// a retry or a restarted dispatcher never sends a device the same notification twice,
// and the admin's outbox view and dead letters list devices beside web subscriptions.
export const deviceMigrations = [
  `
  -- A device belongs to one customer of one shop at a time: PK without the customer, so
  -- a phone that logs in as another customer moves to them instead of getting both
  -- customers' pushes. updated_at is the last registration (apps register at every
  -- launch), so stale tokens can be pruned.
  CREATE TABLE push_devices (
    program    text        NOT NULL,
    customer   text        NOT NULL,
    platform   text        NOT NULL CHECK (platform IN ('fcm', 'apns')),
    token      text        NOT NULL,
    locale     text,
    app        text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, platform, token)
  );
  CREATE INDEX push_devices_customer ON push_devices (program, customer);
  `,
];
