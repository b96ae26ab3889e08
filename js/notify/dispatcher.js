// The dispatcher: claims due outbox rows under a lease, renders each notify effect per
// channel in the customer's locale, delivers it through the providers and records every
// channel's outcome, then marks the row delivered, schedules a retry with backoff, or
// moves it to the dead letters after maxAttempts.
//
// Exactly once: a row is claimed with FOR UPDATE SKIP LOCKED and a lease, so two
// dispatchers never hold the same row. Each channel (each push subscription) is recorded
// as sent right after its provider accepts it, so a dispatcher that crashes after channel
// A and before channel B resends only B when the lease runs out and the row is claimed
// again. The one window left, between the provider's acceptance and that record, is
// covered by idempotency keys derived from the outbox key (Message-ID, push Topic,
// Idempotency-Key and X-Loyalty-Event-Id headers). The lease is renewed before every send;
// a dispatcher that lost it stops touching the row.
//
// The 'push' channel fans out to every target the customer has: Web Push subscriptions
// (provider `push`) and the shop's mobile app devices (providers `fcm` and `apns`), each
// recorded on its own (target = endpoint, or '<platform>:<token>'). One channel, not a
// separate 'app' one: the engine's programs name channels email, push, sms and webhook,
// so every program that already says "push" reaches the apps with no change, and a
// customer who opts out of push is opted out of it everywhere, as they would expect.
import { randomUUID } from 'node:crypto';
import { notifyStore } from './store.js';
import { deviceStore, deviceTarget } from './device-store.js';
import { shippedTemplate, localeChain, FIELDS } from './templates.js';
import { render } from './render.js';

const DONE = new Set(['sent', 'skipped', 'gone']);
const STORE_EFFECTS = new Set(['coupon.issued', 'coupon.expired', 'coupon.cancelled']);
const MAX_BACKOFF_MS = 6 * 3600 * 1000;

class LeaseLost extends Error {}

/** Delay before retry number `attempts` (1-based): base, 2 base, 4 base, ... capped. */
export function backoff(attempts, baseMs, jitter = 0.1, random = Math.random) {
  const ms = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ms * (1 + jitter * (2 * random() - 1)));
}

/**
 * The effective template for (trigger, channel, locale): the first locale in the fallback
 * chain with a merchant override or a shipped default. Fields an override leaves out come
 * from the shipped default of the same locale. -> {fields, locale, origin} or null.
 */
export async function resolveTemplate(ns, program, trigger, channel, locale, defaultLocale = 'en') {
  for (const l of localeChain(locale, defaultLocale)) {
    const override = ns ? await ns.template(program, trigger, channel, l) : null;
    const shipped = shippedTemplate(trigger, channel, l);
    const fallback = () => shippedTemplate(trigger, channel, defaultLocale) ?? shippedTemplate(trigger, channel, 'en');
    if (override) return { fields: { ...(shipped ?? fallback() ?? {}), ...override.fields }, locale: l, origin: 'override' };
    if (shipped) return { fields: shipped, locale: l, origin: 'default' };
  }
  return null;
}

/**
 * @param {{store: {db: object}, program: string, providers: object, config?: object,
 *          log?: object, now?: () => Date, owner?: string, jitter?: number}} options
 */
