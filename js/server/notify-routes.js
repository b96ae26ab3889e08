// The notifications admin API under /api (bearer token): templates (read, override,
// revert, preview), customer contact details, opt-outs and push subscriptions, and the
// dead letters with a retry. Needs a SQL store; with the memory store no route is added.
// Every change lands in the audit log under the caller's name (contact values never do).
import { adminAuth, permit } from './admin-auth.js';
import { auditor } from './operators.js';
import { httpError } from './errors.js';
import { notifyStore } from '../notify/store.js';
import { TRIGGERS, CHANNELS, FIELDS, LOCALES, sampleData } from '../notify/templates.js';
import { resolveTemplate } from '../notify/dispatcher.js';
import { notifyLocale } from '../notify/config.js';
import { check, render, TemplateError } from '../notify/render.js';

const bearer = [{ bearer: [] }];
const str = { type: 'string', minLength: 1, maxLength: 200 };
const templateChannels = Object.keys(FIELDS);
const locale = { type: 'string', pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$' };
const templateParams = {
  type: 'object', required: ['trigger', 'channel', 'locale'],
  properties: { trigger: { type: 'string', enum: TRIGGERS }, channel: { type: 'string', enum: templateChannels }, locale },
};
const fieldsSchema = { type: 'object', additionalProperties: { type: 'string', maxLength: 100000 } };
const customerParams = { type: 'object', required: ['id'], properties: { id: str } };
const outboxParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } };
const channelParams = { type: 'object', required: ['id', 'channel'], properties: { id: str, channel: { type: 'string', enum: CHANNELS } } };
const subscription = {
  type: 'object', required: ['endpoint', 'keys'],
  properties: {
    endpoint: { type: 'string', pattern: '^https://', maxLength: 2000 },
    expirationTime: { type: ['number', 'null'] },
    keys: { type: 'object', required: ['p256dh', 'auth'], properties: { p256dh: str, auth: str }, additionalProperties: false },
  },
  additionalProperties: false,
};
const contact = {
  type: 'object',
  properties: {
    email: { type: ['string', 'null'], maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' },
    phone: { type: ['string', 'null'], maxLength: 32, pattern: '^\\+?[0-9 ()-]{4,}$' },
    name: { type: ['string', 'null'], maxLength: 200 },
    locale: { anyOf: [locale, { type: 'null' }] },
    opt_out: { type: 'array', items: { type: 'string', enum: CHANNELS }, uniqueItems: true },
  },
  additionalProperties: false,
};

const templateError = (reply, err) =>
  reply.code(422).send({ error: { code: 'template_error', path: err.field, field: err.field, line: err.line, column: err.column, message: err.detail } });

function checkFields(channel, fields) {
  const allowed = FIELDS[channel];
  for (const k of Object.keys(fields)) {
    if (!allowed.includes(k)) throw httpError(400, 'invalid_request', k, `unknown field for ${channel}: ${k} (expected ${allowed.join(', ')})`);
  }
}

/**
 * `defaultLocale`: the program's default locale (NOTIFY_LOCALE), as the dispatcher uses it,
 * so the templates shown and previewed are the ones that are sent.
 * @param {{loyalty: object, store?: object, token: string, now?: () => Date, vapidPublicKey?: string, defaultLocale?: string}} options
 */
export async function notifyRoutes(app, { loyalty, store, token, auth, now = () => new Date(), vapidPublicKey = process.env.VAPID_PUBLIC_KEY, defaultLocale = notifyLocale(process.env) }) {
  if (!store?.db) return;
  const P = loyalty.program.id;
  // The admin's own hook (operator sessions too), else the token acting as the owner: either
  // way request.operator names the author. Reads for every role, changes (templates,
  // contacts, opt-outs, retries) for staff and owners. A route that reads by POST (the
  // preview) says so in its config.
  app.addHook('onRequest', auth ?? adminAuth({ token, shop: P, db: store.db }));
  app.addHook('preHandler', (request) =>
    permit(request.routeOptions.config?.action ?? (request.method === 'GET' ? 'templates.read' : 'templates.write'))(request));
  const ns = notifyStore(store.db);
  const record = auditor(store.db, P);

  // --- templates -------------------------------------------------------------------
  app.get('/api/notify/templates', { schema: { summary: 'Triggers, channels, locales and the merchant overrides', security: bearer } }, async () => ({
    triggers: TRIGGERS, channels: templateChannels, fields: FIELDS, locales: LOCALES, overrides: await ns.templates(P),
  }));

  app.get('/api/notify/templates/:trigger/:channel/:locale', { schema: { summary: 'The template in effect (override or shipped default, after locale fallback)', params: templateParams, security: bearer } }, async (request) => {
    const { trigger, channel, locale: l } = request.params;
    const t = await resolveTemplate(ns, P, trigger, channel, l, defaultLocale);
    return { trigger, channel, locale: l, resolved_locale: t.locale, origin: t.origin, fields: t.fields };
  });

  app.put('/api/notify/templates/:trigger/:channel/:locale', { schema: { summary: 'Override a template (Liquid)', params: templateParams, body: fieldsSchema, security: bearer } }, async (request, reply) => {
    const { trigger, channel, locale: l } = request.params;
    checkFields(channel, request.body);
    try { check(channel, request.body); } catch (err) { if (err instanceof TemplateError) return templateError(reply, err); throw err; }
    await ns.putTemplate(P, trigger, channel, l.toLowerCase(), request.body);
    await record(request, 'template.override', `${trigger}/${channel}/${l.toLowerCase()}`, { fields: Object.keys(request.body) });
    const t = await resolveTemplate(ns, P, trigger, channel, l, defaultLocale);
    return { trigger, channel, locale: l, resolved_locale: t.locale, origin: t.origin, fields: t.fields };
  });

  app.delete('/api/notify/templates/:trigger/:channel/:locale', { schema: { summary: 'Revert to the shipped default', params: templateParams, security: bearer } }, async (request) => {
    const { trigger, channel, locale: l } = request.params;
    const deleted = await ns.deleteTemplate(P, trigger, channel, l.toLowerCase());
    if (deleted) await record(request, 'template.revert', `${trigger}/${channel}/${l.toLowerCase()}`, {});
    return { deleted };
  });

  // A preview renders and stores nothing: a read, open to viewers.
  app.post('/api/notify/preview', {
    config: { action: 'templates.read' },
    schema: {
      summary: 'Render a template against sample (or given) data; Liquid errors come back with their line',
      security: bearer,
      body: {
        type: 'object', required: ['trigger', 'channel'], additionalProperties: false,
        properties: {
          trigger: { type: 'string', enum: TRIGGERS }, channel: { type: 'string', enum: templateChannels }, locale,
          source: { anyOf: [{ type: 'string', maxLength: 100000 }, fieldsSchema] }, field: { type: 'string' }, data: { type: 'object' },
        },
      },
    },
  }, async (request, reply) => {
    const { trigger, channel, locale: l = defaultLocale, source, data } = request.body;
    const base = await resolveTemplate(ns, P, trigger, channel, l, defaultLocale);
    // `source` is the fields object, or one field's source (`field`, by default the main one).
    const main = { email: 'html', push: 'body', sms: 'text' }[channel];
    const given = typeof source === 'string' ? { [request.body.field ?? main]: source } : (source ?? {});
    checkFields(channel, given);
    try {
      check(channel, given);
      const rendered = await render(channel, { ...base.fields, ...given }, { ...sampleData(trigger), locale: base.locale, ...(data ?? {}) });
      return { trigger, channel, locale: base.locale, rendered };
    } catch (err) {
      if (err instanceof TemplateError) return templateError(reply, err);
      throw err;
    }
  });

  // --- customers -------------------------------------------------------------------
  app.get('/api/customers/:id/contact', { schema: { summary: 'Contact details, locale and opt-outs', params: customerParams, security: bearer } },
    (request) => ns.contact(P, request.params.id));

  // The audit row names the fields changed, not their values (personal data stays out of the log).
  app.put('/api/customers/:id/contact', { schema: { summary: 'Set contact details, locale, opt-outs (fields left out are kept)', params: customerParams, body: contact, security: bearer } },
    async (request) => {
      const out = await ns.putContact(P, request.params.id, request.body);
      await record(request, 'customer.contact', request.params.id, { fields: Object.keys(request.body) });
      return out;
    });

  const optOut = (out) => async (request) => {
    const { id, channel } = request.params;
    const result = await ns.setOptOut(P, id, channel, out);
    await record(request, out ? 'customer.opt_out' : 'customer.opt_in', id, { channel });
    return result;
  };
  app.put('/api/customers/:id/opt-outs/:channel', { schema: { summary: 'Opt the customer out of a channel', params: channelParams, security: bearer } }, optOut(true));
  app.delete('/api/customers/:id/opt-outs/:channel', { schema: { summary: 'Opt the customer back in', params: channelParams, security: bearer } }, optOut(false));

  app.get('/api/customers/:id/push-subscriptions', { schema: { summary: "The customer's Web Push subscriptions", params: customerParams, security: bearer } },
    async (request) => ({ subscriptions: await ns.subscriptions(P, request.params.id) }));

  app.post('/api/customers/:id/push-subscriptions', { schema: { summary: 'Store a PushSubscription (its toJSON())', params: customerParams, body: subscription, security: bearer } },
    async (request, reply) => {
      await ns.addSubscription(P, request.params.id, request.body);
      // The endpoint is a capability URL: its origin is enough to tell which service.
      await record(request, 'customer.push_subscription.add', request.params.id, { service: new URL(request.body.endpoint).origin });
      return reply.code(201).send({ subscriptions: await ns.subscriptions(P, request.params.id) });
    });

  app.delete('/api/customers/:id/push-subscriptions', {
    schema: { summary: 'Remove a subscription by endpoint', params: customerParams, security: bearer,
      body: { type: 'object', required: ['endpoint'], properties: { endpoint: { type: 'string' } }, additionalProperties: false } },
  }, async (request) => {
    const deleted = await ns.removeSubscription(P, request.params.id, request.body.endpoint);
    if (deleted) await record(request, 'customer.push_subscription.remove', request.params.id, {});
    return { deleted };
  });

  app.get('/api/notify/vapid-public-key', { schema: { summary: 'The VAPID public key for PushManager.subscribe', security: bearer } }, async () => {
    if (!vapidPublicKey) throw httpError(404, 'not_found', '', 'Web Push is not configured (VAPID_PUBLIC_KEY)');
    return { publicKey: vapidPublicKey };
  });

  // --- outbox and dead letters -----------------------------------------------------
  app.get('/api/notify/dead-letters', {
    schema: { summary: 'Notifications that failed every attempt', security: bearer,
      querystring: { type: 'object', properties: { after: { type: 'string', pattern: '^[0-9]{1,18}$' }, limit: { type: 'string', pattern: '^[0-9]{1,3}$' } } } },
  }, async (request) => {
    const limit = Math.min(200, Number(request.query.limit ?? 50)) || 50;
    const items = await ns.deadLetters(P, { after: Number(request.query.after ?? 0), limit });
    return { items, next: items.length === limit ? String(items[items.length - 1].id) : null, counts: await ns.counts(P) };
  });

  app.get('/api/notify/outbox/:id', { schema: { summary: 'One outbox row and its deliveries per channel', params: outboxParams, security: bearer } }, async (request) => {
    const row = await ns.row(P, Number(request.params.id));
    if (!row) throw httpError(404, 'not_found', 'id', `no outbox row ${request.params.id}`);
    return row;
  });

  app.post('/api/notify/outbox/:id/retry', { schema: { summary: 'Retry a dead letter now', params: outboxParams, security: bearer } }, async (request) => {
    const row = await ns.retry(P, Number(request.params.id), now());
    if (!row) throw httpError(404, 'not_found', 'id', `no dead or pending outbox row ${request.params.id}`);
    await record(request, 'notify.retry', request.params.id, { key: row.key });
    return row;
  });
}
export default notifyRoutes;
