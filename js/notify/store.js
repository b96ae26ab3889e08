// The notification tables, over the SQL stores' db adapter ({query, transaction}).
import { int, iso, json } from '../stores/values.js';

const outboxView = (r) => ({
  id: int(r.id), program: r.program, key: r.key, type: r.type, customer: r.customer, event_id: r.event_id, status: r.status,
  attempts: int(r.attempts), last_error: r.last_error ?? null, created_at: iso(r.created_at),
  next_attempt_at: iso(r.next_attempt_at), delivered_at: iso(r.delivered_at), effect: r.effect,
});
const deliveryView = (r) => ({
  channel: r.channel, target: r.target || null, status: r.status, reason: r.reason ?? null, attempts: int(r.attempts),
  provider_id: r.provider_id ?? null, updated_at: iso(r.updated_at), delivered_at: iso(r.delivered_at),
});
const contactView = (r, customer) => ({
  customer, email: r?.email ?? null, phone: r?.phone ?? null, name: r?.name ?? null, locale: r?.locale ?? null,
  opt_out: r?.opt_out ?? [], marketing: r?.marketing ?? null,
});

/** @param {{query: Function, transaction: Function}} db */
export function notifyStore(db) {
  const one = async (sql, params) => (await db.query(sql, params)).rows[0] ?? null;
  const all = async (sql, params) => (await db.query(sql, params)).rows;
  const contact = async (program, customer) =>
    contactView(await one('SELECT * FROM notify_contacts WHERE program = $1 AND customer = $2', [program, customer]), customer);

  return {
    // --- contacts and opt-outs -------------------------------------------------------
    contact,

    /** Sets the given fields (undefined keeps the stored value, null clears it). */
    async putContact(program, customer, patch) {
      const has = (k) => (patch[k] !== undefined ? 1 : 0);
      // Every order carries its customer's contact: when nothing in it changed, the row is
      // left as it is (no write) and read back in the same statement.
      const r = await one(
        `WITH up AS (
           INSERT INTO notify_contacts AS c (program, customer, email, phone, name, locale, opt_out, marketing)
           VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7::jsonb, '[]'), $14)
           ON CONFLICT (program, customer) DO UPDATE SET
             marketing = CASE WHEN $13::int = 1 THEN EXCLUDED.marketing ELSE c.marketing END,
             email  = CASE WHEN $8::int = 1 THEN EXCLUDED.email  ELSE c.email  END,
             phone  = CASE WHEN $9::int = 1 THEN EXCLUDED.phone  ELSE c.phone  END,
             name   = CASE WHEN $10::int = 1 THEN EXCLUDED.name  ELSE c.name   END,
             locale = CASE WHEN $11::int = 1 THEN EXCLUDED.locale ELSE c.locale END,
             opt_out = CASE WHEN $12::int = 1 THEN EXCLUDED.opt_out ELSE c.opt_out END,
             updated_at = now()
           WHERE ($13::int = 1 AND c.marketing IS DISTINCT FROM EXCLUDED.marketing) OR ($8::int = 1 AND c.email IS DISTINCT FROM EXCLUDED.email)
              OR ($9::int = 1 AND c.phone IS DISTINCT FROM EXCLUDED.phone) OR ($10::int = 1 AND c.name IS DISTINCT FROM EXCLUDED.name)
              OR ($11::int = 1 AND c.locale IS DISTINCT FROM EXCLUDED.locale) OR ($12::int = 1 AND c.opt_out IS DISTINCT FROM EXCLUDED.opt_out)
           RETURNING *)
         SELECT * FROM up
         UNION ALL SELECT * FROM notify_contacts WHERE program = $1 AND customer = $2 AND NOT EXISTS (SELECT 1 FROM up)`,
        [program, customer, patch.email ?? null, patch.phone ?? null, patch.name ?? null, patch.locale ?? null, json(patch.opt_out ?? null),
          has('email'), has('phone'), has('name'), has('locale'), has('opt_out'), has('marketing'), patch.marketing ?? null],
      );
      // Two first writes at once: the loser's statement saw neither its own insert nor the
      // winner's row; a fresh read has it.
      return r ? contactView(r, customer) : contact(program, customer);
    },

    async setOptOut(program, customer, channel, out) {
      return db.transaction(async (tx) => {
        await tx.query(`INSERT INTO notify_contacts (program, customer) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [program, customer]);
        const { rows } = await tx.query('SELECT opt_out FROM notify_contacts WHERE program = $1 AND customer = $2 FOR UPDATE', [program, customer]);
        const set = new Set(rows[0].opt_out ?? []);
        if (out) set.add(channel); else set.delete(channel);
        const { rows: after } = await tx.query(
          'UPDATE notify_contacts SET opt_out = $3, updated_at = now() WHERE program = $1 AND customer = $2 RETURNING *',
          [program, customer, json([...set].sort())]);
        return contactView(after[0], customer);
      });
    },

    // --- push subscriptions ----------------------------------------------------------
    async subscriptions(program, customer) {
      const rows = await all('SELECT endpoint, keys FROM push_subscriptions WHERE program = $1 AND customer = $2 ORDER BY created_at, endpoint', [program, customer]);
      return rows.map((r) => ({ endpoint: r.endpoint, keys: r.keys }));
    },
    async addSubscription(program, customer, { endpoint, keys }) {
      await db.query(
        `INSERT INTO push_subscriptions (program, customer, endpoint, keys) VALUES ($1, $2, $3, $4)
         ON CONFLICT (program, customer, endpoint) DO UPDATE SET keys = EXCLUDED.keys`,
        [program, customer, endpoint, json(keys)]);
    },
    async removeSubscription(program, customer, endpoint) {
      const { rows } = await db.query('DELETE FROM push_subscriptions WHERE program = $1 AND customer = $2 AND endpoint = $3 RETURNING 1', [program, customer, endpoint]);
      return rows.length > 0;
    },

    // --- template overrides ----------------------------------------------------------
    async template(program, trigger, channel, locale) {
      const r = await one('SELECT fields, updated_at FROM notify_templates WHERE program = $1 AND trigger = $2 AND channel = $3 AND locale = $4',
        [program, trigger, channel, locale]);
      return r ? { fields: r.fields, updated_at: iso(r.updated_at) } : null;
    },
    async templates(program) {
      const rows = await all('SELECT trigger, channel, locale, fields, updated_at FROM notify_templates WHERE program = $1 ORDER BY trigger, channel, locale', [program]);
      return rows.map((r) => ({ trigger: r.trigger, channel: r.channel, locale: r.locale, fields: r.fields, updated_at: iso(r.updated_at) }));
    },
    async putTemplate(program, trigger, channel, locale, fields) {
      await db.query(
        `INSERT INTO notify_templates (program, trigger, channel, locale, fields) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (program, trigger, channel, locale) DO UPDATE SET fields = EXCLUDED.fields, updated_at = now()`,
        [program, trigger, channel, locale, json(fields)]);
    },
    async deleteTemplate(program, trigger, channel, locale) {
      const { rows } = await db.query('DELETE FROM notify_templates WHERE program = $1 AND trigger = $2 AND channel = $3 AND locale = $4 RETURNING 1',
        [program, trigger, channel, locale]);
      return rows.length > 0;
    },

    // --- the outbox ------------------------------------------------------------------
    /**
     * Claims up to `limit` due rows for `owner` until now + leaseMs. SKIP LOCKED makes
     * concurrent claimers take disjoint rows; an expired lease (a crashed dispatcher)
     * makes its rows claimable again. Each claim counts as an attempt.
     */
    async claim(program, owner, now, leaseMs, limit) {
      const rows = await all(
        `UPDATE outbox SET lease_owner = $2, lease_until = $3::timestamptz + make_interval(secs => $4::double precision / 1000),
                attempts = attempts + 1
          WHERE id IN (SELECT id FROM outbox
                        WHERE program = $1 AND status = 'pending' AND next_attempt_at <= $3
                          AND (lease_until IS NULL OR lease_until <= $3)
                        ORDER BY id LIMIT $5
                        FOR UPDATE SKIP LOCKED)
          RETURNING *, (SELECT e.at FROM events e WHERE e.program = outbox.program AND e.event_id = outbox.event_id) AS event_at`,
        [program, owner, iso(now), leaseMs, limit]);
      return rows.map((r) => ({ ...outboxView(r), event_at: iso(r.event_at) })).sort((a, b) => a.id - b.id);
    },

    /** Extends the lease if `owner` still holds it; false when it was lost. */
    async renew(id, owner, now, leaseMs) {
      const r = await one(
        `UPDATE outbox SET lease_until = $3::timestamptz + make_interval(secs => $4::double precision / 1000)
          WHERE id = $1 AND lease_owner = $2 AND status = 'pending' RETURNING id`,
        [id, owner, iso(now), leaseMs]);
      return r != null;
    },

    async deliveries(outboxId) {
      return (await all('SELECT * FROM notify_deliveries WHERE outbox_id = $1 ORDER BY channel, target', [outboxId])).map(deliveryView);
    },

    /** Records one channel's outcome; `attempt` counts a send attempt. */
    async markDelivery(row, channel, target, { status, reason = null, provider_id = null, attempt = false, now }) {
      await db.query(
        `INSERT INTO notify_deliveries AS d (outbox_id, channel, target, program, customer, status, reason, attempts, provider_id, updated_at, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $6 = 'sent' THEN $10::timestamptz END)
         ON CONFLICT (outbox_id, channel, target) DO UPDATE SET
           status = EXCLUDED.status, reason = EXCLUDED.reason, attempts = d.attempts + EXCLUDED.attempts,
           provider_id = COALESCE(EXCLUDED.provider_id, d.provider_id), updated_at = EXCLUDED.updated_at,
           delivered_at = COALESCE(d.delivered_at, EXCLUDED.delivered_at)`,
        [row.id, channel, target ?? '', row.program ?? null, row.customer, status, reason, attempt ? 1 : 0, provider_id, iso(now)]);
    },

    /** Ends a claim: delivered, dead, or pending again at next_attempt_at. */
    async finish(id, owner, { status, now, next_attempt_at = null, last_error = null }) {
      await db.query(
        `UPDATE outbox SET status = $3, lease_until = NULL, lease_owner = NULL, last_error = $5,
                delivered_at = CASE WHEN $3 = 'delivered' THEN $4::timestamptz ELSE delivered_at END,
                next_attempt_at = COALESCE($6::timestamptz, next_attempt_at)
          WHERE id = $1 AND lease_owner = $2`,
        [id, owner, status, iso(now), last_error, iso(next_attempt_at)]);
    },

    async row(program, id) {
      const r = await one('SELECT * FROM outbox WHERE program = $1 AND id = $2', [program, id]);
      return r ? { ...outboxView(r), deliveries: await this.deliveries(int(r.id)) } : null;
    },

    async deadLetters(program, { after = 0, limit = 50 } = {}) {
      const rows = await all(`SELECT * FROM outbox WHERE program = $1 AND status = 'dead' AND id > $2 ORDER BY id LIMIT $3`, [program, after, limit]);
      const out = [];
      for (const r of rows) out.push({ ...outboxView(r), deliveries: await this.deliveries(int(r.id)) });
      return out;
    },

    /** Puts a dead (or pending) row back in line now, with a fresh attempt count. */
    async retry(program, id, now) {
      const r = await one(
        `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $3, lease_until = NULL, lease_owner = NULL
          WHERE program = $1 AND id = $2 AND status IN ('dead', 'pending') RETURNING *`,
        [program, id, iso(now)]);
      return r ? outboxView(r) : null;
    },

    async counts(program) {
      const rows = await all(`SELECT status, count(*)::int AS n FROM outbox WHERE program = $1 GROUP BY status`, [program]);
      return Object.fromEntries(rows.map((r) => [r.status, int(r.n)]));
    },
  };
}
