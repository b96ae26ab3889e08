// A local stand-in for a WooCommerce store's REST API (wc/v3), on a real socket, for the
// store-sync tests. It answers the routes our client uses the way WooCommerce does: Basic
// auth, the request validation WordPress runs from the controllers' schemas, WooCommerce's
// own error codes and bodies, and the objects' response shapes. State is in memory.
//
// Sources (woocommerce/woocommerce, read through the code index; no code copied):
// - coupons: plugins/woocommerce/includes/rest-api/Controllers/Version2/class-wc-rest-coupons-v2-controller.php
//   @ 2a74c4d82f80bedad4539f845cbab2e6f25faa76 (schema, prepare_object_for_database, get_formatted_item_data),
//   Version3/class-wc-rest-coupons-controller.php @ f43ae46ff30d8c3b5e5905f7461b133d0f6a5444 (namespace wc/v3, ?code=),
//   Version3/class-wc-rest-crud-controller.php @ 0059466f3da2b36aabd12f626f79ca3cdf5008f8 (create/get/update/delete, errors)
// - webhooks: Version1/class-wc-rest-webhooks-v1-controller.php @ 3e93c83882e2450e2d8c5b3271b48763d07dd28a
//   (routes, create/update/delete, collection params), Version2/class-wc-rest-webhooks-v2-controller.php
//   @ b71aa3b9f4d24ef7430011ceb3b58af0333d50f4 (schema and response), v3 only changes the namespace/api version
// - auth: plugins/woocommerce/includes/class-wc-rest-authentication.php @ 170a893915f9b3318ad7784b78955fd29a955434
// - system_status settings: Version2/class-wc-rest-system-status-v2-controller.php @ b4b698f029daec18034b90e70792a75ba15f3378
// - validation messages: WordPress src/wp-includes/rest-api.php (rest_validate_value_from_schema) and
//   class-wp-rest-request.php (has_valid_params: rest_invalid_param, "Invalid parameter(s): %s", data.params)
// - query parameters: WordPress src/wp-includes/rest-api/endpoints/class-wp-rest-controller.php
//   (get_collection_params: context, page >= 1, per_page 1..100, search), Version3/class-wc-rest-crud-controller.php
//   @ 0059466f3da2b36aabd12f626f79ca3cdf5008f8 (get_collection_params: the same plus after, before, offset,
//   order, orderby, ...), Version2/class-wc-rest-coupons-v2-controller.php @ 2a74c4d8 (adds `code`, a string),
//   Version1/class-wc-rest-webhooks-v1-controller.php @ 3e93c838 (offset, order, orderby, status), and the
//   DELETE routes of both (`force`, a boolean, default false)
//
// Unknown fields: WordPress validates only the declared args and the controllers read only the
// schema's writable keys, so WooCommerce SILENTLY IGNORES a field it lacks (and read-only ones,
// and date_expires_gmt on coupons: WC_Coupon has no setter for it). A silently dropped term is
// the bug these tests exist to catch, so by default (`unknownFields: 'reject'`) the stand-in
// refuses such a body with 400 `standin_unknown_field`, a code of its own that WooCommerce never
// sends; `unknownFields: 'ignore'` behaves as WooCommerce does.
import { createServer } from 'node:http';
import { randomBytes, createHmac } from 'node:crypto';

const COUPON_TYPES = ['percent', 'fixed_cart', 'fixed_product']; // wc_get_coupon_types()
const WEBHOOK_STATUSES = ['active', 'paused', 'disabled']; // wc_get_webhook_statuses()
const WEBHOOK_RESOURCES = ['coupon', 'customer', 'order', 'product']; // wc_is_webhook_valid_topic()
const WEBHOOK_EVENTS = ['created', 'updated', 'deleted', 'restored'];

