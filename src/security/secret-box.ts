/**
 * Encryption at rest for secrets chatd must use later (provider API keys): AES-256-GCM with a
 * 32-byte key from the environment (`CHATD_SECRET_KEY`, base64 or hex). A ciphertext is
 * `v1:<iv>:<tag>:<data>` (base64 parts); the version prefix leaves room for key rotation.
 * Plaintexts never leave this module except to the code that calls the provider.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** Parses a 32-byte key written as base64 (44 characters) or hex (64 characters). */
export function parseSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new SecretKeyError('CHATD_SECRET_KEY must be 32 bytes, written as base64 or hex (e.g. `openssl rand -base64 32`).');
  return key;
}

export function generateSecretKey(): string {
  return randomBytes(32).toString('base64');
}

export class SecretBox {
  constructor(private readonly key: Buffer) {}

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) throw new SecretKeyError('Unrecognised secret format.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError('A stored secret could not be decrypted: CHATD_SECRET_KEY differs from the key it was stored with.');
    }
  }
}
