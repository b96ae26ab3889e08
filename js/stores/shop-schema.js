// Shops, durable webhook deliveries, parked events, data exports and the store sync state
// of coupons: migrations appended to js/stores/schema.js's list (never edited once shipped).
export const shopMigrations = [
  `
  -- A store on a platform. Its id is the ledger's program key: every row of the shop's
  -- ledger carries it, and nothing crosses shops. Secrets (Admin API token, REST keys,
  -- webhook secrets, the customer-token secret) are one AES-256-GCM sealed JSON value.
  CREATE TABLE shops (
    id             text        PRIMARY KEY,
    platform       text        NOT NULL,               -- shopify | woocommerce
    domain         text        NOT NULL,               -- x.myshopify.com | https://shop.example
    status         text        NOT NULL,               -- installed | uninstalled
    program        jsonb       NOT NULL,
    settings       jsonb       NOT NULL DEFAULT '{}',  -- currency, timezone, decimals, combinability ...
    secrets        text,                               -- sealed
    scope          text,
    installed_at   timestamptz,
    uninstalled_at timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, domain)
  );

  -- Every webhook delivery id seen, per shop: a redelivery after a restart is still known.
  CREATE TABLE webhook_deliveries (
    program     text        NOT NULL,
    delivery_id text        NOT NULL,
    topic       text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, delivery_id)
  );

  -- Refunds and cancellations that arrived before their order: applied right after it.
  CREATE TABLE parked_events (
    program   text        NOT NULL,
    event_id  text        NOT NULL,
    order_id  text        NOT NULL,
    seq       bigserial   NOT NULL,
    body      jsonb       NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program, event_id)
  );
  CREATE INDEX parked_events_order ON parked_events (program, order_id, seq);

  -- A customer's data export (customers/data_request), kept for the merchant to fetch:
  -- never sent in a webhook's response.
  CREATE TABLE data_exports (
    id         bigserial   PRIMARY KEY,
    program    text        NOT NULL,
    customer   text        NOT NULL,
    source     text        NOT NULL,
    data       jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX data_exports_program ON data_exports (program, id);

  -- The coupon's twin in the store: its id there and whether it is in sync.
  ALTER TABLE coupons ADD COLUMN store_id text;
  ALTER TABLE coupons ADD COLUMN sync_status text;   -- pending | synced | deactivated | failed | off
  ALTER TABLE coupons ADD COLUMN sync_error text;
  ALTER TABLE coupons ADD COLUMN synced_at timestamptz;

  -- The platform's marketing consent (Shopify email_marketing_consent, Woo newsletter).
  ALTER TABLE notify_contacts ADD COLUMN marketing boolean;
  `,
];
