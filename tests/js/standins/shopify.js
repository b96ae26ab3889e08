// A local stand-in for the parts of Shopify the app talks to, over real sockets:
//   GET  /admin/oauth/authorize      approves at once and redirects to the app's callback,
//                                    signed as Shopify signs it (hmac over the sorted query)
//   POST /admin/oauth/access_token   exchanges a one-time code for an offline token
//   POST /admin/api/<version>/graphql.json
//        every document is parsed and validated, and its variables coerced, against a schema
//        built with graphql-js from ./shopify-admin.graphql (transcribed from Shopify's
//        reference for the pinned version): a field Shopify lacks fails here too.
// One stand-in serves many shops: `/shops/<shop>.myshopify.com/admin/...` addresses one
// (SHOPIFY_ADMIN_ORIGIN = `${standin.url}/shops/{shop}`); bare `/admin/...` is `defaultShop`.
// Knobs (failNext, setBucket) and inspectors (discount, discounts, subscriptions) are for tests.
import http from 'node:http';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate, execute, Kind } from 'graphql';

export const STANDIN_API_VERSION = '2026-07';
const SDL = readFileSync(new URL('./shopify-admin.graphql', import.meta.url), 'utf8');
const DECIMAL = /^-?\d+(\.\d+)?$/;
const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/\d+$/;
const THROTTLE_DOC = 'https://shopify.dev/api/usage/rate-limits';

function buildAdminSchema() {
  const schema = buildSchema(SDL);
  // Shopify's scalars refuse what is not theirs; graphql-js's defaults would pass anything.
  const decimal = schema.getType('Decimal');
  decimal.parseValue = (v) => {
    if ((typeof v === 'string' && DECIMAL.test(v)) || (typeof v === 'number' && Number.isFinite(v))) return String(v);
    throw new TypeError(`Invalid decimal '${v}'`);
  };
  decimal.parseLiteral = (ast) => decimal.parseValue(ast.kind === Kind.STRING || ast.kind === Kind.FLOAT || ast.kind === Kind.INT ? ast.value : undefined);
  const dateTime = schema.getType('DateTime');
  dateTime.parseValue = (v) => {
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v))) return v;
    throw new TypeError(`Invalid DateTime '${v}'`);
  };
  dateTime.parseLiteral = (ast) => dateTime.parseValue(ast.kind === Kind.STRING ? ast.value : undefined);
  return schema;
}

// The access scope each root field needs (Admin API reference, each field's "Requires").
const SCOPE_OF = {
  codeDiscountNodeByCode: 'read_discounts',
  discountCodeBasicCreate: 'write_discounts',
  discountCodeFreeShippingCreate: 'write_discounts',
  discountCodeDeactivate: 'write_discounts',
};
const scopesOf = (scope) => new Set(String(scope ?? '').split(',').map((x) => x.trim()).filter(Boolean));

const hmacHex = (secret, text) => crypto.createHmac('sha256', secret).update(text).digest('hex');

/** Signs a query object as Shopify signs the OAuth redirect: sorted params, hmac excluded. */
export function signAdminQuery(secret, params) {
  const sorted = new URLSearchParams(Object.keys(params).filter((k) => k !== 'hmac').sort().map((k) => [k, String(params[k])]));
  return hmacHex(secret, sorted.toString());
}

/** Signs an App Proxy query as Shopify does: sorted `key=value` joined with nothing, multi-values comma-joined. */
export function signProxyQuery(secret, params) {
  const text = Object.keys(params).filter((k) => k !== 'signature').sort()
    .map((k) => `${k}=${Array.isArray(params[k]) ? params[k].join(',') : params[k]}`).join('');
  return hmacHex(secret, text);
}

