// Store credentials at rest: AES-256-GCM under a key from the environment
// (LOYALTY_ENCRYPTION_KEY, 32 bytes as base64 or hex). A sealed value is
// `v1.<iv>.<tag>.<ciphertext>` (base64url): the version leaves room to rotate the scheme,
// the tag makes a tampered or wrongly keyed value fail instead of decrypting to garbage.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LoyaltyError } from '../errors.js';

/** The 32-byte key from its text (base64 or hex), or a LoyaltyError naming `name`. */
export function encryptionKey(text, name = 'LOYALTY_ENCRYPTION_KEY') {
  const raw = typeof text === 'string' ? text.trim() : '';
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new LoyaltyError('config', name, 'must be 32 random bytes as base64 or hex (openssl rand -base64 32)');
  return key;
}

/** Encrypts `plaintext` (a string) under `key`; `aad` binds it to its owner (the shop id). */
export function seal(key, plaintext, aad = '') {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(String(plaintext), 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** Decrypts what `seal` made with the same key and `aad`; throws on any tampering. */
export function unseal(key, sealed, aad = '') {
  const [v, iv, tag, body] = String(sealed).split('.');
  if (v !== 'v1' || body === undefined) throw new LoyaltyError('sealed', '', 'not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new LoyaltyError('sealed', '', 'cannot decrypt: wrong LOYALTY_ENCRYPTION_KEY or a tampered value');
  }
}
