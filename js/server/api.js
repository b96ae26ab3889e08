// The admin API under /api: the operator token or an operator's session, a role check per
// route, JSON bodies validated by schema. Writes carry the caller's name (stampAuthor) and
// land in the audit log.
import { schemas } from './schemas.js';
import { httpError } from './errors.js';
import { adminAuth, permit, stampAuthor } from './admin-auth.js';
import { auditor } from './operators.js';

const BEARER = [{ bearer: [] }];
const notFound = (customer) => httpError(404, 'not_found', 'id', `no account for customer ${customer}`);

/**
 * @param {{loyalty: object, store?: object, token: string, now?: () => Date, auth?: Function, loyaltyNow?: () => Promise<object>}} options
 *   `auth`: the admin hook (js/server/admin-auth.js); `loyaltyNow`: the shop's ledger with
 *   the program in force, read per request (a program published meanwhile applies at once).
 */
export async function apiRoutes(app, { loyalty: initial, store, token, now = () => new Date(), auth, loyaltyNow = async () => initial }) {
  const P = initial.program.id;
  app.addHook('onRequest', auth ?? adminAuth({ token, shop: P }));
  app.addHook('preValidation', stampAuthor);
  // Every handler reads the ledger through L(request): the one in force for this request.
  app.addHook('preHandler', async (request) => { request.loyalty = await loyaltyNow(); });
  const L = (request) => request.loyalty ?? initial;
  const record = auditor(store?.db, P);

  async function existing(customer, request) {
    const view = await L(request).account(customer);
    if (!view) throw notFound(customer);
    return view;
  }

  // Canonical events from scripts: any event type, so owners only (the token acts as one).
  // One audit row per request, naming the events it applied (not the duplicates, not a failed one).
  app.post('/api/events', { schema: schemas.events, preHandler: permit('events.write') }, async (request) => {
    const body = request.body;
    // A batch reports each event's failure in place, like loyalty.handleMany.
    const events = Array.isArray(body) ? body : [body];
    const results = Array.isArray(body) ? await L(request).handleMany(body) : [await L(request).handle(body)];
    const ids = results.flatMap((r, i) => (r.error || r.duplicate ? [] : [events[i].id]));
    if (ids.length) await record(request, 'events.write', ids.length === 1 ? ids[0] : `${ids.length} events`, { ids });
    return Array.isArray(body) ? { results } : results[0];
  });

  app.get('/api/customers/:id', { schema: schemas.account, preHandler: permit('customers.read') }, (request) => existing(request.params.id, request));

  app.get('/api/customers/:id/history', { schema: schemas.history, preHandler: permit('customers.read') }, async (request) => {
    const { id } = request.params;
    await existing(id, request);
    const { cursor, limit } = request.query;
    return L(request).history(id, { cursor: cursor ?? null, limit: limit === undefined ? 50 : Number(limit) });
  });

  app.post('/api/customers/:id/adjust', { schema: schemas.adjust, preHandler: permit('points.adjust') }, async (request) => {
    const { id } = request.params;
    // Staff adjust known accounts; a typo in the id must not open a new one.
    await existing(id, request);
    const result = await L(request).adjust(id, { ...request.body, at: request.body.at ?? now() });
    if (!result.duplicate) await record(request, 'points.adjust', id, { points: request.body.points, reason: request.body.reason });
    return { ...result, account: await L(request).account(id) };
  });

  app.post('/api/quote', { schema: schemas.quote, preHandler: permit('customers.read') }, async (request) => {
    const { customer, cart } = request.body;
    return L(request).quote(customer ?? null, { ...cart, at: cart.at ?? now().toISOString() });
  });

  // Customer data exports (Shopify customers/data_request): the merchant fetches them here.
  app.get('/api/exports', { schema: { summary: 'Customer data exports requested through the platform (without their data)', security: BEARER }, preHandler: permit('customers.read') }, async () => {
    const rows = store?.db ? (await store.db.query('SELECT id, customer, source, created_at FROM data_exports WHERE program = $1 ORDER BY id DESC LIMIT 200', [P])).rows : [];
    return { exports: rows.map((r) => ({ id: String(r.id), customer: r.customer, source: r.source, created_at: new Date(r.created_at).toISOString() })) };
  });
  app.get('/api/exports/:id', { schema: { summary: 'One customer data export, to hand to the customer', security: BEARER, params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } }, required: ['id'] } }, preHandler: permit('customers.read') }, async (request) => {
    const rows = store?.db ? (await store.db.query('SELECT id, customer, source, data, created_at FROM data_exports WHERE program = $1 AND id = $2', [P, request.params.id])).rows : [];
    if (!rows.length) throw httpError(404, 'not_found', 'id', `no export ${request.params.id}`);
    return { id: String(rows[0].id), customer: rows[0].customer, source: rows[0].source, created_at: new Date(rows[0].created_at).toISOString(), data: rows[0].data };
  });

  /** Events waiting for their order (a refund that came first). */
  app.get('/api/parked', { schema: { summary: 'Events parked until their order arrives', security: BEARER }, preHandler: permit('customers.read') }, async (request) => ({ parked: await L(request).parked() }));

  app.post('/api/coupons/validate', { schema: schemas.validateCoupon, preHandler: permit('coupons.read') }, async (request) => {
    const { code, cart } = request.body;
    const loyalty = L(request);
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
