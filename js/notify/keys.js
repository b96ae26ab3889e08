// Identifiers derived from a notification's stable key, shared by the push providers.
import { createHash } from 'node:crypto';

/**
 * A short id per notification (at most 32 URL-safe base64 characters): the Web Push
 * Topic, the FCM collapse key and tag, the apns-collapse-id. A repeated send (a crash
 * between the push service's answer and our record) replaces the notification on the
 * device instead of adding a second one.
 */
export const pushTopic = (key) => createHash('sha256').update(key).digest().toString('base64url').slice(0, 32);
