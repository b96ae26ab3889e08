// JSON schemas of the HTTP API. Fastify validates request bodies with them (no type
// coercion: "5" is not a number of points) and openapi.js publishes them. Events and carts
// are the engine's own wire types, generated from the Rust (js/schema/).

import cartSchema from '../schema/cart.schema.json' with { type: 'json' };
import eventSchema from '../schema/event.schema.json' with { type: 'json' };

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

/**
 * A schema generated from the engine's wire types (js/schema/*.json, `cargo run --example
 * schema --features schema`) in the form Fastify's Ajv compiles inside a route: `$defs`
 * inlined (a route's body is its own root), no draft or title, and an optional object
 * (`anyOf` of it and null) as that object or null, so an error inside it keeps its path.
 * Unknown keys are left to the engine, which rejects them with the path per event type.
 */
function forRoute(schema) {
  const defs = schema.$defs ?? {};
  const walk = (s) => {
    if (Array.isArray(s)) return s.map(walk);
    if (!s || typeof s !== 'object') return s;
    if (typeof s.$ref === 'string') return walk(defs[s.$ref.replace('#/$defs/', '')]);
    const nullable = s.anyOf?.length === 2 && s.anyOf.find((a) => a.type === 'null');
    if (nullable) {
      const inner = walk(s.anyOf.find((a) => a !== nullable));
      return { ...inner, type: [inner.type, 'null'].flat() };
    }
    const out = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === '$defs' || k === '$schema' || k === 'title' || k === 'description' || k === 'additionalProperties') continue;
      out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v).map(([p, x]) => [p, walk(x)])) : walk(v);
    }
    return out;
  };
  return walk(schema);
}

/** `schema` with `properties` refined by `more` (per property, merged; nested by path). */
function refine(schema, more) {
  const properties = { ...schema.properties };
  for (const [k, v] of Object.entries(more)) {
    properties[k] = typeof v === 'function' ? v(properties[k]) : { ...properties[k], ...v };
  }
  return { ...schema, properties };
}

// The generated shapes, with the limits the API adds: ids and amounts as above, at most
// 1,000 lines, a three-letter currency.
const line = (l) => refine(l, { id, quantity: { minimum: 0 }, unit_price: amount, discount: { ...amount, type: ['string', 'null'] } });
const lines = (ls) => ({ ...ls, items: line(ls.items), maxItems: 1000 });
const orderFields = {
  currency: { minLength: 3, maxLength: 3 },
  lines,
  shipping: { ...amount, type: ['string', 'null'] },
  tax: { ...amount, type: ['string', 'null'] },
};

// Through the API a cart lists its lines (even none), and `at` is optional: the server
// quotes at the time of the request.
const cart = { ...refine(forRoute(cartSchema), { ...orderFields, id: { ...id, type: ['string', 'null'] }, at: time }), required: ['currency', 'lines'] };

const event = {
  ...refine(forRoute(eventSchema), {
    id,
    type: { minLength: 1 },
    at: time,
    customer: { ...id, type: ['string', 'null'] },
    order: (o) => refine(o, { ...orderFields, id }),
  }),
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
