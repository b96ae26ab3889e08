// Notifications: the engine emits `notify` effects into the outbox (in the ledger's
// transaction); this dispatcher renders and delivers them. See dispatcher.js.
import { notifyConfig } from './config.js';
import { providersFrom } from './providers.js';
import { createDispatcher } from './dispatcher.js';

export { notifyConfig } from './config.js';
export { createDispatcher, resolveTemplate, backoff } from './dispatcher.js';
export { smtpProvider, webPushProvider, httpSmsProvider, logSmsProvider, webhookProvider, signWebhook, messageId, pushTopic, providersFrom } from './providers.js';
export { render, check, TemplateError } from './render.js';
export { TRIGGERS, CHANNELS, FIELDS, LOCALES, shippedTemplate, localeChain, sampleData } from './templates.js';
export { notifyStore } from './store.js';
export { deviceStore, deviceTarget, PLATFORMS, MAX_DEVICES } from './device-store.js';
export { pushConfig, pushProviders, PUSH_SECRETS } from './push-config.js';
export { fcmProvider, fcmMessage, fcmError, FCM_SCOPE } from './fcm.js';
export { apnsProvider, apnsPayload, apnsError, providerToken } from './apns.js';

/**
 * The dispatcher of a program over a SQL store, with the providers of a notifyConfig(),
 * not started. -> {dispatcher, stop()}: stop ends the loop, then closes the providers.
 * @param {{store: object, program: string, config: object, log?: object, jitter?: number, providers?: object}} options
 *   `providers`: more channels (a shop's `store`, its app pushes) beside those of `config`.
 */
export function createNotifier({ store, program, config, log = console, jitter, providers: extra = {} }) {
  const providers = { ...providersFrom(config, { log }), ...extra };
  const dispatcher = createDispatcher({ store, program, providers, config, log, jitter });
  return {
    dispatcher,
    async stop() {
      await dispatcher.stop();
      for (const p of Object.values(providers)) await p.close?.();
    },
  };
}

/**
 * Starts the dispatcher loop for `loyalty serve` (NOTIFY_SECONDS, default 5; 0 disables).
 * Null with a store that is not SQL. -> {dispatcher, stop()}
 */
export function startNotifier({ loyalty, store, env = process.env, log = console, config = notifyConfig(env) }) {
  if (!store?.db || !(config.seconds > 0)) return null;
  const notifier = createNotifier({ store, program: loyalty.program.id, config, log });
  notifier.dispatcher.start(config.seconds);
  return notifier;
}
