// Migration for versioned programs per shop (for the lead to append to js/stores/schema.js's
// list; never edited once shipped). A version is never changed: publishing or rolling back
// adds a row, so what applied to an event at any time can always be read back.
export const programVersionsMigration = `
  CREATE TABLE program_versions (
    shop       text        NOT NULL,
    version    integer     NOT NULL,   -- 1, 2, 3 ... per shop
    program    jsonb       NOT NULL,
    author     text        NOT NULL,
    note       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop, version)
  );
`;
