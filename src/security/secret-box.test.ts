import { describe, expect, it } from 'vitest';
import { generateSecretKey, parseSecretKey, SecretBox, SecretKeyError } from './secret-box.js';

describe('SecretBox', () => {
  it('opens what it sealed, and never stores the plaintext', () => {
    const box = new SecretBox(parseSecretKey(generateSecretKey()));
    const sealed = box.seal('sk-live-123');
    expect(sealed).not.toContain('sk-live-123');
    expect(sealed.startsWith('v1:')).toBe(true);
    expect(box.open(sealed)).toBe('sk-live-123');
  });

  it('seals the same secret differently each time', () => {
    const box = new SecretBox(parseSecretKey(generateSecretKey()));
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('refuses a ciphertext sealed with another key, saying which setting to check', () => {
    const sealed = new SecretBox(parseSecretKey(generateSecretKey())).seal('secret');
    const other = new SecretBox(parseSecretKey(generateSecretKey()));
    expect(() => other.open(sealed)).toThrow(/CHATD_SECRET_KEY differs/);
  });

  it('refuses a tampered ciphertext', () => {
    const box = new SecretBox(parseSecretKey(generateSecretKey()));
    const [version, iv, tag, data] = box.seal('secret').split(':');
    const flipped = Buffer.from(data!, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.open([version, iv, tag, flipped.toString('base64')].join(':'))).toThrow(SecretKeyError);
  });

  it('accepts keys as base64 or hex and rejects other lengths', () => {
    const hex = 'ab'.repeat(32);
    expect(parseSecretKey(hex)).toHaveLength(32);
    expect(parseSecretKey(Buffer.alloc(32, 7).toString('base64'))).toHaveLength(32);
    expect(() => parseSecretKey('too-short')).toThrow(/must be 32 bytes/);
  });
});
