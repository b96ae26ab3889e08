// Notification settings from the environment.
//   SMTP_URL                 smtp://user:pass@host:587 (email); MAIL_FROM the sender
//   VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT (mailto: or https:)   Web Push
//   SMS_WEBHOOK_URL          an HTTP SMS gateway (else SMS goes to the log)
//   MERCHANT_WEBHOOK_URL, MERCHANT_WEBHOOK_SECRET   signed outgoing webhooks
//   PUBLIC_URL               the shop, for links (push opens PUBLIC_URL + NOTIFY_DISCOUNTS_PATH)
//   NOTIFY_SECONDS (poll, default 5; 0 disables), NOTIFY_MAX_ATTEMPTS (8), NOTIFY_LEASE_SECONDS (60),
//   NOTIFY_BATCH (50), NOTIFY_BACKOFF_SECONDS (30: the first retry; doubles, capped at 6 h)
//   NOTIFY_LOCALE            the program's default locale (en)
//   NOTIFY_MAX_AGE_HOURS     notifications about events older than this expire unsent (168; 0: no limit)
//   FCM_*, APNS_*            push to the shop's mobile apps: see push-config.js
import { LoyaltyError } from '../errors.js';
import { pushConfig } from './push-config.js';

const num = (v, d) => (v === undefined || v === '' ? d : Number(v));

/** The program's default locale (NOTIFY_LOCALE, else en): what delivery and the admin preview fall back to. */
export const notifyLocale = (env = process.env) => env.NOTIFY_LOCALE || 'en';

export function notifyConfig(env = process.env) {
  const config = {
    smtpUrl: env.SMTP_URL || null,
    mailFrom: env.MAIL_FROM || 'Loyalty <loyalty@localhost>',
    vapid: null,
    smsUrl: env.SMS_WEBHOOK_URL || null,
    webhookUrl: env.MERCHANT_WEBHOOK_URL || null,
    webhookSecret: env.MERCHANT_WEBHOOK_SECRET || null,
    publicUrl: (env.PUBLIC_URL || 'http://localhost:8787').replace(/\/+$/, ''),
    discountsPath: env.NOTIFY_DISCOUNTS_PATH || '/account/discounts',
    defaultLocale: notifyLocale(env),
    seconds: num(env.NOTIFY_SECONDS, 5),
    maxAttempts: num(env.NOTIFY_MAX_ATTEMPTS, 8),
    leaseMs: num(env.NOTIFY_LEASE_SECONDS, 60) * 1000,
    batch: num(env.NOTIFY_BATCH, 50),
    backoffMs: num(env.NOTIFY_BACKOFF_SECONDS, 30) * 1000,
    maxAgeMs: num(env.NOTIFY_MAX_AGE_HOURS, 168) * 3600 * 1000,
    // The single-shop case: the mobile apps' push settings from the environment only.
    push: pushConfig({}, env),
  };
  if (env.VAPID_PUBLIC_KEY || env.VAPID_PRIVATE_KEY) {
    if (!env.VAPID_PUBLIC_KEY || !env.VAPID_PRIVATE_KEY) throw new LoyaltyError('config', 'VAPID_PRIVATE_KEY', 'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together');
    config.vapid = { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY, subject: env.VAPID_SUBJECT || 'mailto:loyalty@localhost' };
  }
  if (config.webhookUrl && !config.webhookSecret) throw new LoyaltyError('config', 'MERCHANT_WEBHOOK_SECRET', 'is required with MERCHANT_WEBHOOK_URL: webhooks are signed');
  return config;
}
