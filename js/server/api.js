// The admin and storefront API under /api: bearer token, JSON bodies validated by schema.
import { schemas } from './schemas.js';
import { bearerAuth } from './auth.js';
import { httpError } from './errors.js';

const notFound = (customer) => httpError(404, 'not_found', 'id', `no account for customer ${customer}`);

/** @param {{loyalty: object, token: string, now?: () => Date}} options */
export async function apiRoutes(app, { loyalty, token, now = () => new Date() }) {
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