/** An App Bridge session token as Shopify issues it (HS256 over the app secret). */
export function signSessionToken(secret, { apiKey, shop, user = '42', expiresIn = 60, now = Math.floor(Date.now() / 1000), ...extra }) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload = { iss: `https://${shop}/admin`, dest: `https://${shop}`, aud: apiKey, sub: user, exp: now + expiresIn, nbf: now - 1, iat: now - 1, jti: crypto.randomUUID(), sid: crypto.randomUUID(), ...extra };
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${crypto.createHmac('sha256', secret).update(head).digest('base64url')}`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function statusOf(rec, now) {
  if (Date.parse(rec.startsAt) > now) return 'SCHEDULED';
  if (rec.endsAt && Date.parse(rec.endsAt) <= now) return 'EXPIRED';
  return 'ACTIVE';
}

/**
 * Starts the stand-in on 127.0.0.1 (random port).
 * @param {{apiKey: string, apiSecret: string, defaultShop?: string, currency?: string, grantedScopes?: string, allowedRedirects?: string[]}} options
 *   allowedRedirects: the app's "Allowed redirection URL(s)"; when given, any other redirect_uri is refused as Shopify does.
 */
export async function startShopifyStandin({ apiKey, apiSecret, defaultShop = 'loyalty-test.myshopify.com', currency = 'EUR', grantedScopes = 'read_discounts,write_discounts,read_orders,read_customers', allowedRedirects = [] }) {
  const schema = buildAdminSchema();
  const shops = new Map();
  const codes = new Map();
  const failures = [];
  const log = [];
  const hung = [];
  let nextId = 1000;

  function shopState(shop) {
    if (!shops.has(shop)) {
      shops.set(shop, { discounts: new Map(), subscriptions: [], tokens: new Map(), bucket: { maximumAvailable: 2000, restoreRate: 100, available: 2000, at: Date.now() } });
    }
    return shops.get(shop);
  }

  // --- GraphQL resolvers (rootValue): Shopify's shapes, built from what was stored ----

  function moneyOf(amount) {
    return { amount, currencyCode: currency };
  }

  function discountShape(rec) {
    const now = Date.now();
    const base = {
      __typename: rec.kind === 'basic' ? 'DiscountCodeBasic' : 'DiscountCodeFreeShipping',
      title: rec.input.title,
      status: statusOf(rec, now),
      startsAt: rec.startsAt,
      endsAt: rec.endsAt,
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
      usageLimit: rec.input.usageLimit ?? null,
      appliesOncePerCustomer: rec.input.appliesOncePerCustomer === true,
      asyncUsageCount: 0,
      recurringCycleLimit: rec.input.recurringCycleLimit ?? null,
      codes: { nodes: [{ id: `gid://shopify/DiscountRedeemCode/${rec.n}`, code: rec.input.code, asyncUsageCount: 0 }], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } },
      combinesWith: {
        orderDiscounts: rec.input.combinesWith?.orderDiscounts ?? false,
        productDiscounts: rec.input.combinesWith?.productDiscounts ?? false,
        shippingDiscounts: rec.input.combinesWith?.shippingDiscounts ?? false,
        productDiscountsWithTagsOnSameCartLine: null,
      },
      context: rec.input.context?.customers
        ? { __typename: 'DiscountCustomers', customers: (rec.input.context.customers.add ?? []).map((id) => ({ id })) }
        : { __typename: 'DiscountBuyerSelectionAll', all: 'ALL' },
      minimumRequirement: rec.input.minimumRequirement?.subtotal
        ? { __typename: 'DiscountMinimumSubtotal', greaterThanOrEqualToSubtotal: moneyOf(rec.input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal) }
        : rec.input.minimumRequirement?.quantity
          ? { __typename: 'DiscountMinimumQuantity', greaterThanOrEqualToQuantity: rec.input.minimumRequirement.quantity.greaterThanOrEqualToQuantity }
          : null,
    };
    if (rec.kind === 'basic') {
      const v = rec.input.customerGets.value;
      base.customerGets = {
        appliesOnOneTimePurchase: rec.input.customerGets.appliesOnOneTimePurchase ?? true,
        appliesOnSubscription: rec.input.customerGets.appliesOnSubscription ?? false,
        items: { __typename: 'AllDiscountItems', allItems: true },
        value: v.percentage != null
          ? { __typename: 'DiscountPercentage', percentage: v.percentage }
          : { __typename: 'DiscountAmount', amount: moneyOf(v.discountAmount.amount), appliesOnEachItem: v.discountAmount.appliesOnEachItem === true },
      };
    } else {
      base.appliesOnOneTimePurchase = rec.input.appliesOnOneTimePurchase ?? true;
      base.appliesOnSubscription = rec.input.appliesOnSubscription ?? false;
      base.destinationSelection = { __typename: 'DiscountCountryAll', allCountries: true };
      base.maximumShippingPrice = rec.input.maximumShippingPrice != null ? moneyOf(rec.input.maximumShippingPrice) : null;
    }
    return base;
  }

  const nodeOf = (rec) => ({ id: rec.id, codeDiscount: discountShape(rec) });

  function discountErrors(input, arg, state, needsValue) {
    const errors = [];
    const err = (field, code, message) => errors.push({ field: [arg, ...field], code, message, extraInfo: null });
    if (!input.title || !input.title.trim()) err(['title'], 'BLANK', "Title can't be blank");
    if (!input.code || !input.code.trim()) err(['code'], 'BLANK', "Code can't be blank");
    else if (input.code.length > 255) err(['code'], 'TOO_LONG', 'Code is too long (maximum is 255 characters)');
    else if (state.discounts.has(input.code.toLowerCase())) err(['code'], 'TAKEN', 'Code must be unique. Please try a different code.');
    if (!input.startsAt) err(['startsAt'], 'BLANK', "Starts at can't be blank");
    if (input.startsAt && input.endsAt && Date.parse(input.endsAt) <= Date.parse(input.startsAt)) err(['endsAt'], 'END_DATE_BEFORE_START_DATE', 'Ends at needs to be after starts_at');
    if (!input.context) err(['context'], 'MISSING_ARGUMENT', 'Context must be specified');
    for (const id of input.context?.customers?.add ?? []) {
      if (!CUSTOMER_GID.test(id)) err(['context', 'customers', 'add'], 'INVALID', `Customer ${id} is invalid`);
    }
    if (input.usageLimit != null && input.usageLimit < 1) err(['usageLimit'], 'VALUE_OUTSIDE_RANGE', 'Usage limit must be greater than 0');
    if (needsValue) {
      const v = input.customerGets?.value;
      const kinds = v ? ['percentage', 'discountAmount'].filter((k) => v[k] != null) : [];
      if (kinds.length !== 1) err(['customerGets', 'value'], 'INVALID', 'Exactly one of percentage or discountAmount is required');
      else if (v.percentage != null && !(v.percentage > 0 && v.percentage <= 1)) err(['customerGets', 'value', 'percentage'], 'VALUE_OUTSIDE_RANGE', 'Value must be between 0.0 and 1.0');
      else if (v.discountAmount && (v.discountAmount.amount == null || Number(v.discountAmount.amount) <= 0)) err(['customerGets', 'value', 'discountAmount', 'amount'], 'VALUE_OUTSIDE_RANGE', 'Value must be greater than 0');
      if (!input.customerGets?.items) err(['customerGets', 'items'], 'BLANK', "Items can't be blank");
    }
    return errors;
  }

  function createDiscount(kind, arg, input, { shop }) {
    const state = shopState(shop);
    const userErrors = discountErrors(input, arg, state, kind === 'basic');
    if (userErrors.length) return { codeDiscountNode: null, userErrors };
    const n = nextId++;
    const now = new Date().toISOString();
    const rec = { n, id: `gid://shopify/DiscountCodeNode/${n}`, kind, input: structuredClone(input), startsAt: input.startsAt, endsAt: input.endsAt ?? null, createdAt: now, updatedAt: now };
    state.discounts.set(input.code.toLowerCase(), rec);
    return { codeDiscountNode: nodeOf(rec), userErrors: [] };
  }

  const root = {
    codeDiscountNodeByCode: ({ code }, { shop }) => {
      const rec = shopState(shop).discounts.get(code.toLowerCase());
      return rec ? nodeOf(rec) : null;
    },
    webhookSubscriptions: ({ first, after, topics }, { shop }) => {
      const all = shopState(shop).subscriptions.filter((s) => !topics || topics.includes(s.topic));
      const start = after ? Number(Buffer.from(after, 'base64').toString()) + 1 : 0;
      const size = Math.min(first ?? 50, 250);
      const page = all.slice(start, start + size);
      const cursor = (i) => Buffer.from(String(i)).toString('base64');
      return {
        nodes: page,
        pageInfo: { hasNextPage: start + size < all.length, hasPreviousPage: start > 0, startCursor: page.length ? cursor(start) : null, endCursor: page.length ? cursor(start + page.length - 1) : null },
      };
    },
    discountCodeBasicCreate: ({ basicCodeDiscount }, ctx) => createDiscount('basic', 'basicCodeDiscount', basicCodeDiscount, ctx),
    discountCodeFreeShippingCreate: ({ freeShippingCodeDiscount }, ctx) => createDiscount('free_shipping', 'freeShippingCodeDiscount', freeShippingCodeDiscount, ctx),
    discountCodeDeactivate: ({ id }, { shop }) => {
      const rec = [...shopState(shop).discounts.values()].find((r) => r.id === id);
      if (!rec) return { codeDiscountNode: null, userErrors: [{ field: ['id'], code: 'INVALID', message: 'Discount does not exist', extraInfo: null }] };
      const now = new Date().toISOString();
      // Shopify deactivates by ending the discount now (status EXPIRED).
      rec.endsAt = now;
      rec.updatedAt = now;
      rec.deactivated = true;
      return { codeDiscountNode: nodeOf(rec), userErrors: [] };
    },
    webhookSubscriptionCreate: ({ topic, webhookSubscription }, { shop }) => {
      const state = shopState(shop);
      const uri = webhookSubscription.uri;
      const fail = (message) => ({ webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message }] });
      if (!uri) return fail("Address can't be blank");
      let url;
      try {
        url = new URL(uri);
      } catch {
        return fail('Address is invalid');
      }
      if (url.protocol !== 'https:') return fail(`Address protocol ${url.protocol}// is not supported`);
      if (state.subscriptions.some((s) => s.topic === topic && s.uri === uri)) return fail('Address for this topic has already been taken');
      const now = new Date().toISOString();
      const sub = { id: `gid://shopify/WebhookSubscription/${nextId++}`, topic, uri, format: webhookSubscription.format ?? 'JSON', filter: webhookSubscription.filter ?? null, includeFields: webhookSubscription.includeFields ?? [], metafieldNamespaces: webhookSubscription.metafieldNamespaces ?? [], name: null, createdAt: now, updatedAt: now };
      state.subscriptions.push(sub);
      return { webhookSubscription: sub, userErrors: [] };
    },
  };

  // --- HTTP ------------------------------------------------------------------------

  function costOf(document) {
    const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    return op?.operation === 'mutation' ? 10 : 2;
  }

  function bucketNow(state) {
    const b = state.bucket;
    const now = Date.now();
    b.available = Math.min(b.maximumAvailable, b.available + ((now - b.at) / 1000) * b.restoreRate);
    b.at = now;
    return b;
  }

  const throttleStatus = (b) => ({ maximumAvailable: b.maximumAvailable, currentlyAvailable: Math.floor(b.available), restoreRate: b.restoreRate });

  async function graphql(req, res, shop, version) {
    if (version !== STANDIN_API_VERSION) return json(res, 404, { errors: 'Not Found' });
    const state = shopState(shop);
    if (!state.tokens.has(req.headers['x-shopify-access-token'])) {
      return json(res, 401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    const failure = failures.shift();
    if (failure?.kind === '429') {
      return json(res, 429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }, { 'retry-after': String(failure.retryAfter ?? 2.0) });
    }
    if (failure?.kind === '500') return json(res, 500, { errors: 'Internal Server Error' });
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return json(res, 400, { errors: { query: 'Required parameter missing or invalid' } });
    }
    let document;
    try {
      document = parse(String(body.query ?? ''));
    } catch (e) {
      return json(res, 200, { errors: [{ message: e.message, locations: e.locations }] });
    }
    const invalid = validate(schema, document);
    if (invalid.length) {
      log.push({ shop, operation: null, refused: invalid.map((e) => e.message) });
      return json(res, 200, { errors: invalid.map(shopifyValidationError) });
    }
    // Access scopes, as Shopify enforces them per field: a write_ scope implies its read_.
    const granted = state.tokens.get(req.headers['x-shopify-access-token']);
    const op0 = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    for (const f of op0?.selectionSet.selections ?? []) {
      const need = SCOPE_OF[f.name?.value];
      if (need && !granted.has(need) && !(need.startsWith('read_') && granted.has(need.replace('read_', 'write_')))) {
        log.push({ shop, operation: null, refused: [`${f.name.value}: ${need}`] });
        return json(res, 200, { errors: [{ message: `Access denied for ${f.name.value} field. Required access: \`${need}\` access scope.`, extensions: { code: 'ACCESS_DENIED', documentation: 'https://shopify.dev/api/usage/access-scopes', requiredAccess: `\`${need}\` access scope.` } }] });
      }
    }
    const requested = costOf(document);
    const b = bucketNow(state);
    if (failure?.kind === 'throttled') b.available = Math.min(b.available, failure.available ?? 0);
    if (b.available < requested) {
      return json(res, 200, {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: THROTTLE_DOC } }],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: throttleStatus(b) } },
      });
    }
    b.available -= requested;
    const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    log.push({ shop, operation: op?.operation, name: op?.name?.value ?? null, fields: op?.selectionSet.selections.map((s) => s.name?.value) });
    const result = await execute({ schema, document, rootValue: root, contextValue: { shop }, variableValues: body.variables ?? {} });
    if (failure?.kind === 'drop-after-commit') {
      // The mutation is applied; the connection is reset before the answer.
      req.socket.destroy();
      return undefined;
    }
    if (failure?.kind === 'hang-after-commit') {
      // The mutation is applied; the answer never comes (the client's timeout fires).
      hung.push(req.socket);
      return undefined;
    }
    const out = {};
    if (result.errors) out.errors = result.errors.map((e) => ({ message: e.message, locations: e.locations, path: e.path, extensions: { code: result.data === undefined ? 'INVALID_VARIABLE' : 'INTERNAL_SERVER_ERROR' } }));
    if (result.data !== undefined) out.data = result.data;
    out.extensions = { cost: { requestedQueryCost: requested, actualQueryCost: requested, throttleStatus: throttleStatus(b) } };
    return json(res, 200, out);
  }

  // graphql-js says `Cannot query field "x" on type "T".`; Shopify says the same thing its way.
  function shopifyValidationError(e) {
    const m = /^Cannot query field "([^"]+)" on type "([^"]+)"/.exec(e.message);
    if (m) return { message: `Field '${m[1]}' doesn't exist on type '${m[2]}'`, locations: e.locations, path: e.path, extensions: { code: 'undefinedField', typeName: m[2], fieldName: m[1] } };
    return { message: e.message, locations: e.locations, extensions: { code: 'validationFailed' } };
  }

  function authorize(res, shop, url) {
    const q = url.searchParams;
    if (q.get('client_id') !== apiKey) return json(res, 400, { error: 'invalid_request', error_description: 'The client_id provided is invalid' });
    let redirect;
    try {
      redirect = new URL(q.get('redirect_uri') ?? '');
    } catch {
      return json(res, 400, { error: 'invalid_request', error_description: 'The redirect_uri is missing or not a URL' });
    }
    if (allowedRedirects.length && !allowedRedirects.includes(`${redirect.origin}${redirect.pathname}`)) {
      return json(res, 400, { error: 'invalid_request', error_description: 'The redirect_uri is not whitelisted' });
    }
    const code = crypto.randomBytes(16).toString('hex');
    codes.set(code, { shop, scope: q.get('scope') || grantedScopes, expires: Date.now() + 60_000 });
    const params = {
      code,
      host: Buffer.from(`admin.shopify.com/store/${shop.replace(/\.myshopify\.com$/, '')}`).toString('base64').replace(/=+$/, ''),
      shop,
      state: q.get('state') ?? '',
      timestamp: String(Math.floor(Date.now() / 1000)),
    };
    params.hmac = signAdminQuery(apiSecret, params);
    for (const [k, v] of Object.entries(params)) redirect.searchParams.set(k, v);
    res.writeHead(302, { location: redirect.href });
    return res.end();
  }

  async function accessToken(req, res, shop) {
    let body;
    try {
      const text = await readBody(req);
      body = (req.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
    } catch {
      return json(res, 400, { error: 'invalid_request', error_description: 'Malformed body' });
    }
    if (body.client_id !== apiKey || body.client_secret !== apiSecret) return json(res, 400, { error: 'invalid_client', error_description: 'Client credentials are invalid' });
    const grant = codes.get(body.code);
    codes.delete(body.code);
    if (!grant || grant.shop !== shop || grant.expires < Date.now()) return json(res, 400, { error: 'invalid_request', error_description: 'The authorization code was not found or was already used' });
    const token = `shpat_${crypto.randomBytes(16).toString('hex')}`;
    shopState(shop).tokens.set(token, scopesOf(grant.scope));
    return json(res, 200, { access_token: token, scope: grant.scope });
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://standin');
      const m = /^(?:\/shops\/([a-z0-9][a-z0-9-]*\.myshopify\.com))?(\/admin\/.*)$/.exec(url.pathname);
      if (!m) return json(res, 404, { errors: 'Not Found' });
      const shop = m[1] ?? defaultShop;
      const path = m[2];
      if (req.method === 'GET' && path === '/admin/oauth/authorize') return authorize(res, shop, url);
      if (req.method === 'POST' && path === '/admin/oauth/access_token') return await accessToken(req, res, shop);
      const api = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
      if (req.method === 'POST' && api) return await graphql(req, res, shop, api[1]);
      return json(res, 404, { errors: 'Not Found' });
    } catch (err) {
      return json(res, 500, { errors: `stand-in failure: ${err.message}` });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  const find = (shop, code) => shopState(shop).discounts.get(code.toLowerCase());
  return {
    url,
    /** SHOPIFY_ADMIN_ORIGIN for an app pointed here. */
    adminOrigin: `${url}/shops/{shop}`,
    defaultShop,
    /** A stored discount: {id, kind, input (as Shopify received it), status, deactivated}. */
    discount(code, shop = defaultShop) {
      const rec = find(shop, code);
      return rec ? { id: rec.id, kind: rec.kind, input: structuredClone(rec.input), status: statusOf(rec, Date.now()), endsAt: rec.endsAt, deactivated: rec.deactivated === true } : null;
    },
    discounts: (shop = defaultShop) => [...shopState(shop).discounts.values()].map((r) => r.input.code),
    subscriptions: (shop = defaultShop) => structuredClone(shopState(shop).subscriptions),
    /** Every accepted or refused GraphQL call: {shop, operation, name, fields} or {refused}. */
    calls: () => structuredClone(log),
    /** A token as if the app were installed (skips OAuth in tests of the Admin API). */
    issueToken(shop = defaultShop, scope = grantedScopes) {
      const token = `shpat_${crypto.randomBytes(16).toString('hex')}`;
      shopState(shop).tokens.set(token, scopesOf(scope));
      return token;
    },
    /**
     * Queues the outcome of the next GraphQL request (undefined: answer normally):
     * {kind: '429', retryAfter} | {kind: 'throttled', available} | {kind: '500'} |
     * {kind: 'drop-after-commit'} (applied, connection reset) | {kind: 'hang-after-commit'} (applied, no answer).
     */
    failNext(failure) {
      failures.push(failure);
    },
    setBucket(shop, { available, maximumAvailable, restoreRate }) {
      const b = shopState(shop).bucket;
      Object.assign(b, { available: available ?? b.available, maximumAvailable: maximumAvailable ?? b.maximumAvailable, restoreRate: restoreRate ?? b.restoreRate, at: Date.now() });
    },
    close: () => new Promise((resolve) => {
      for (const socket of hung) socket.destroy();
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
