// Platform webhooks: verify the signature over the RAW body bytes, map to canonical
// events with the platform adapter (lossless JSON: Shopify ids exceed 2^53), apply.
// Idempotency lives in the ledger (event ids derive from order/refund ids); the
// delivery-id cache below only spares the store repeated work for one delivery.
import { schemas } from './schemas.js';

const DONE_MAX = 10_000;

function deliveryCache() {
  const inflight = new Map();
  const done = new Map(); // insertion-ordered: the oldest is evicted first
  return async (id, work) => {
    if (!id) return work();
    if (done.has(id)) return { ...done.get(id), duplicate: true };
    if (inflight.has(id)) return { ...(await inflight.get(id)), duplicate: true };
    const p = work();
    inflight.set(id, p);
    try {
      const out = await p;
      done.set(id, out);
      if (done.size > DONE_MAX) done.delete(done.keys().next().value);
      return out;
    } finally {
      inflight.delete(id);
    }
  };
}

async function apply(loyalty, mapped, log) {
  switch (mapped.kind) {
    case 'events': {
      // In order, each in its own transaction: a Woo order.updated carries the purchase
      // and then its refunds. A failure throws: 400 for bad input, 500 (retry) otherwise.
      const results = [];
      for (const e of mapped.events) {
        const r = await loyalty.handle(e);
        results.push({ event: e.id, customer: r?.customer ?? null, balance: r?.balance, duplicate: r?.duplicate === true, ...(r?.skipped ? { skipped: r.skipped } : {}) });
      }
      return { ok: true, results };
    }
    case 'ignored':
      return { ok: true, ignored: mapped.reason };
    case 'ping':
      return { ok: true, ping: true };
    case 'redact': {
      // customers/redact: the ledger stays, under an anonymous id (see loyalty.redact).
      const r = await loyalty.redact(mapped.customer);
      log.info({ kind: mapped.kind, anonymous: r.anonymous, events: r.events }, 'customer redacted');
      return { ok: true, redacted: { anonymous: r.anonymous, events: r.events } };
    }
    case 'shop_redact': {
      // shop/redact (48 hours after uninstall): every row of this program goes.
      const deleted = await loyalty.redactShop();
      log.info({ kind: mapped.kind, deleted }, 'shop redacted');
      return { ok: true, deleted };
    }
    case 'data_request': {
      // customers/data_request: the merchant hands the data to the customer; Shopify reads
      // only the status. The export is the response body (loyalty.dataRequest from code);
      // the log says what was requested, not the data.
      const data = await loyalty.dataRequest(mapped.customer);
      log.info({ kind: mapped.kind, customer: mapped.customer, events: data.events.length, entries: data.entries.length }, 'customer data request');
      return { ok: true, data };
    }
    default:
      throw new Error(`adapter returned unknown kind ${mapped.kind}`);
  }
}

/**
 * Registers POST /webhooks/<name> for each configured adapter, in an encapsulated
 * context whose only body parser keeps the raw Buffer.
 * @param {{loyalty: object, adapters: {shopify?: object, woocommerce?: object}}} options
 */
export async function webhookRoutes(app, { loyalty, adapters }) {
  app.removeAllContentTypeParsers();
  // Any content type: Woo's creation ping is form-encoded, platforms vary the charset.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const routes = [
    ['shopify', 'Shopify', 'x-shopify-hmac-sha256'],
    ['woocommerce', 'WooCommerce', 'x-wc-webhook-signature'],
  ];
  for (const [name, title, header] of routes) {
    const adapter = adapters[name];
    if (!adapter) continue;
    const once = deliveryCache();
    app.post(`/webhooks/${name}`, { schema: schemas.webhook(title, header) }, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!adapter.verify(request.headers, raw)) {
        return reply.code(401).send({ error: { code: 'bad_signature', path: header, message: `${header} does not match the body under any configured secret` } });
      }
      const mapped = adapter.toEvents(request.headers, raw); // throws bad_payload -> 400
      return once(mapped.deliveryId, () => apply(loyalty, mapped, request.log));
    });
  }
}
