// JSON schemas of the HTTP API. Fastify validates request bodies with them (no type
// coercion: "5" is not a number of points) and openapi.js publishes them.

const error = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
};

// Amounts are decimal strings, ids strings: the engine does the deep checks and names the path.
const amount = { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' };
const id = { type: 'string', minLength: 1, maxLength: 200 };
const time = { type: 'string', minLength: 1, description: 'RFC 3339 with offset' };

const line = {
  type: 'object',
  required: ['id', 'quantity', 'unit_price'],
  properties: {
    id, sku: { type: ['string', 'null'] }, product_id: { type: ['string', 'null'] },
    categories: { type: 'array', items: { type: 'string' } },
    quantity: { type: 'integer', minimum: 0 }, unit_price: amount, discount: amount,
  },
};

const cart = {
  type: 'object',
  required: ['currency', 'lines'],
  properties: {
    id, at: time, currency: { type: 'string', minLength: 3, maxLength: 3 },
    lines: { type: 'array', items: line, maxItems: 1000 },
    shipping: amount, tax: amount, taxes_included: { type: 'boolean' },
    coupon_codes: { type: 'array', items: { type: 'string' } },
  },
};

const event = {
  type: 'object',
  required: ['id', 'type', 'at'],
  properties: { id, type: { type: 'string', minLength: 1 }, at: time, customer: id },
  // The engine rejects unknown keys per event type, with the path.
  additionalProperties: true,
};

const customerParams = { type: 'object', required: ['id'], properties: { id } };
const anyObject = { type: 'object', additionalProperties: true };
const bearer = [{ bearer: [] }];

export const schemas = {
  health: {
    summary: 'Liveness and store check',
    response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, program: { type: 'string' } } } },
  },
  events: {
    summary: 'Apply canonical events (one object, or an array applied in order)',
    security: bearer,
    // One schema for both forms: `items` applies to arrays only, `required` to objects only,
    // so errors keep a precise path (oneOf would only say "matches no alternative").
    body: { ...event, type: ['object', 'array'], items: event, minItems: 1, maxItems: 1000 },
    response: { 200: anyObject, 400: error, 401: error },
  },
  account: {
    summary: 'Account view: balance, pending, tier, next expiry, coupons',
    security: bearer,
    params: customerParams,
    response: { 200: anyObject, 401: error, 404: error },
  },
  history: {
    summary: 'Ledger entries, newest first; pass `next` back as `cursor`',
    security: bearer,
    params: customerParams,
    querystring: {
      type: 'object',
      properties: { cursor: { type: 'string', pattern: '^[0-9]+$' }, limit: { type: 'string', pattern: '^[0-9]{1,4}$' } },
      additionalProperties: false,
    },
    response: { 200: anyObject, 400: error, 401: error, 404: error },
  },
  adjust: {
    summary: 'Grant or remove points (staff); `id` makes a retry idempotent',
    security: bearer,
    params: customerParams,
    body: {
      type: 'object',
      required: ['points', 'reason', 'by'],
      properties: {
        points: { type: 'integer', not: { const: 0 }, minimum: -1e12, maximum: 1e12 }, // the engine's per-event bound (src/limits.rs)
        reason: { type: 'string', minLength: 1, maxLength: 500 },
        by: { type: 'string', minLength: 1, maxLength: 200 },
        id, at: time,
      },
      additionalProperties: false,
    },
    response: { 200: anyObject, 400: error, 401: error, 404: error },
  },
  quote: {
    summary: 'Cart preview: points the cart would earn and what each coupon would take off',
    security: bearer,
    body: {
      type: 'object',
      required: ['cart'],
      properties: { customer: id, cart },
      additionalProperties: false,
    },
    response: { 200: anyObject, 400: error, 401: error },
  },
  validateCoupon: {
    summary: 'Is this coupon code usable on this cart, and for how much',
    security: bearer,
    body: {
      type: 'object',
      required: ['code', 'cart'],
      properties: { code: { type: 'string', minLength: 1, maxLength: 100 }, customer: id, cart },
      additionalProperties: false,
    },
    response: { 200: anyObject, 400: error, 401: error, 404: error },
  },
  webhook: (platform, header) => ({
    summary: `${platform} webhook; signed (${header} over the raw body)`,
    // No body schema: the body stays a raw Buffer for the signature (openapi.js documents it).
    raw: header,
    response: { 200: anyObject, 400: error, 401: error, 413: error },
  }),
};
