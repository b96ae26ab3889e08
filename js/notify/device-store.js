// Mobile app devices (FCM and APNs registration tokens) over the SQL stores' db adapter.
import { iso } from '../stores/values.js';

export const PLATFORMS = ['fcm', 'apns'];

// A customer with more devices than this keeps the most recently registered: an app that
// registers a fresh token at every install must not grow one customer's fan-out forever.
export const MAX_DEVICES = 20;

const deviceView = (r) => ({
  platform: r.platform, token: r.token, locale: r.locale ?? null, app: r.app ?? null,
  created_at: iso(r.created_at), updated_at: iso(r.updated_at),
});

/** The delivery record's target for a device: '<platform>:<token>' (never an https URL, so never a Web Push endpoint). */
export const deviceTarget = (d) => `${d.platform}:${d.token}`;

/** @param {{query: Function, transaction: Function}} db */
export function deviceStore(db) {
  return {
    /** The customer's devices, oldest registration first. */
    async devices(program, customer) {
      const { rows } = await db.query(
        'SELECT * FROM push_devices WHERE program = $1 AND customer = $2 ORDER BY created_at, platform, token', [program, customer]);
      return rows.map(deviceView);
    },

    /**
     * Registers (or refreshes) a device for a customer. A token registered to another
     * customer of the shop moves to this one: the phone is now signed in as them.
     */
    async addDevice(program, customer, { platform, token, locale = null, app = null }) {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(
          `INSERT INTO push_devices AS d (program, customer, platform, token, locale, app) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (program, platform, token) DO UPDATE SET
             customer = EXCLUDED.customer, locale = EXCLUDED.locale, app = EXCLUDED.app, updated_at = now(),
             created_at = CASE WHEN d.customer = EXCLUDED.customer THEN d.created_at ELSE now() END
           RETURNING *`,
          [program, customer, platform, token, locale, app]);
        await tx.query(
          `DELETE FROM push_devices WHERE program = $1 AND customer = $2 AND (platform, token) NOT IN (
             SELECT platform, token FROM push_devices WHERE program = $1 AND customer = $2
              ORDER BY updated_at DESC, created_at DESC LIMIT $3)`,
          [program, customer, MAX_DEVICES]);
        return deviceView(rows[0]);
      });
    },

    /** Removes the customer's device with this token (on any platform): true when one was removed. */
    async removeDevice(program, customer, token) {
      const { rows } = await db.query('DELETE FROM push_devices WHERE program = $1 AND customer = $2 AND token = $3 RETURNING 1', [program, customer, token]);
      return rows.length > 0;
    },

    /** Drops a token the push service reported invalid, whoever holds it now. */
    async dropToken(program, platform, token) {
      const { rows } = await db.query('DELETE FROM push_devices WHERE program = $1 AND platform = $2 AND token = $3 RETURNING 1', [program, platform, token]);
      return rows.length > 0;
    },
  };
}