// Writable properties of the shop_coupon schema (readonly ones are not request args).
const COUPON_SCHEMA = {
  code: { type: 'string' },
  amount: { type: 'string' },
  status: { type: 'string' },
  discount_type: { type: 'string', enum: COUPON_TYPES },
  description: { type: 'string' },
  date_expires: { type: 'date-time' },
  date_expires_gmt: { type: 'date-time', ignored: 'WC_Coupon has no set_date_expires_gmt, so WooCommerce drops it; send date_expires (site time)' },
  individual_use: { type: 'boolean' },
  product_ids: { type: 'array', items: 'integer' },
  excluded_product_ids: { type: 'array', items: 'integer' },
  usage_limit: { type: 'integer' },
  usage_limit_per_user: { type: 'integer' },
  limit_usage_to_x_items: { type: 'integer' },
  free_shipping: { type: 'boolean' },
  product_categories: { type: 'array', items: 'integer' },
  excluded_product_categories: { type: 'array', items: 'integer' },
  exclude_sale_items: { type: 'boolean' },
  minimum_amount: { type: 'string' },
  maximum_amount: { type: 'string' },
  email_restrictions: { type: 'array', items: 'string' },
  meta_data: { type: 'array', items: 'object' },
};
// The query parameters each route declares (WP_REST_Request::has_valid_params checks them
// before the permission callback runs). WordPress ignores a parameter a route does not declare;
// with `unknownFields: 'reject'` the stand-in refuses it, as it refuses unknown body fields.
const COLLECTION_QUERY = {
  context: { type: 'string', enum: ['view', 'embed', 'edit'] },
  page: { type: 'integer', minimum: 1 },
  per_page: { type: 'integer', minimum: 1, maximum: 100 },
  search: { type: 'string' },
  after: { type: 'string' },
  before: { type: 'string' },
  exclude: { type: 'array', items: 'integer' },
  include: { type: 'array', items: 'integer' },
  offset: { type: 'integer' },
  order: { type: 'string', enum: ['asc', 'desc'] },
};
const COUPON_QUERY = {
  ...COLLECTION_QUERY,
  modified_after: { type: 'string' }, modified_before: { type: 'string' }, dates_are_gmt: { type: 'boolean' },
  orderby: { type: 'string', enum: ['date', 'id', 'include', 'title', 'slug', 'modified'] },
  code: { type: 'string' },
  status: { type: 'string' }, // not declared, but WC_REST_Coupons_Controller::prepare_objects_query reads it
};
const WEBHOOK_QUERY = {
  ...COLLECTION_QUERY,
  orderby: { type: 'string', enum: ['date', 'id', 'title'] },
  status: { type: 'string', enum: ['all', ...WEBHOOK_STATUSES] },
};
const ITEM_QUERY = { GET: { context: COLLECTION_QUERY.context }, DELETE: { force: { type: 'boolean' } } };
// Parameters WordPress itself reads on every route (WP_REST_Server::serve_request, rest_filter_response_fields).
const GLOBAL_QUERY = ['_fields', '_embed', '_envelope', '_method', '_jsonp'];

const COUPON_READONLY = ['id', 'date_created', 'date_created_gmt', 'date_modified', 'date_modified_gmt', 'usage_count', 'used_by'];

// Writable properties of the webhook schema; delivery_url is readonly in the schema but both
// create_item and update_item read it from the request.
const WEBHOOK_SCHEMA = {
  name: { type: 'string' },
  status: { type: 'string', enum: WEBHOOK_STATUSES },
  topic: { type: 'string' },
  secret: { type: 'string' },
  delivery_url: { type: 'string' },
};
const WEBHOOK_READONLY = ['id', 'resource', 'event', 'hooks', 'date_created', 'date_created_gmt', 'date_modified', 'date_modified_gmt'];
// Action hooks per topic, as WC_Webhook::get_hooks reports them (subset for the topics tested).
const HOOKS = {
  'order.created': ['woocommerce_new_order'],
  'order.updated': ['woocommerce_update_order', 'woocommerce_order_refunded'],
  'customer.created': ['user_register', 'woocommerce_created_customer', 'woocommerce_new_customer'],
  'customer.updated': ['profile_update', 'woocommerce_update_customer'],
};

/**
 * @param {{key?: string, secret?: string, permissions?: 'read'|'write'|'read_write', currency?: string,
 *          decimals?: number, timezone?: string, gmtOffset?: string, unknownFields?: 'reject'|'ignore',
 *          closedIndex?: boolean, now?: () => number}} options
 *   closedIndex: /wp-json/ refuses visitors, as security plugins that close the REST API to them do.
 */