export function createDispatcher({ store, program, providers = {}, config = {}, log = console, now = () => new Date(), owner = randomUUID(), jitter = 0.1 }) {
  if (!store?.db) throw new TypeError('the notification dispatcher needs a SQL store (PGlite or PostgreSQL)');
  const ns = notifyStore(store.db);
  const ds = deviceStore(store.db);
  const {
    maxAttempts = 8, leaseMs = 60000, batch = 50, backoffMs = 30000, maxAgeMs = 7 * 24 * 3600 * 1000,
    publicUrl = 'http://localhost:8787', discountsPath = '/account/discounts', defaultLocale = 'en',
  } = config;

  const templateData = (row, contact, locale) => ({
    ...(row.effect.data ?? {}),
    trigger: row.effect.trigger,
    customer: row.customer,
    name: contact.name ?? null,
    email: contact.email ?? null,
    locale,
    discounts_url: `${publicUrl}${discountsPath}`,
    shop_url: publicUrl,
  });

  async function renderFor(row, channel, contact) {
    const t = await resolveTemplate(ns, program, row.effect.trigger, channel, contact.locale, defaultLocale);
    if (!t) throw Object.assign(new Error(`no template for ${row.effect.trigger}/${channel}`), { permanent: true });
    return render(channel, t.fields, templateData(row, contact, t.locale));
  }

  const webhookPayload = (row) => ({
    id: row.key, type: row.type, program, customer: row.customer, event_id: row.event_id, created_at: row.created_at,
    ...(row.type === 'notify' ? { trigger: row.effect.trigger, channels: row.effect.channels, data: row.effect.data } : { effect: row.effect }),
  });

  // Renews the lease right before a send: a dispatcher that lost its row must not send.
  async function guard(row) {
    if (!(await ns.renew(row.id, owner, now(), leaseMs))) throw new LeaseLost(`lease on outbox ${row.id} lost`);
  }

  // `gone` drops a target the push service no longer knows (a Web Push subscription by default).
  async function send(row, channel, target, message, provider, key, gone = () => ns.removeSubscription(program, row.customer, target)) {
    await guard(row);
    try {
      const { id } = await provider.send(message, { key });
      await ns.markDelivery(row, channel, target, { status: 'sent', provider_id: id ?? null, attempt: true, now: now() });
    } catch (err) {
      if (err instanceof LeaseLost) throw err;
      const status = err.gone ? 'gone' : 'failed';
      await ns.markDelivery(row, channel, target, { status, reason: String(err.message ?? err).slice(0, 500), attempt: true, now: now() });
      // The push service says the subscription or device is gone: drop it, nothing to retry.
      if (err.gone) await gone();
      else throw Object.assign(err, { channel });
    }
  }

  // What opening a push leads to: the app's discounts screen with the code, wherever the
  // notification is shown (the app reads data.route; a browser opens url).
  const deepLink = (row, url) => ({ route: 'discounts', code: row.effect.data?.coupon?.code ?? null, url: url ?? null, trigger: row.effect.trigger, key: row.key });

  /**
   * The push channel: every Web Push subscription and app device of the customer not yet
   * done, each rendered in its locale (a device's app locale, else the customer's) and
   * recorded on its own. Throws the first failure after trying every target.
   */
  async function deliverPush(row, contact, done, skip) {
    const web = providers.push;
    const apps = { fcm: providers.fcm, apns: providers.apns };
    if (!web && !apps.fcm && !apps.apns) return skip('not_configured');
    const pending = (target) => !done.has(`push\u0000${target}`);
    const subs = web ? (await ns.subscriptions(program, row.customer)).filter((s) => pending(s.endpoint)) : [];
    const devices = apps.fcm || apps.apns ? (await ds.devices(program, row.customer)).filter((d) => apps[d.platform] && pending(deviceTarget(d))) : [];
    if (!subs.length && !devices.length) {
      if (![...done].some((d) => d.startsWith('push\u0000'))) return skip('no_subscription');
      return;
    }
    const key = `${program}/${row.key}`;
    const rendered = new Map();
    const contentIn = async (locale) => {
      if (!rendered.has(locale)) rendered.set(locale, await renderFor(row, 'push', { ...contact, locale }));
      return rendered.get(locale);
    };
    let first;
    const attempt = async (fn) => {
      try { await fn(); } catch (err) { if (err instanceof LeaseLost) throw err; first ??= err; }
    };
    if (subs.length) {
      const content = await contentIn(contact.locale);
      const payload = JSON.stringify({ title: content.title, body: content.body, url: content.url, tag: row.key, data: deepLink(row, content.url) });
      for (const s of subs) await attempt(() => send(row, 'push', s.endpoint, { subscription: s, payload }, web, key));
    }
    // Rendering inside the attempt: a merchant template broken in one locale fails the
    // devices in that locale, not the others.
    for (const d of devices) {
      await attempt(async () => {
        const content = await contentIn(d.locale ?? contact.locale);
        const message = { device: d, title: content.title, body: content.body, data: deepLink(row, content.url) };
        await send(row, 'push', deviceTarget(d), message, apps[d.platform], key, () => ds.dropToken(program, d.platform, d.token));
      });
    }
    if (first) throw first;
  }

  /** Delivers the channels of one row not yet done; throws the first failure after trying all. */
  async function deliverChannel(row, channel, contact, done) {
    const skip = (reason, target = '') => ns.markDelivery(row, channel, target, { status: 'skipped', reason, now: now() });
    if (channel === 'store') return send(row, channel, '', row.effect, providers.store, `${program}/${row.key}`);
    if (contact.opt_out.includes(channel)) return skip('opted_out');
    if (channel === 'push') return deliverPush(row, contact, done, skip);
    const provider = providers[channel];
    if (!provider) return skip('not_configured');
    const key = `${program}/${row.key}`;
    if (channel === 'webhook') return send(row, channel, '', { payload: webhookPayload(row) }, provider, `${row.key}`);
    if (channel === 'email' && !contact.email) return skip('no_address');
    if (channel === 'sms' && !contact.phone) return skip('no_address');
    const content = await renderFor(row, channel, contact);
    if (channel === 'email') return send(row, channel, '', { to: contact.name ? { name: contact.name, address: contact.email } : contact.email, ...content }, provider, key);
    if (channel === 'sms') return send(row, channel, '', { to: contact.phone, text: content.text }, provider, key);
    throw Object.assign(new Error(`unknown channel ${channel}`), { permanent: true });
  }

  async function deliverRow(row) {
    const t = now();
    // A notification about an event long past (an import of old orders, a backlog after an
    // outage) is not news any more: it expires unsent. Merchant webhooks still go out.
    if (row.type === 'notify' && maxAgeMs > 0 && row.event_at && t.getTime() - Date.parse(row.event_at) > maxAgeMs) {
      await ns.finish(row.id, owner, { status: 'expired', now: t, last_error: `event at ${row.event_at} is older than the notification max age` });
      return 'expired';
    }
    // Events for other accounts are applied by createLoyalty itself; nothing to send.
    // Coupon effects also go to the shop's own store (the discount code in Shopify or
    // WooCommerce): channel `store`, delivered and retried like any other.
    const channels = row.type === 'notify' ? (row.effect.channels ?? [])
      : row.type === 'event' ? []
      : [...(providers.store && STORE_EFFECTS.has(row.type) ? ['store'] : []), ...(providers.webhook ? ['webhook'] : [])];
    const recorded = await ns.deliveries(row.id);
    const done = new Set(recorded.filter((d) => DONE.has(d.status)).map((d) => `${d.channel}\u0000${d.target ?? ''}`));
    const contact = row.customer ? await ns.contact(program, row.customer) : { opt_out: [] };
    const failures = [];
    for (const channel of channels) {
      if (channel !== 'push' && done.has(`${channel}\u0000`)) continue;
      if (channel === 'push' && done.has('push\u0000')) continue; // skipped as a whole
      try {
        await deliverChannel(row, channel, contact, done);
      } catch (err) {
        if (err instanceof LeaseLost) throw err;
        if (!err.channel) {
          // A failure before the send (a template error): record it against the channel.
          await ns.markDelivery(row, channel, '', { status: 'failed', reason: String(err.message ?? err).slice(0, 500), attempt: true, now: now() });
        }
        failures.push({ channel, err });
      }
    }
    if (!failures.length) {
      await ns.finish(row.id, owner, { status: 'delivered', now: now() });
      return 'delivered';
    }
    const last_error = failures.map((f) => `${f.channel}: ${f.err.message ?? f.err}`).join('; ').slice(0, 1000);
    if (row.attempts >= maxAttempts || failures.every((f) => f.err.permanent)) {
      await ns.finish(row.id, owner, { status: 'dead', now: now(), last_error });
      log.warn?.({ outbox: row.id, key: row.key, error: last_error }, 'notification dead-lettered');
      return 'dead';
    }
    // A store's rate limit says when to come back (Retry-After, GraphQL cost): never sooner.
    const wait = Math.max(backoff(row.attempts, backoffMs, jitter), ...failures.map((f) => f.err.retryAfterMs ?? 0));
    await ns.finish(row.id, owner, { status: 'pending', now: now(), last_error, next_attempt_at: new Date(t.getTime() + wait) });
    return 'retry';
  }

  /** Claims one batch and delivers it: {claimed, delivered, retry, dead, expired, lost}. */
  async function runOnce({ limit = batch } = {}) {
    const rows = await ns.claim(program, owner, now(), leaseMs, limit);
    const summary = { claimed: rows.length, delivered: 0, retry: 0, dead: 0, expired: 0, lost: 0 };
    for (const row of rows) {
      try {
        summary[await deliverRow(row)]++;
      } catch (err) {
        if (err instanceof LeaseLost) { summary.lost++; continue; }
        // A store failure: the lease runs out and the row is tried again, up to maxAttempts.
        summary.lost++;
        log.error?.({ err, outbox: row.id }, 'notification dispatch failed');
        if (row.attempts >= maxAttempts) {
          await ns.finish(row.id, owner, { status: 'dead', now: now(), last_error: String(err.message ?? err).slice(0, 1000) }).catch(() => {});
        }
      }
    }
    return summary;
  }

  /** Runs batches until none is due (or `max` batches): the totals. */
  async function drain({ max = Infinity } = {}) {
    const total = { claimed: 0, delivered: 0, retry: 0, dead: 0, expired: 0, lost: 0 };
    for (let i = 0; i < max; i++) {
      const s = await runOnce();
      for (const k of Object.keys(total)) total[k] += s[k];
      if (s.claimed < batch) break;
    }
    return total;
  }

  let timer = null;
  let running = null;
  let stopped = false;
  /** Polls every `seconds`; a full batch goes straight on to the next. */
  function start(seconds = config.seconds ?? 5) {
    stopped = false;
    const loop = () => {
      if (stopped) return;
      running = drain()
        .then((s) => { if (s.claimed) log.info?.({ notify: s }, 'notifications'); })
        .catch((err) => log.error?.({ err }, 'notification dispatch failed'))
        .finally(() => {
          running = null;
          if (!stopped) { timer = setTimeout(loop, seconds * 1000); timer.unref?.(); }
        });
    };
    if (seconds > 0) loop();
    return dispatcher;
  }
  async function stop() {
    stopped = true;
    clearTimeout(timer);
    await running;
  }

  const dispatcher = { owner, runOnce, drain, start, stop, renderFor, store: ns };
  return dispatcher;
}
