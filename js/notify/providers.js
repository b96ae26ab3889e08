// Delivery providers. One small interface for every channel:
//   provider.send(message, { key }) -> { id }   (throws on failure)
// `key` is the notification's stable idempotency key (derived from the outbox key), sent
// along wherever the receiving side can deduplicate on it: the email Message-ID, the Web
// Push Topic, an Idempotency-Key header, the webhook's event id. An error with
// `permanent: true` is not retried; `gone: true` (push 404/410) drops the subscription.
import { createHash, createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import webpush from 'web-push';
import { pushTopic } from './keys.js';
import { pushProviders } from './push-config.js';

export { pushTopic };

const hash = (s) => createHash('sha256').update(s).digest();

/** RFC 5322 Message-ID for a notification: the same key always gives the same id. */
export const messageId = (key, domain = 'loyalty.invalid') => `<${hash(key).toString('hex').slice(0, 32)}@${domain}>`;


async function post(url, body, headers, timeoutMs) {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    const err = new Error(`HTTP ${res.status} from ${new URL(url).origin}: ${text.slice(0, 200)}`);
    // A 4xx other than 408/429 will not get better by retrying.
    err.permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    throw err;
  }
  return { status: res.status, text };
}

/** Email over SMTP. `url` is an SMTP URL (smtp://user:pass@host:587, smtps://...). */
export function smtpProvider({ url, from, domain, transport }) {
  // Timeouts well inside the dispatcher's lease (60 s), so a hung server cannot outlive it.
  const t = transport ?? nodemailer.createTransport({ url, connectionTimeout: 10000, greetingTimeout: 10000, socketTimeout: 30000 });
  const mailDomain = domain ?? (from?.match(/@([^>\s]+)/)?.[1] ?? 'loyalty.invalid');
  return {
    channel: 'email',
    async send({ to, subject, html, text, headers = {} }, { key }) {
      const id = messageId(key, mailDomain);
      try {
        const info = await t.sendMail({ from, to, subject, html, text, messageId: id, headers: { 'X-Loyalty-Key': key, ...headers } });
        return { id: info.messageId ?? id };
      } catch (err) {
        // 5xx replies (mailbox unknown, rejected) are permanent; connection errors are not.
        if (err.responseCode >= 500 && err.responseCode < 600 && err.command !== 'CONN') err.permanent = true;
        throw err;
      }
    },
    close: () => t.close?.(),
  };
}

/** Web Push with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291). */
export function webPushProvider({ publicKey, privateKey, subject, ttl = 7 * 24 * 3600, timeoutMs = 10000 }) {
  const vapidDetails = { subject, publicKey, privateKey };
  const options = (key) => ({ vapidDetails, TTL: ttl, topic: pushTopic(key), urgency: 'normal' });
  return {
    channel: 'push',
    publicKey,
    /** The request web-push would send: {method, headers, body, endpoint}. */
    requestDetails: (subscription, payload, key) => webpush.generateRequestDetails(subscription, payload, options(key)),
    // web-push builds and signs the request (VAPID JWT, aes128gcm payload); fetch sends it.
    async send({ subscription, payload }, { key }) {
      const req = webpush.generateRequestDetails(subscription, payload, options(key));
      const res = await fetch(req.endpoint, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        const err = new Error(`push service answered ${res.status}: ${text.slice(0, 200)}`);
        err.statusCode = res.status;
        if (res.status === 404 || res.status === 410) Object.assign(err, { gone: true, permanent: true });
        else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) err.permanent = true;
        throw err;
      }
      return { id: res.headers.get('location') ?? null };
    },
  };
}

/** SMS through an HTTP gateway: POST {id, to, text} with an Idempotency-Key header. */
export function httpSmsProvider({ url, timeoutMs = 10000 }) {
  return {
    channel: 'sms',
    async send({ to, text }, { key }) {
      await post(url, JSON.stringify({ id: key, to, text }), { 'idempotency-key': key }, timeoutMs);
      return { id: key };
    },
  };
}

/** SMS to the log, for development: nothing leaves the machine. */
export function logSmsProvider({ log = console } = {}) {
  return {
    channel: 'sms',
    async send({ to, text }, { key }) {
      log.info?.({ sms: { to, text, key } }, 'sms (log provider)');
      return { id: `log:${key}` };
    },
  };
}

/** Signs a webhook body: hex HMAC-SHA256 of "<timestamp>.<body>". */
export const signWebhook = (secret, timestamp, body) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/**
 * Outgoing merchant webhooks: POST the JSON payload with
 *   X-Loyalty-Event-Id: <the notification key, to deduplicate>
 *   X-Loyalty-Timestamp: <unix seconds>
 *   X-Loyalty-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 */
export function webhookProvider({ url, secret, timeoutMs = 10000, now = () => Date.now() }) {
  return {
    channel: 'webhook',
    async send({ payload }, { key }) {
      const body = JSON.stringify(payload);
      const ts = String(Math.floor(now() / 1000));
      await post(url, body, {
        'x-loyalty-event-id': key,
        'x-loyalty-timestamp': ts,
        'x-loyalty-signature': `sha256=${signWebhook(secret, ts, body)}`,
        'idempotency-key': key,
      }, timeoutMs);
      return { id: key };
    },
  };
}

/** Providers from a notifyConfig(): {email?, push? (Web Push), fcm?, apns?, sms?, webhook?}. */
export function providersFrom(config, { log = console } = {}) {
  const p = {};
  if (config.smtpUrl) p.email = smtpProvider({ url: config.smtpUrl, from: config.mailFrom });
  if (config.vapid) p.push = webPushProvider(config.vapid);
  p.sms = config.smsUrl ? httpSmsProvider({ url: config.smsUrl }) : logSmsProvider({ log });
  if (config.webhookUrl) p.webhook = webhookProvider({ url: config.webhookUrl, secret: config.webhookSecret });
  // The shop's mobile apps: delivered on the 'push' channel beside Web Push (see dispatcher.js).
  Object.assign(p, pushProviders(config.push));
  return p;
}
