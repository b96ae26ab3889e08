// The admin and storefront API under /api: bearer token, JSON bodies validated by schema.
import { schemas } from './schemas.js';
import { bearerAuth } from './auth.js';
import { httpError } from './errors.js';

const BEARER = [{ bearer: [] }];
const notFound = (customer) => httpError(404, 'not_found', 'id', `no account for customer ${customer}`);

/** @param {{loyalty: object, store?: object, token: string, now?: () => Date}} options */
export async function apiRoutes(app, { loyalty, store, token, now = () => new Date() }) {
  app.addHook('onRequest', bearerAuth(token));

  async function existing(customer) {
    const view = await loyalty.account(customer);
    if (!view) throw notFound(customer);
    return view;
  }

  app.post('/api/events', { schema: schemas.events }, async (request) => {
    const body = request.body;
    if (!Array.isArray(body)) return loyalty.handle(body);
    // A batch reports each event's failure in place, like loyalty.handleMany.
    return { results: await loyalty.handleMany(body) };
  });

  app.get('/api/customers/:id', { schema: schemas.account }, (request) => existing(request.params.id));

  app.get('/api/customers/:id/history', { schema: schemas.history }, async (request) => {
    const { id } = request.params;
    await existing(id);
    const { cursor, limit } = request.query;
    return loyalty.history(id, { cursor: cursor ?? null, limit: limit === undefined ? 50 : Number(limit) });
  });

  app.post('/api/customers/:id/adjust', { schema: schemas.adjust }, async (request) => {
    const { id } = request.params;
    // Staff adjust known accounts; a typo in the id must not open a new one.
    await existing(id);
    const result = await loyalty.adjust(id, { ...request.body, at: request.body.at ?? now() });
    return { ...result, account: await loyalty.account(id) };
  });

  app.post('/api/quote', { schema: schemas.quote }, async (request) => {
    const { customer, cart } = request.body;
    return loyalty.quote(customer ?? null, { ...cart, at: cart.at ?? now().toISOString() });
  });

  // Customer data exports (Shopify customers/data_request): the merchant fetches them here.
  const P = loyalty.program.id;
  app.get('/api/exports', { schema: { summary: 'Customer data exports requested through the platform (without their data)', security: BEARER } }, async () => {
    const rows = store?.db ? (await store.db.query('SELECT id, customer, source, created_at FROM data_exports WHERE program = $1 ORDER BY id DESC LIMIT 200', [P])).rows : [];
    return { exports: rows.map((r) => ({ id: String(r.id), customer: r.customer, source: r.source, created_at: new Date(r.created_at).toISOString() })) };
  });
  app.get('/api/exports/:id', { schema: { summary: 'One customer data export, to hand to the customer', security: BEARER, params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } }, required: ['id'] } } }, async (request) => {
    const rows = store?.db ? (await store.db.query('SELECT id, customer, source, data, created_at FROM data_exports WHERE program = $1 AND id = $2', [P, request.params.id])).rows : [];
    if (!rows.length) throw httpError(404, 'not_found', 'id', `no export ${request.params.id}`);
    return { id: String(rows[0].id), customer: rows[0].customer, source: rows[0].source, created_at: new Date(rows[0].created_at).toISOString(), data: rows[0].data };
  });

  /** Events waiting for their order (a refund that came first). */
  app.get('/api/parked', { schema: { summary: 'Events parked until their order arrives', security: BEARER } }, async () => ({ parked: await loyalty.parked() }));

  app.post('/api/coupons/validate', { schema: schemas.validateCoupon }, async (request) => {
    const { code, cart } = request.body;
    const customer = request.body.customer ?? (await loyalty.coupon(code))?.customer;
    const view = customer ? await loyalty.account(customer) : null;
    const coupon = view?.coupons.find((c) => c.code === code);
    if (!coupon) throw httpError(404, 'not_found', 'code', `no coupon ${code}${request.body.customer ? ` for customer ${customer}` : ''}`);
    if (coupon.status !== 'issued') return { code, customer, valid: false, reason: `coupon is ${coupon.status}`, coupon };
    // The quote runs the same discount code the engine applies when the order comes in.
    const q = await loyalty.quote(customer, { ...cart, at: cart.at ?? now().toISOString() });
    const hit = q.coupons.find((c) => c.code === code);
    return { code, customer, valid: hit?.usable === true, discount: hit?.discount ?? '0', ...(hit?.reason ? { reason: hit.reason } : {}), coupon };
  });
}
