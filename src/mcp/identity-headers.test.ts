import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identityHeaders, verifyIdentityHeaders } from './identity-headers.js';

const secret = 'signing-secret-0123456789abcdef';
const userId = '7c1f6f7e-4a55-4d1c-9a0e-2f4b7b0c9d11';
const chatId = '0b6a4f0e-1d2c-4e5f-8a9b-0c1d2e3f4a5b';
const now = Date.UTC(2026, 10, 24, 12, 0, 0);

describe('identity headers', () => {
  it('sign `<timestamp>.<user id>.<chat id>` with HMAC-SHA256 in hex', () => {
    const headers = identityHeaders({ signingSecret: secret, userId, chatId, now });
    const timestamp = String(now / 1000);
    expect(headers).toEqual({
      'X-Chatd-User-Id': userId,
      'X-Chatd-Chat-Id': chatId,
      'X-Chatd-Timestamp': timestamp,
      'X-Chatd-Signature': createHmac('sha256', secret).update(`${timestamp}.${userId}.${chatId}`).digest('hex'),
    });
  });

  it('verify from node’s lower-case headers and from fetch Headers', () => {
    const headers = identityHeaders({ signingSecret: secret, userId, chatId, now });
    const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    expect(verifyIdentityHeaders(lower, secret, { now })).toEqual({ valid: true, userId, chatId, timestamp: now / 1000 });
    expect(verifyIdentityHeaders(new Headers(headers), secret, { now: now + 60_000 })).toMatchObject({ valid: true });
  });

  it('refuse a wrong secret, a changed id, a stale timestamp and missing headers', () => {
    const headers = identityHeaders({ signingSecret: secret, userId, chatId, now });
    expect(verifyIdentityHeaders(headers, 'another-secret', { now })).toEqual({ valid: false, reason: 'bad signature' });
    expect(verifyIdentityHeaders({ ...headers, 'X-Chatd-Chat-Id': userId }, secret, { now })).toEqual({ valid: false, reason: 'bad signature' });
    expect(verifyIdentityHeaders(headers, secret, { now: now + 301_000 })).toEqual({ valid: false, reason: 'timestamp too far from now' });
    expect(verifyIdentityHeaders(headers, secret, { now: now + 20_000, maxSkewSeconds: 10 })).toMatchObject({ valid: false });
    expect(verifyIdentityHeaders({ 'X-Chatd-User-Id': userId }, secret, { now })).toEqual({ valid: false, reason: 'missing identity headers' });
    expect(verifyIdentityHeaders({ ...headers, 'X-Chatd-Signature': 'zz' }, secret, { now })).toEqual({ valid: false, reason: 'bad signature' });
  });
});