export async function startWooStandin({
  key = 'ck_standin_0123456789abcdef0123456789abcdef',
  secret = 'cs_standin_0123456789abcdef0123456789abcdef',
  currency = 'EUR', decimals = 2, timezone = 'Europe/Oslo', gmtOffset = '0',
  permissions = 'read_write', unknownFields = 'reject', closedIndex = false, now = () => Date.now(),
} = {}) {
  const state = { coupons: new Map(), webhooks: new Map(), nextId: 100, requests: [], hangAfterCommit: [] };
  const zone = timezone; // '' for a manual offset site (then gmtOffset applies)
  const sockets = new Set();
  let selfUrl = 'http://standin'; // home_url(), known once listening

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://standin');
      state.requests.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: raw });
      let out;
      try {
        out = route(req, url, raw);
      } catch (err) {
        out = err.wp ?? { status: 500, body: { code: 'internal_server_error', message: String(err?.stack ?? err), data: { status: 500 } } };
      }
      const hang = out.commit && state.hangAfterCommit.findIndex((h) => h.method === req.method && h.path.test(url.pathname));
      if (out.commit && hang >= 0) {
        // The change is committed, the answer never comes: the client times out.
        state.hangAfterCommit.splice(hang, 1);
        return;
      }
      res.writeHead(out.status, { 'content-type': 'application/json; charset=UTF-8', ...(out.headers ?? {}) });
      res.end(JSON.stringify(out.body));
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  function route(req, url, raw) {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/wp-json' && req.method === 'GET') {
      return closedIndex ? wpError(401, 'rest_login_required', 'REST API restricted to authenticated users.') : index(url);
    }
    const m = /^\/wp-json\/wc\/v3(\/.*)$/.exec(path);
    if (!m) return wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
    const auth = authenticate(req.headers.authorization);
    if (auth.error) throw auth.error;
    const denied = auth.user && keyPermission(req.method);
    if (denied) throw denied;
    const sub = m[1];
    // WP_REST_Server::EDITABLE is POST, PUT and PATCH; WordPress reads a JSON body only when
    // it is sent as application/json (else the fields are silently missing: refused here).
    const editable = ['POST', 'PUT', 'PATCH'].includes(req.method);
    if (editable && raw.length && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return wpError(415, 'standin_content_type', 'a JSON body must be sent as application/json');
    }
    const body = editable ? parseJson(raw) : {};
    const query = Object.fromEntries(url.searchParams);
    const params = { ...query, ...body }; // WP_REST_Request merges query and JSON body params
    // GET and DELETE carry their parameters in the query; POST and PUT bodies are validated
    // with the query merged in (validate below).
    const declared = /^\/(coupons|webhooks)$/.test(sub) ? (req.method === 'GET' ? (sub === '/coupons' ? COUPON_QUERY : WEBHOOK_QUERY) : null)
      : /^\/(coupons|webhooks)\/\d+$/.test(sub) ? ITEM_QUERY[req.method] : null;
    if (declared) checkQuery(query, declared);
    let r;
    if ((r = /^\/coupons$/.exec(sub))) return collection(req.method, auth, 'coupons', () => listCoupons(query), () => createCoupon(params));
    if ((r = /^\/coupons\/(\d+)$/.exec(sub))) return item(req.method, auth, Number(r[1]), getCoupon, (id) => updateCoupon(id, params), (id) => deleteCoupon(id, query.force));
    if ((r = /^\/webhooks$/.exec(sub))) return collection(req.method, auth, 'webhooks', () => listWebhooks(query), () => createWebhook(params));
    if ((r = /^\/webhooks\/(\d+)$/.exec(sub))) return item(req.method, auth, Number(r[1]), getWebhook, (id) => updateWebhook(id, params), (id) => deleteWebhook(id, query.force));
    if (sub === '/settings/general' && req.method === 'GET') return needAuth(auth, 'view') ?? { status: 200, body: generalSettings() };
    if (sub === '/system_status' && req.method === 'GET') return needAuth(auth, 'view') ?? { status: 200, body: systemStatus() };
    return wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
  }

  // WC_REST_Authentication::perform_basic_authentication: an unknown key authenticates nobody
  // (the route's permission check then answers 401); a known key with a wrong secret is an
  // authentication error. (WooCommerce runs Basic only over HTTPS; the stand-in serves http on
  // loopback and accepts it there.)
  function authenticate(header) {
    const m = /^Basic\s+(.+)$/i.exec(header ?? '');
    if (!m) return { user: null };
    const [k, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
    if (k !== key) return { user: null };
    if (rest.join(':') !== secret) {
      const out = wpError(401, 'woocommerce_rest_authentication_error', 'Consumer secret is invalid.');
      // send_unauthorized_headers: Basic auth failures carry a challenge.
      out.headers = { 'www-authenticate': 'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field."' };
      return { error: fail(out) };
    }
    return { user: 1 };
  }

  // WC_REST_Authentication::check_permissions: the key's read/write permission per method.
  function keyPermission(method) {
    const reads = method === 'GET' || method === 'HEAD';
    const allowed = reads ? permissions !== 'write' : permissions !== 'read';
    if (allowed) return null;
    return fail(wpError(401, 'woocommerce_rest_authentication_error', `The API key provided does not have ${reads ? 'read' : 'write'} permissions.`));
  }

  function needAuth(auth, action) {
    if (auth.user) return null;
    const msg = {
      list: ['woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.'],
      view: ['woocommerce_rest_cannot_view', 'Sorry, you cannot view this resource.'],
      create: ['woocommerce_rest_cannot_create', 'Sorry, you are not allowed to create resources.'],
      edit: ['woocommerce_rest_cannot_edit', 'Sorry, you are not allowed to edit this resource.'],
      delete: ['woocommerce_rest_cannot_delete', 'Sorry, you are not allowed to delete this resource.'],
    }[action];
    return wpError(401, msg[0], msg[1]);
  }

  function collection(method, auth, _name, list, create) {
    if (method === 'GET') return needAuth(auth, 'list') ?? list();
    if (method === 'POST') return needAuth(auth, 'create') ?? create();
    return wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
  }

  function item(method, auth, id, get, update, del) {
    if (method === 'GET') return needAuth(auth, 'view') ?? get(id);
    if (method === 'PUT' || method === 'PATCH' || method === 'POST') return needAuth(auth, 'edit') ?? update(id);
    if (method === 'DELETE') return needAuth(auth, 'delete') ?? del(id);
    return wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
  }

  // ---- coupons ----

  function listCoupons(query) {
    let all = [...state.coupons.values()].filter((c) => c.status !== 'trash' || query.status === 'trash');
    if (query.code !== undefined) {
      // wc_get_coupon_id_by_code: published coupons only, compared case-insensitively.
      const id = [...state.coupons.values()].find((c) => c.status === 'publish' && c.code === String(query.code).toLowerCase())?.id ?? 0;
      all = all.filter((c) => c.id === id);
    }
    return page(all.sort((a, b) => b.id - a.id).map(couponView), query);
  }

  function getCoupon(id) {
    const c = state.coupons.get(id);
    if (!c) return wpError(404, 'woocommerce_rest_shop_coupon_invalid_id', 'Invalid ID.');
    return { status: 200, body: couponView(c) };
  }

  function createCoupon(params) {
    if (params.id) return wpError(400, 'woocommerce_rest_shop_coupon_exists', 'Cannot create existing shop_coupon.');
    const values = validate(params, COUPON_SCHEMA, COUPON_READONLY, ['code'], 'shop_coupon');
    if (!values.code) return wpError(400, 'woocommerce_rest_empty_coupon_code', 'The coupon code cannot be empty.');
    const t = now();
    const coupon = {
      id: state.nextId++, code: '', amount: '0', status: 'publish', discount_type: 'fixed_cart', description: '',
      date_created: t, date_modified: t, date_expires: null, usage_count: 0, individual_use: false,
      product_ids: [], excluded_product_ids: [], usage_limit: 0, usage_limit_per_user: 0, limit_usage_to_x_items: 0,
      free_shipping: false, product_categories: [], excluded_product_categories: [], exclude_sale_items: false,
      minimum_amount: '', maximum_amount: '', email_restrictions: [], used_by: [], meta_data: [],
    };
    const err = applyCoupon(coupon, values);
    if (err) return err;
    state.coupons.set(coupon.id, coupon);
    return { status: 201, commit: true, body: couponView(coupon), headers: { location: `/wp-json/wc/v3/coupons/${coupon.id}` } };
  }

  function updateCoupon(id, params) {
    const coupon = state.coupons.get(id);
    if (!coupon) return wpError(400, 'woocommerce_rest_shop_coupon_invalid_id', 'Invalid ID.');
    const values = validate(params, COUPON_SCHEMA, [...COUPON_READONLY].filter((k) => k !== 'id'), [], 'shop_coupon');
    const copy = structuredClone(coupon);
    const err = applyCoupon(copy, values);
    if (err) return err;
    copy.date_modified = now();
    state.coupons.set(id, copy);
    return { status: 200, commit: true, body: couponView(copy) };
  }

  function deleteCoupon(id, force) {
    const coupon = state.coupons.get(id);
    if (!coupon) return wpError(404, 'woocommerce_rest_shop_coupon_invalid_id', 'Invalid ID.');
    const view = couponView(coupon);
    if (isTrue(force)) state.coupons.delete(id);
    else coupon.status = 'trash';
    return { status: 200, commit: true, body: view };
  }

  // WC_REST_Coupons_V2_Controller::prepare_object_for_database: each non-null writable value
  // through the coupon's setter; the code must not belong to another published coupon.
  function applyCoupon(coupon, values) {
    for (const [k, v] of Object.entries(values)) {
      if (v === null || v === undefined) continue;
      if (k === 'code') {
        const code = String(v).trim().toLowerCase(); // woocommerce_coupon_code filters: sanitize, wc_strtolower
        const other = [...state.coupons.values()].find((c) => c.code === code && c.status === 'publish' && c.id !== coupon.id);
        if (other) return wpError(400, 'woocommerce_rest_coupon_code_already_exists', 'The coupon code already exists');
        coupon.code = code;
      } else if (k === 'date_expires') {
        const at = parseWcDate(v);
        if (at === undefined) throw fail(invalidParams({ date_expires: `stand-in: WooCommerce would read ${JSON.stringify(v)} through strtotime; send "Y-m-d\\TH:i:s" site time` }, 'standin_invalid_date'));
        coupon.date_expires = at;
      } else if (k === 'meta_data') {
        for (const meta of v) {
          const found = coupon.meta_data.find((m) => m.key === meta.key);
          if (found) found.value = meta.value;
          else coupon.meta_data.push({ id: state.nextId++, key: meta.key, value: meta.value });
        }
      } else if (k === 'date_expires_gmt') {
        // Ignored, as in WooCommerce (reached only with unknownFields: 'ignore').
      } else if (k === 'status') {
        coupon.status = v === 'published' ? 'publish' : v;
      } else {
        coupon[k] = v;
      }
    }
    return null;
  }

  // WC_Data::set_date_prop for strings: with Z or an offset, that instant; otherwise the site's
  // local time (get_gmt_from_date). Numbers are UTC timestamps. '' clears.
  function parseWcDate(v) {
    if (v === '') return null;
    if (typeof v === 'number' || /^\d+$/.test(String(v))) return Number(v) * 1000;
    const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?(Z|[+-]\d\d:\d\d)?$/.exec(String(v));
    if (!m) return undefined;
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
    if (m[7]) return wall - (m[7] === 'Z' ? 0 : offsetOfText(m[7]) * 1000);
    return localToUtc(wall);
  }

  function couponView(c) {
    return {
      id: c.id, code: c.code, amount: wcFormatDecimal(c.amount), status: c.status,
      date_created: localText(c.date_created), date_created_gmt: gmtText(c.date_created),
      date_modified: localText(c.date_modified), date_modified_gmt: gmtText(c.date_modified),
      discount_type: c.discount_type, description: c.description,
      date_expires: c.date_expires === null ? null : localText(c.date_expires),
      date_expires_gmt: c.date_expires === null ? null : gmtText(c.date_expires),
      usage_count: c.usage_count, individual_use: c.individual_use,
      product_ids: c.product_ids, excluded_product_ids: c.excluded_product_ids,
      usage_limit: c.usage_limit || null, usage_limit_per_user: c.usage_limit_per_user || null,
      limit_usage_to_x_items: c.limit_usage_to_x_items || null, free_shipping: c.free_shipping,
      product_categories: c.product_categories, excluded_product_categories: c.excluded_product_categories,
      exclude_sale_items: c.exclude_sale_items, minimum_amount: wcFormatDecimal(c.minimum_amount),
      maximum_amount: wcFormatDecimal(c.maximum_amount), email_restrictions: c.email_restrictions,
      used_by: c.used_by, meta_data: c.meta_data,
      _links: { self: [{ href: `/wp-json/wc/v3/coupons/${c.id}` }], collection: [{ href: '/wp-json/wc/v3/coupons' }] },
    };
  }

  // ---- webhooks ----

  function listWebhooks(query) {
    const status = query.status ?? 'all'; // checked against WEBHOOK_QUERY
    const all = [...state.webhooks.values()].filter((w) => status === 'all' || w.status === status).sort((a, b) => b.date_created - a.date_created || b.id - a.id);
    return page(all.map(webhookView), query);
  }

  function getWebhook(id) {
    const w = state.webhooks.get(id);
    if (!w) return wpError(404, 'woocommerce_rest_shop_webhook_invalid_id', 'ID is invalid.');
    return { status: 200, body: webhookView(w) };
  }

  function createWebhook(params) {
    if (params.id) return wpError(400, 'woocommerce_rest_shop_webhook_exists', 'Cannot create existing shop_webhook.');
    const values = validate(params, WEBHOOK_SCHEMA, WEBHOOK_READONLY, ['topic', 'delivery_url'], 'webhook');
    if (!values.topic || !validTopic(values.topic)) return wpError(400, 'woocommerce_rest_shop_webhook_invalid_topic', 'Webhook topic is required and must be valid.');
    if (!values.delivery_url || !validUrl(values.delivery_url)) return wpError(400, 'woocommerce_rest_shop_webhook_invalid_delivery_url', 'Webhook delivery URL must be a valid URL starting with http:// or https://.');
    const t = now();
    const w = {
      id: state.nextId++,
      name: values.name || `Webhook created on ${new Date(t).toUTCString()}`,
      // create_item sets 'active' whatever `status` says (the new post is published).
      status: 'active',
      topic: values.topic, delivery_url: values.delivery_url,
      secret: values.secret || randomBytes(25).toString('base64'),
      api_version: 'wp_api_v3', date_created: t, date_modified: t,
    };
    state.webhooks.set(w.id, w);
    return { status: 201, commit: true, body: webhookView(w), headers: { location: `/wp-json/wc/v3/webhooks/${w.id}` } };
  }

  function updateWebhook(id, params) {
    const w = state.webhooks.get(id);
    if (!w) return wpError(400, 'woocommerce_rest_shop_webhook_invalid_id', 'ID is invalid.');
    const values = validate(params, WEBHOOK_SCHEMA, WEBHOOK_READONLY.filter((k) => k !== 'id'), [], 'webhook');
    const next = { ...w };
    if (values.topic) {
      if (!validTopic(values.topic)) return wpError(400, 'woocommerce_rest_shop_webhook_invalid_topic', 'Webhook topic must be valid.');
      next.topic = values.topic;
    }
    if (values.delivery_url) {
      if (!validUrl(values.delivery_url)) return wpError(400, 'woocommerce_rest_shop_webhook_invalid_delivery_url', 'Webhook delivery URL must be a valid URL starting with http:// or https://.');
      next.delivery_url = values.delivery_url;
    }
    if (values.secret) next.secret = values.secret;
    if (values.status) next.status = values.status;
    if (values.name) next.name = values.name;
    next.date_modified = now();
    state.webhooks.set(id, next);
    return { status: 200, commit: true, body: webhookView(next) };
  }

  function deleteWebhook(id, force) {
    if (!isTrue(force)) return wpError(501, 'woocommerce_rest_trash_not_supported', 'Webhooks do not support trashing.');
    const w = state.webhooks.get(id);
    if (!w) return wpError(404, 'woocommerce_rest_shop_webhook_invalid_id', 'Invalid ID.');
    state.webhooks.delete(id);
    return { status: 200, commit: true, body: webhookView(w) };
  }

  function webhookView(w) {
    const [resource, event] = w.topic.split('.');
    return {
      id: w.id, name: w.name, status: w.status, topic: w.topic, resource, event,
      hooks: HOOKS[w.topic] ?? [], delivery_url: w.delivery_url,
      date_created: localText(w.date_created), date_created_gmt: gmtText(w.date_created),
      date_modified: localText(w.date_modified), date_modified_gmt: gmtText(w.date_modified),
      _links: { self: [{ href: `/wp-json/wc/v3/webhooks/${w.id}` }], collection: [{ href: '/wp-json/wc/v3/webhooks' }] },
    };
  }

  // ---- settings, system status, index ----

  // WC_Settings_General fields as the settings controller serves them (value is always a string).
  function generalSettings() {
    const s = (id, label, type, value, extra = {}) => ({ id, label, description: '', type, default: '', tip: '', value, ...extra, group_id: 'general' });
    return [
      s('woocommerce_store_address', 'Address line 1', 'text', 'Storgata 1'),
      s('woocommerce_store_city', 'City', 'text', 'Oslo'),
      s('woocommerce_default_country', 'Country / State', 'select', 'NO', { options: { NO: 'Norway' } }),
      s('woocommerce_currency', 'Currency', 'select', currency, { default: 'USD', options: { [currency]: currency } }),
      s('woocommerce_currency_pos', 'Currency position', 'select', 'left', { default: 'left' }),
      s('woocommerce_price_thousand_sep', 'Thousand separator', 'text', ','),
      s('woocommerce_price_decimal_sep', 'Decimal separator', 'text', '.'),
      s('woocommerce_price_num_decimals', 'Number of decimals', 'number', String(decimals), { default: '2' }),
    ];
  }

  function systemStatus() {
    return {
      environment: { home_url: selfUrl, site_url: selfUrl, version: '9.9.0', default_timezone: 'UTC' },
      settings: { api_enabled: true, force_ssl: false, currency, currency_symbol: currency, currency_position: 'left',
        thousand_separator: ',', decimal_separator: '.', number_of_decimals: decimals },
    };
  }

  // WP_REST_Server::get_index (public), honouring _fields.
  function index(url) {
    const all = { name: 'Stand-in store', description: '', url: selfUrl, home: selfUrl,
      gmt_offset: gmtOffset, timezone_string: zone, namespaces: ['wp/v2', 'wc/v3'], authentication: {}, routes: {} };
    const fields = url.searchParams.get('_fields');
    const body = fields ? Object.fromEntries(fields.split(',').filter((f) => f in all).map((f) => [f, all[f]])) : all;
    return { status: 200, body };
  }

  // ---- request validation (rest_validate_value_from_schema) ----

  function validate(params, schema, readonly, required, title) {
    const missing = required.filter((k) => params[k] === undefined);
    if (missing.length) throw fail({ status: 400, body: { code: 'rest_missing_callback_param', message: `Missing parameter(s): ${missing.join(', ')}`, data: { status: 400, params: missing } } });
    const invalid = {};
    const values = {};
    for (const [k, v] of Object.entries(params)) {
      const spec = schema[k];
      if (!spec || spec.ignored) {
        if (unknownFields === 'reject' && !['context', '_fields', 'force'].includes(k)) {
          invalid[k] = spec?.ignored ? `stand-in: ${spec.ignored}`
            : readonly.includes(k) ? `stand-in: ${k} is read-only in the ${title} schema; WooCommerce ignores it`
              : `stand-in: ${k} is not a property of the ${title} schema; WooCommerce would silently ignore it`;
        }
        continue;
      }
      const problem = typeProblem(k, v, spec);
      if (problem) invalid[k] = problem;
      else values[k] = coerce(v, spec);
    }
    if (Object.keys(invalid).length) {
      const ours = Object.values(invalid).every((m) => m.startsWith('stand-in:'));
      throw fail(invalidParams(invalid, ours ? 'standin_unknown_field' : 'rest_invalid_param'));
    }
    return values;
  }

  // has_valid_params over the query: each declared parameter against its schema; an
  // undeclared one ignored (WordPress) or refused (`unknownFields: 'reject'`).
  function checkQuery(query, declared) {
    const invalid = {};
    for (const [k, v] of Object.entries(query)) {
      if (declared[k]) {
        const problem = typeProblem(k, v, declared[k]);
        if (problem) invalid[k] = problem;
      } else if (unknownFields === 'reject' && !GLOBAL_QUERY.includes(k)) {
        invalid[k] = `stand-in: ${k} is not a parameter of this route; WordPress would silently ignore it`;
      }
    }
    if (Object.keys(invalid).length) {
      const ours = Object.values(invalid).every((m) => m.startsWith('stand-in:'));
      throw fail(invalidParams(invalid, ours ? 'standin_unknown_field' : 'rest_invalid_param'));
    }
  }

  const home = `http://127.0.0.1:${await listen(server)}`;
  selfUrl = home;
  return {
    url: home,
    key,
    secret,
    /** Every coupon in the store (raw state: amounts as stored, instants in epoch ms). */
    coupons: () => [...state.coupons.values()].map((c) => ({ ...c, view: couponView(c) })),
    webhooks: () => [...state.webhooks.values()].map((w) => ({ ...w })),
    requests: state.requests,
    /** The next matching request is committed but never answered (the client times out). */
    hangAfterCommit(method, path) {
      state.hangAfterCommit.push({ method, path: path instanceof RegExp ? path : new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
    },
    /** Adds a coupon as a merchant would (no loyalty meta). */
    addMerchantCoupon(code) {
      const t = now();
      const id = state.nextId++;
      state.coupons.set(id, { id, code: code.toLowerCase(), amount: '5', status: 'publish', discount_type: 'fixed_cart', description: 'merchant', date_created: t, date_modified: t,
        date_expires: null, usage_count: 0, individual_use: false, product_ids: [], excluded_product_ids: [], usage_limit: 0, usage_limit_per_user: 0,
        limit_usage_to_x_items: 0, free_shipping: false, product_categories: [], excluded_product_categories: [], exclude_sale_items: false,
        minimum_amount: '', maximum_amount: '', email_restrictions: [], used_by: [], meta_data: [] });
      return String(id);
    },
    /**
     * Delivers `payload` for `topic` to every active webhook on it, as WC_Webhook::deliver does
     * (class-wc-webhook.php @ 00e1bc4da70f83469010330e589878684c73a921): JSON body, X-WC-Webhook-*
     * headers, base64 HMAC-SHA256 of the body under the decoded secret; a 2xx/301/302 answer resets
     * the failure count, anything else counts one, and past 5 the webhook is disabled.
     * `only`: deliver to that delivery URL alone. (The creation ping, `webhook_id=<id>`, is not sent.)
     */
    async deliver(topic, payload, { only } = {}) {
      const body = JSON.stringify(payload);
      const out = [];
      for (const w of state.webhooks.values()) {
        if (w.topic !== topic || w.status !== 'active' || (only && w.delivery_url !== only)) continue;
        const [resource, event] = topic.split('.');
        let status = 0;
        try {
          const res = await fetch(w.delivery_url, {
            method: 'POST', redirect: 'manual', body,
            headers: {
              'content-type': 'application/json', 'user-agent': 'WooCommerce/9.9.0 Hookshot (WordPress/6.7)',
              'x-wc-webhook-source': `${selfUrl}/`, 'x-wc-webhook-topic': topic, 'x-wc-webhook-resource': resource,
              'x-wc-webhook-event': event, 'x-wc-webhook-id': String(w.id), 'x-wc-webhook-delivery-id': randomBytes(16).toString('hex'),
              'x-wc-webhook-signature': createHmac('sha256', specialcharsDecode(w.secret)).update(body).digest('base64'),
            },
          });
          status = res.status;
          await res.arrayBuffer();
        } catch {
          status = 0;
        }
        if (status >= 200 && status < 303) w.failures = 0;
        else if ((w.failures ?? 0) > 5) w.status = 'disabled';
        else w.failures = (w.failures ?? 0) + 1;
        out.push({ id: String(w.id), url: w.delivery_url, status });
      }
      return out;
    },
    /** Pauses/disables a webhook the way WooCommerce does after repeated delivery failures. */
    setWebhookStatus(id, status) {
      state.webhooks.get(Number(id)).status = status;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };

  // ---- time in the site's zone ----

  function offsetAt(ms) {
    if (!zone) return offsetOfText(gmtOffsetText(gmtOffset));
    const text = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(ms).find((p) => p.type === 'timeZoneName').value;
    return text === 'GMT' ? 0 : offsetOfText(text.slice(3));
  }

  // Wall time -> instant, as PHP's DateTime does in get_gmt_from_date: in an overlap the first
  // (summer-time) instant; in a gap the offset from before the gap, so 02:30 becomes 03:30.
  function localToUtc(wall) {
    const before = offsetAt(wall - 86_400_000);
    const after = offsetAt(wall + 86_400_000);
    const fits = [before, after].map((o) => wall - o * 1000).filter((utc) => wall - offsetAt(utc) * 1000 === utc);
    return fits.length ? Math.min(...fits) : wall - before * 1000;
  }

  function localText(ms) {
    return new Date(Math.floor(ms / 1000) * 1000 + offsetAt(ms) * 1000).toISOString().slice(0, 19);
  }
}

// wp_specialchars_decode($secret, ENT_QUOTES) for the entities WordPress escapes in a secret.
function specialcharsDecode(text) {
  const named = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#039;': "'", '&#39;': "'" };
  return text.replace(/&(?:amp|lt|gt|quot|#0?39);/g, (m) => named[m]);
}

function gmtText(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
}

function offsetOfText(text) {
  const m = /^([+-])(\d\d):(\d\d)$/.exec(text);
  if (!m) throw new Error(`bad offset ${text}`);
  return (m[1] === '-' ? -1 : 1) * (+m[2] * 3600 + +m[3] * 60);
}

function gmtOffsetText(hours) {
  const [h, f = '0'] = String(hours).replace(/^[+-]/, '').split('.');
  const minutes = +h * 60 + Math.round((+`0.${f}`) * 60);
  const sign = String(hours).startsWith('-') ? '-' : '+';
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

// rest_validate_value_from_schema, for the types these schemas use.
function typeProblem(k, v, spec) {
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') return `${k} is not of type string.`;
      if (spec.enum && !spec.enum.includes(v)) return `${k} is not one of ${listText(spec.enum)}.`;
      return null;
    case 'integer':
      if (!isInteger(v)) return `${k} is not of type integer.`;
      // rest_validate_number_value_from_schema: the bounds, inclusive.
      if (spec.minimum !== undefined && spec.maximum !== undefined && (Number(v) < spec.minimum || Number(v) > spec.maximum)) {
        return `${k} must be between ${spec.minimum} (inclusive) and ${spec.maximum} (inclusive)`;
      }
      if (spec.minimum !== undefined && Number(v) < spec.minimum) return `${k} must be greater than or equal to ${spec.minimum}`;
      return null;
    case 'boolean':
      return isBoolean(v) ? null : `${k} is not of type boolean.`;
    case 'array': {
      const items = toArray(v);
      if (!items) return `${k} is not of type array.`;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const ok = spec.items === 'integer' ? isInteger(item) : spec.items === 'string' ? typeof item === 'string' : item !== null && typeof item === 'object' && !Array.isArray(item);
        if (!ok) return `${k}[${i}] is not of type ${spec.items}.`;
      }
      return null;
    }
    default:
      return null; // 'date-time' is no JSON Schema type: WordPress does not check it
  }
}

function coerce(v, spec) {
  if (spec.type === 'integer') return Number(v);
  if (spec.type === 'boolean') return v === true || v === 'true' || v === '1' || v === 1;
  if (spec.type === 'array') return toArray(v).map((x) => (spec.items === 'integer' ? Number(x) : x));
  return v;
}

// rest_is_integer: numeric and whole ("3" passes, 3.5 and "x" do not).
function isInteger(v) {
  return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
}

// rest_is_boolean: true/false, 'true'/'false', '1'/'0', 1/0.
function isBoolean(v) {
  return [true, false, 'true', 'false', '1', '0', 1, 0].includes(v);
}

// rest_is_array: a list, or a comma/space separated string (wp_parse_list).
function toArray(v) {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  return null;
}

// wp_sprintf's %l: "a, b, and c".
function listText(items) {
  return items.length === 2 ? `${items[0]} and ${items[1]}` : `${items.slice(0, -1).join(', ')}, and ${items.at(-1)}`;
}

// wc_format_decimal($value, 2) as get_formatted_item_data applies it: '' stays "0.00".
function wcFormatDecimal(value) {
  const text = String(value ?? '') || '0';
  const [int, frac = ''] = text.split('.');
  if (frac.length <= 2) return `${int}.${frac.padEnd(2, '0')}`;
  // Round half up on the third decimal, in integers.
  const units = BigInt(int + frac.slice(0, 2)) + (Number(frac[2]) >= 5 ? 1n : 0n);
  const s = units.toString().padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

function isTrue(v) {
  return v === true || v === 'true' || v === '1' || v === 1;
}

function validTopic(topic) {
  const [resource, event] = String(topic).toLowerCase().split('.');
  return WEBHOOK_RESOURCES.includes(resource) && WEBHOOK_EVENTS.includes(event);
}

// wc_is_valid_url: an http(s) scheme and a host.
function validUrl(url) {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function page(items, query) {
  const perPage = Number(query.per_page ?? 10); // 1..100, checked with the query
  const n = Number(query.page ?? 1);
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  return { status: 200, body: items.slice((n - 1) * perPage, n * perPage), headers: { 'x-wp-total': String(items.length), 'x-wp-totalpages': String(pages) } };
}

function parseJson(raw) {
  if (raw === '') return {};
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    throw fail(wpError(400, 'rest_invalid_json', 'Invalid JSON body passed.'));
  }
}

// A WordPress error answer carried by an Error, so deep validation can bail out with it.
function fail(out) {
  const err = new Error(out.body.message);
  err.wp = out;
  return err;
}

function wpError(status, code, message, extra = {}) {
  return { status, body: { code, message, data: { status, ...extra } } };
}

function invalidParams(params, code = 'rest_invalid_param') {
  return { status: 400, body: { code, message: `Invalid parameter(s): ${Object.keys(params).join(', ')}`, data: { status: 400, params } } };
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}
