/**
 * The access token chatd presents to an OAuth2 MCP server for a user: the one the user stored,
 * refreshed first when it expires within a minute (so a connection never starts with a token
 * about to lapse). The refresh runs under the token row's lock: chatd's workers refresh a
 * user's token once, not once each, which matters where a refresh token is single-use.
 */
import { z } from 'zod';
import { type McpAuthConfig } from '../domain/mcp-server.js';
import { loadUserToken, storeUserToken, type McpUserTokenRow } from '../db/mcp-servers.js';
import { type Pool, withTransaction } from '../db/pool.js';
import { RemoteMcpUnavailableError } from './remote-mcp-error.js';

/** Refresh a token that expires within this long. */
export const REFRESH_MARGIN_MS = 60_000;

export interface SecretSealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

/** The token endpoint's answer (RFC 6749 §5.1); other fields are ignored. */
const TokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive().optional(),
});

type OAuth2Config = Extract<McpAuthConfig, { type: 'oauth2' }>;

const expiresSoon = (token: McpUserTokenRow, now: number) => token.expires_at !== null && token.expires_at.getTime() - now < REFRESH_MARGIN_MS;

export async function userAccessToken(input: {
  pool: Pool;
  sealer: SecretSealer;
  server: { id: string; slug: string };
  auth: OAuth2Config;
  userId: string;
  signal: AbortSignal;
  now?: () => number;
}): Promise<string> {
  const { pool, sealer, server, userId } = input;
  const now = input.now ?? Date.now;
  const needsToken = (why: string) =>
    new RemoteMcpUnavailableError('needs_user_token', server.id, server.slug, `MCP server "${server.slug}" ${why}: the user must connect it (PUT /api/v1/mcp-servers/${server.id}/user-token).`);

  const stored = await loadUserToken(pool, server.id, userId);
  if (stored === undefined) throw needsToken('has no OAuth2 token of this user');
  if (!expiresSoon(stored, now())) return sealer.open(stored.access_token_sealed);

  return withTransaction(pool, async (client) => {
    const token = await loadUserToken(client, server.id, userId, { lock: true });
    if (token === undefined) throw needsToken('has no OAuth2 token of this user');
    // Another worker may have refreshed it while this one waited for the lock.
    if (!expiresSoon(token, now())) return sealer.open(token.access_token_sealed);
    if (token.refresh_token_sealed === null) throw needsToken('has an expired OAuth2 token of this user and no refresh token');
    const refreshToken = sealer.open(token.refresh_token_sealed);
    const fresh = await refreshAccessToken(input.auth, refreshToken, server, input.signal);
    await storeUserToken(client, {
      serverId: server.id,
      userId,
      accessTokenSealed: sealer.seal(fresh.access_token),
      // Servers that do not rotate refresh tokens answer without one: keep the old.
      refreshTokenSealed: fresh.refresh_token === undefined ? token.refresh_token_sealed : sealer.seal(fresh.refresh_token),
      expiresAt: fresh.expires_in === undefined ? null : new Date(now() + fresh.expires_in * 1000),
    });
    return fresh.access_token;
  });
}

/** `grant_type=refresh_token` at the server's token URL, with the client credentials in the body. */
async function refreshAccessToken(auth: OAuth2Config, refreshToken: string, server: { id: string; slug: string }, signal: AbortSignal): Promise<z.infer<typeof TokenResponse>> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: auth.client_id });
  if (auth.client_secret !== undefined) form.set('client_secret', auth.client_secret);
  if (auth.scopes !== undefined && auth.scopes.length > 0) form.set('scope', auth.scopes.join(' '));
  let response: Response;
  try {
    response = await fetch(auth.token_url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form, signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new RemoteMcpUnavailableError('unreachable', server.id, server.slug, `MCP server "${server.slug}": its OAuth2 token endpoint is not reachable (${describeFetchError(error)}).`, { cause: error });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    // Only the OAuth error code: the rest of the body is the server's and may echo what was sent.
    const code = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' ? ` ${(body as { error: string }).error}` : '';
    const kind = response.status === 400 || response.status === 401 ? 'needs_user_token' : 'unreachable';
    const advice = kind === 'needs_user_token' ? ': the user must connect it again' : '';
    throw new RemoteMcpUnavailableError(kind, server.id, server.slug, `MCP server "${server.slug}": refreshing the user's OAuth2 token failed (HTTP ${response.status}${code})${advice}.`);
  }
  const parsed = TokenResponse.safeParse(body);
  if (!parsed.success) throw new RemoteMcpUnavailableError('unreachable', server.id, server.slug, `MCP server "${server.slug}": its OAuth2 token endpoint answered without an access_token.`);
  return parsed.data;
}

/** `fetch failed` says little: the cause's code (ECONNREFUSED, ENOTFOUND…) says what happened. */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause !== undefined && typeof cause.code === 'string') return `${error.message}: ${cause.code}`;
  if (cause !== undefined && typeof cause.message === 'string') return `${error.message}: ${cause.message}`;
  return error.message;
}
