/**
 * Identity headers: on servers that opt in, chatd tells the MCP server which user and chat a
 * request is for, signed so the server can trust it without trusting the network:
 * `X-Chatd-Signature` = hex HMAC-SHA256, keyed with the server's signing secret, over
 * `<timestamp>.<user id>.<chat id>` (timestamp in Unix seconds). `verifyIdentityHeaders` is
 * what an MCP server author runs on each request; the timestamp bounds replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const IDENTITY_HEADERS = {
  userId: 'X-Chatd-User-Id',
  chatId: 'X-Chatd-Chat-Id',
  timestamp: 'X-Chatd-Timestamp',
  signature: 'X-Chatd-Signature',
} as const;

/** How far a request's timestamp may be from the verifier's clock, by default. */
export const DEFAULT_MAX_SKEW_SECONDS = 300;

/** The hex HMAC-SHA256 of `<timestamp>.<userId>.<chatId>` under `signingSecret`. */
export function signIdentity(signingSecret: string, timestamp: string, userId: string, chatId: string): string {
  return createHmac('sha256', signingSecret).update(`${timestamp}.${userId}.${chatId}`).digest('hex');
}

/** The four identity headers for a request made now on behalf of `userId` in `chatId`. */
export function identityHeaders(input: { signingSecret: string; userId: string; chatId: string; now?: number }): Record<string, string> {
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  return {
    [IDENTITY_HEADERS.userId]: input.userId,
    [IDENTITY_HEADERS.chatId]: input.chatId,
    [IDENTITY_HEADERS.timestamp]: timestamp,
    [IDENTITY_HEADERS.signature]: signIdentity(input.signingSecret, timestamp, input.userId, input.chatId),
  };
}

/** Request headers as node (`IncomingHttpHeaders`, lower-case keys) or fetch (`Headers`) give them. */
export type RequestHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: RequestHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === lower)?.[1];
  return Array.isArray(entry) ? entry[0] : entry;
}

export type IdentityVerification = { valid: true; userId: string; chatId: string; timestamp: number } | { valid: false; reason: string };

/**
 * Checks a request's identity headers against the server's signing secret: all four present,
 * the timestamp within `maxSkewSeconds` of `now`, and the signature matching (compared in
 * constant time).
 */
export function verifyIdentityHeaders(headers: RequestHeaders, signingSecret: string, options: { maxSkewSeconds?: number; now?: number } = {}): IdentityVerification {
  const userId = header(headers, IDENTITY_HEADERS.userId);
  const chatId = header(headers, IDENTITY_HEADERS.chatId);
  const timestamp = header(headers, IDENTITY_HEADERS.timestamp);
  const signature = header(headers, IDENTITY_HEADERS.signature);
  if (userId === undefined || chatId === undefined || timestamp === undefined || signature === undefined) return { valid: false, reason: 'missing identity headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { valid: false, reason: 'malformed timestamp' };
  const seconds = Number(timestamp);
  if (Math.abs((options.now ?? Date.now()) / 1000 - seconds) > (options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS)) return { valid: false, reason: 'timestamp too far from now' };
  const expected = Buffer.from(signIdentity(signingSecret, timestamp, userId, chatId), 'hex');
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'bad signature' };
  return { valid: true, userId, chatId, timestamp: seconds };
}
