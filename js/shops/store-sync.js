// The `store` channel of the outbox: a coupon the engine issued becomes a discount code in
// the shop's own store, with exactly its terms; an expired or cancelled one is deactivated
// there. The platform clients look the code up before creating it, so a retry after a
// timeout or a crash never makes a second discount. Each outcome is written on the coupon
// row (its id in the store and its sync state), which the admin shows.
import { createShopifyAdmin, currencyExponent } from '../platforms/shopify-admin.js';
import { createWooRestClient } from '../platforms/woocommerce-rest.js';
import { notifyStore } from '../notify/store.js';
import { StoreApiError } from '../platforms/store-error.js';


/**
 * The store provider of one shop, for the dispatcher's `store` channel.
 * @param {{shop: object, db: object, shopify?: object, fetch?: typeof fetch, shopStatus?: () => Promise<string>}} options
 *   `shop`: the shop with its secrets opened; `shopify`: the app from createShopifyApp
 *   (Shopify shops); `shopStatus`: the shop's current status, read before every call.
 */
export function storeSyncProvider({ shop, db, shopify, fetch, shopStatus = async () => shop.status }) {
  const contacts = notifyStore(db);
  const currency = shop.program.currency;
  let client;
  const clientOf = () => {
    if (client) return client;
    const s = shop.secrets ?? {};
    if (shop.platform === 'shopify') {
      if (!shopify || !s.access_token) throw new StoreApiError(`${shop.id}: no Admin API access (install the app)`, { code: 'NOT_INSTALLED', permanent: true });
      client = createShopifyAdmin({ shopify, shop: shop.domain, accessToken: s.access_token });
    } else {
      if (!s.consumer_key || !s.consumer_secret) throw new StoreApiError(`${shop.id}: no REST API keys (loyalty connect woocommerce)`, { code: 'NOT_CONNECTED', permanent: true });
      // The REST address given at connection; the domain is the site's home (the webhooks' source).
      client = createWooRestClient({ url: shop.settings.url ?? shop.domain, key: s.consumer_key, secret: s.consumer_secret, fetch });
    }
    return client;
  };

  const mark = (code, fields) => db.query(
    `UPDATE coupons SET store_id = COALESCE($3, store_id), sync_status = $4, sync_error = $5, synced_at = now()
      WHERE program = $1 AND code = $2`,
    [shop.id, code, fields.store_id ?? null, fields.status, fields.error ?? null]);

  async function issued(effect) {
    const { coupon, customer } = effect;
    if (shop.platform === 'shopify') {
      return clientOf().ensureCoupon(coupon, { customer, currency, combinesWith: shop.settings.combines_with ?? {} });
    }
    // WooCommerce restricts a coupon to an email address: the customer's, from the webhooks.
    const { email } = await contacts.contact(shop.id, customer);
    if (!email) throw new StoreApiError(`no email address for customer ${customer} yet`, { code: 'NO_EMAIL', retryAfterMs: 60_000 });
    return clientOf().ensureCoupon(coupon, {
      email, customer, individualUse: shop.settings.individual_use === true, timezone: shop.settings.timezone ?? shop.program.timezone, decimals: currencyExponent(currency),
    });
  }

  return {
    async send(effect) {
      // Uninstalled or disconnected: no call leaves for this shop any more.
      if ((await shopStatus()) !== 'installed') throw new StoreApiError(`${shop.id} is not installed: no call to its store`, { code: 'NOT_INSTALLED', permanent: true });
      const code = effect.type === 'coupon.issued' ? effect.coupon.code : effect.code;
      try {
        if (effect.type === 'coupon.issued') {
          const r = await issued(effect);
          await mark(code, { store_id: r.id, status: 'synced' });
          return { id: r.id };
        }
        const r = shop.platform === 'shopify' ? await clientOf().deactivateCoupon(code) : await clientOf().deactivateCoupon(code, { timezone: shop.settings.timezone });
        await mark(code, { store_id: r.id, status: 'deactivated' });
        return { id: r.id };
      } catch (err) {
        // Input a client refuses to send is a permanent StoreApiError (inputError); anything
        // else (a database hiccup while marking the coupon) is retried like any failure.
        // The store's own words go to the dead letter and to the coupon row.
        const detail = err.details?.userErrors ?? err.details ?? null;
        const message = `${err.code ?? 'error'}: ${err.message}${detail ? ` ${JSON.stringify(detail).slice(0, 400)}` : ''}`;
        await mark(code, { status: err.permanent ? 'failed' : 'retrying', error: message.slice(0, 1000) });
        throw Object.assign(err, { message });
      }
    },
  };
}
