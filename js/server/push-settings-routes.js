// A shop's mobile app push settings (FCM project and service account, APNs key id, team,
// bundle, key, environment), kept with the shop's sealed secrets: the service account and
// the .p8 key never leave the server, and reading the settings shows only what is set.
import { pushConfig, PUSH_SECRETS } from '../notify/push-config.js';
import { bearerAuth } from './auth.js';
import { permit } from './admin-auth.js';
import { LoyaltyError } from '../errors.js';

const FIELDS = ['fcm_project_id', 'fcm_service_account', 'apns_key_id', 'apns_team_id', 'apns_bundle_id', 'apns_key', 'apns_env'];
const settingsSchema = {
  type: 'object', additionalProperties: false,
  properties: Object.fromEntries(FIELDS.map((f) => [f, { type: ['string', 'null'], maxLength: f.endsWith('account') || f === 'apns_key' ? 20000 : 200 }])),
};
const bearer = [{ bearer: [] }];

// What the admin may see: ids as they are, secrets only as "set".
const visible = (push = {}) => Object.fromEntries(FIELDS.filter((f) => push[f] != null).map((f) => [f, PUSH_SECRETS.includes(f) ? 'set' : push[f]]));

/**
 * GET and PUT /api/push-settings for the admin's shop.
 * @param {{registry: object, shopId: string, token: string, onChanged?: () => Promise<void>,
 *          record?: (request, action, target, details) => Promise<void>}} options
 *   `record`: the audit log (who changed which settings; never their values).
 */
export async function pushSettingsRoutes(app, { registry, shopId, token, auth, onChanged = async () => {}, record = async () => {} }) {
  // With the admin's sign-in (`auth`), the shop's settings are the owner's; a bare token is.
  app.addHook('onRequest', auth ?? bearerAuth(token));
  if (auth) app.addHook('preHandler', permit('program.write'));
  app.get('/api/push-settings', { schema: { summary: "The shop's app push settings (secrets shown as set)", security: bearer } }, async () => {
    const shop = await registry.get(shopId);
    return { settings: visible(shop?.secrets.push) };
  });
  app.put('/api/push-settings', { schema: { summary: "Set the shop's app push settings (null removes one)", security: bearer, body: settingsSchema } }, async (request) => {
    const shop = await registry.get(shopId);
    const push = { ...(shop.secrets.push ?? {}) };
    for (const [k, v] of Object.entries(request.body)) {
      if (v == null) delete push[k];
      else push[k] = v;
    }
    // Checked as the dispatcher will read them: a bad key or id is a 400 naming it.
    try {
      pushConfig(push, {});
    } catch (err) {
      if (err instanceof LoyaltyError) throw new LoyaltyError('invalid_request', err.path, err.message.replace(/^[^:]+: /, ''));
      throw err;
    }
    await registry.save({ platform: shop.platform, domain: shop.domain, status: shop.status, secrets: { push } });
    await record(request, 'push.settings', shopId, { settings: Object.keys(request.body) });
    await onChanged();
    return { settings: visible(push) };
  });
}
