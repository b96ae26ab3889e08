// `loyalty_record`: writes everything one event did to one account, in one call, as a
// migration appended to js/stores/schema.js's list (never edited once shipped).
//
// With `p_version` null the caller holds the order lock and the account row (the locked
// path). With `p_version` set, the caller read the account and the order without locks,
// ran the engine, and asks to write only if nothing it read has changed since: the function
// takes the locks the locked path takes, in the same order, and returns false when the
// account's version or the order row (its xmin, `p_order_tag`; null for no row) moved.
// Each statement of a PL/pgSQL function takes a fresh snapshot (READ COMMITTED), so the
// checks see every commit made before the locks were granted. A repeated event id fails
// on the events primary key (23505) and writes nothing, as before.
export const recordFunction = `
CREATE FUNCTION loyalty_record(
  p_program text, p_event_id text, p_customer text, p_type text, p_at timestamptz,
  p_body jsonb, p_result jsonb, p_entries jsonb, p_outbox jsonb, p_order jsonb,
  p_state jsonb, p_balance bigint, p_pending bigint, p_tier text, p_next_due timestamptz,
  p_coupons jsonb, p_order_id text, p_version bigint, p_order_tag text
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  c jsonb;
BEGIN
  IF p_version IS NOT NULL THEN
    IF p_order_id IS NOT NULL THEN
      PERFORM pg_advisory_xact_lock(hashtextextended(p_program || '/' || p_order_id, 0)); -- orderLockSql in values.js
      IF (SELECT xmin::text FROM orders WHERE program = p_program AND order_id = p_order_id) IS DISTINCT FROM p_order_tag THEN
        RETURN false;
      END IF;
    END IF;
    PERFORM 1 FROM accounts WHERE program = p_program AND customer = p_customer AND version = p_version FOR UPDATE;
    IF NOT FOUND THEN
      RETURN false;
    END IF;
  END IF;

  WITH ev AS (
    INSERT INTO events (program, event_id, customer, type, at, body, result)
    VALUES (p_program, p_event_id, p_customer, p_type, p_at, p_body, p_result)
  ), en AS (
    INSERT INTO entries (program, id, customer, event_id, type, points, balance_after, at, data)
    SELECT p_program, e->>'id', p_customer, p_event_id, e->>'type', (e->>'points')::bigint, (e->>'balance_after')::bigint, (e->>'at')::timestamptz, e
      FROM jsonb_array_elements(p_entries) WITH ORDINALITY AS x(e, n) ORDER BY n
  ), ob AS (
    INSERT INTO outbox (program, key, event_id, customer, type, effect)
    SELECT p_program, f->>'key', p_event_id, f->>'customer', f->>'type', f->'effect'
      FROM jsonb_array_elements(p_outbox) WITH ORDINALITY AS x(f, n) ORDER BY n
  ), od AS (
    INSERT INTO orders (program, order_id, customer, record)
    SELECT p_program, p_order->>'id', p_order->>'customer', p_order WHERE p_order IS NOT NULL
    ON CONFLICT (program, order_id) DO UPDATE SET customer = EXCLUDED.customer, record = EXCLUDED.record, updated_at = now()
  )
  UPDATE accounts SET state = p_state, balance = p_balance, pending = p_pending, tier = p_tier, next_due = p_next_due,
         version = version + 1, updated_at = now()
   WHERE program = p_program AND customer = p_customer AND p_state IS NOT NULL;

  -- Coupons after the rest, in effect order: a code issued and used by one event must see its own row.
  FOR c IN SELECT value FROM jsonb_array_elements(p_coupons) LOOP
    IF c ? 'data' THEN
      INSERT INTO coupons (program, code, customer, reward, status, data)
      VALUES (p_program, c->>'code', c->>'customer', c->>'reward', c->>'status', c->'data');
    ELSE
      UPDATE coupons SET status = c->>'status', order_id = COALESCE(c->>'order_id', order_id), updated_at = now()
       WHERE program = p_program AND code = c->>'code';
    END IF;
  END LOOP;
  RETURN true;
END
$$`;
