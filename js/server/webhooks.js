// Platform webhooks: find the shop the delivery names, verify the signature over the RAW
// body bytes with that shop's secrets, map to canonical events with the platform adapter
// (lossless JSON: Shopify ids exceed 2^53), apply to that shop's ledger only.
// Idempotency lives in the ledger (event ids derive from order/refund ids: a redelivery gets
// the first result); the deliveries whose effect is not an event (uninstall, redaction, data
// requests) are kept durably per shop by delivery id, so their redelivery is a no-op even
// after a restart.
import { schemas } from './schemas.js';

const ROUTES = [
  ['shopify', 'Shopify', 'x-shopify-hmac-sha256'],
  ['woocommerce', 'WooCommerce', 'x-wc-webhook-signature'],
];
// What may still arrive for an uninstalled shop: its uninstall and the compliance topics.
const AFTER_UNINSTALL = new Set(['uninstalled', 'redact', 'shop_redact', 'data_request', 'ignored']);

const error = (code, path, message) => ({ error: { code, path, message } });

async function apply(shop, mapped, log) {
  const { loyalty } = shop;
  switch (mapped.kind) {
    case 'events': {
      if (mapped.contact && shop.contacts) await shop.contacts(mapped.contact);
      // In order, each in its own transaction: a Woo order.updated carries the purchase
      // and then its refunds. A failure throws: 400 for bad input, 500 (retry) otherwise.
      const results = [];
      for (const e of mapped.events) {
        const r = await loyalty.handle(e);
        results.push({ event: e.id, customer: r?.customer ?? null, balance: r?.balance, duplicate: r?.duplicate === true, ...(r?.skipped ? { skipped: r.skipped } : {}), ...(r?.parked ? { parked: r.parked } : {}) });
      }
      return { ok: true, results };
    }
    case 'ignored':
      return { ok: true, ignored: mapped.reason };
    case 'ping':
      return { ok: true, ping: true };
    case 'uninstalled':
      // Every outbound call for this shop stops (the store sync checks the status).
      await shop.uninstall();
      log.info({ shop: shop.id }, 'shop uninstalled');
      return { ok: true, uninstalled: true };
    case 'redact': {
      // customers/redact: the ledger stays, under an anonymous id (see loyalty.redact).
      const r = await loyalty.redact(mapped.customer);
      log.info({ shop: shop.id, anonymous: r.anonymous, events: r.events }, 'customer redacted');
      return { ok: true, redacted: { anonymous: r.anonymous, events: r.events } };
    }
    case 'shop_redact': {
      // shop/redact comes 48 hours after an uninstall; for an installed shop it can only be
      // a replay, and it would erase a live ledger.
      if (shop.status !== 'uninstalled') return { refused: 409, ...error('shop_installed', 'x-shopify-topic', 'shop/redact is honoured only for a shop that has uninstalled the app') };
      const deleted = await shop.erase();
      log.info({ shop: shop.id, deleted }, 'shop redacted');
      return { ok: true, deleted };
    }
    case 'data_request': {
      // customers/data_request: the export is kept for the merchant (GET /api/exports),
      // never put into this response: whoever can replay a signed body must not read a
      // customer's data from it.
      const id = await shop.exportData(mapped.customer, mapped.topic ?? 'data_request');
      log.info({ shop: shop.id, customer: mapped.customer, export: id }, 'customer data request');
      return { ok: true, export: id };
    }
    default:
      throw new Error(`adapter returned unknown kind ${mapped.kind}`);
  }
}

/**
 * Registers POST /webhooks/<platform>, in an encapsulated context whose only body parser
 * keeps the raw Buffer.
 * @param {{shops: {webhookShop: (platform: string, headers: object) => Promise<object|null>},
 *          deliveries: {seen: Function, remember: Function}}} options
 */
export async function webhookRoutes(app, { shops, deliveries }) {
  app.removeAllContentTypeParsers();
  // Any content type: Woo's creation ping is form-encoded, platforms vary the charset.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  for (const [platform, title, header] of ROUTES) {
    if (!shops.platforms.includes(platform)) continue;
    const inflight = new Map();
    app.post(`/webhooks/${platform}`, { schema: schemas.webhook(title, header) }, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const shop = await shops.webhookShop(platform, request.headers);
      // Unknown shops and bad signatures get the same answer: nothing about which shops exist.
      if (!shop || !shop.adapter.verify(request.headers, raw)) {
        return reply.code(401).send(error('bad_signature', header, `${header} does not match the body under any secret of the shop it names`));
      }
      const mapped = shop.adapter.toEvents(request.headers, raw); // throws bad_payload -> 400
      if (shop.status !== 'installed' && !AFTER_UNINSTALL.has(mapped.kind)) {
        return reply.code(410).send(error('shop_uninstalled', 'shop', `${shop.id} has uninstalled the app: its webhooks are not applied`));
      }
      // Events need no delivery log: the ledger's unique event ids already make them once-only.
      const id = mapped.kind === 'events' ? null : mapped.deliveryId;
      if (id && (await deliveries.seen(shop.id, id))) return { ok: true, duplicate: true };
      const key = `${shop.id}\u0000${id}`;
      if (id && inflight.has(key)) return { ...(await inflight.get(key)), duplicate: true };
      const work = apply(shop, mapped, request.log);
      if (id) inflight.set(key, work);
      try {
        const out = await work;
        if (out.refused) return reply.code(out.refused).send({ error: out.error });
        // Kept after success only: a failed delivery must be applied on Shopify's retry.
        if (id) await deliveries.remember(shop.id, id, mapped.topic ?? mapped.kind);
        return out;
      } finally {
        if (id) inflight.delete(key);
      }
    });
  }
}
