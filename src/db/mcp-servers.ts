/**
 * The MCP server catalogue in PostgreSQL: admin-configured servers (credentials and signing
 * secrets sealed by a `SecretBox`) and each user's OAuth2 tokens for them. Resources are parsed
 * with the domain schemas on the way out; sealed columns never are. The rows with their sealed
 * columns are read only by the code that connects to servers (`src/mcp`).
 */
import { randomUUID } from 'node:crypto';
import {
  AvailableMcpServer,
  McpServer,
  McpUserTokenStatus,
  type CreateMcpServerRequest,
  type McpAuthConfig,
  type McpAuthType,
  type McpTransport,
  type SetMcpUserTokenRequest,
  type UpdateMcpServerRequest,
} from '../domain/mcp-server.js';
import { CatalogueError, type KeySealer } from './model-catalogue.js';
import { type Pool, type Queryable } from './pool.js';

/** A `mcp_servers` row, sealed columns included. */
export interface McpServerRow {
  id: string;
  slug: string;
  display_name: string;
  url: string;
  transport: McpTransport;
  auth_type: McpAuthType;
  auth_config_sealed: string | null;
  identity_headers: boolean;
  signing_secret_sealed: string | null;
  tool_allow_list: string[];
  tool_deny_list: string[];
  allow_in_plan_mode: boolean;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A `mcp_server_user_tokens` row: a user's sealed OAuth2 tokens for one server. */
export interface McpUserTokenRow {
  server_id: string;
  user_id: string;
  access_token_sealed: string;
  refresh_token_sealed: string | null;
  expires_at: Date | null;
}

export function mcpServerFromRow(row: McpServerRow): McpServer {
  return McpServer.parse({
    id: row.id,
    slug: row.slug,
    display_name: row.display_name,
    url: row.url,
    transport: row.transport,
    auth_type: row.auth_type,
    has_auth_secret: row.auth_config_sealed !== null,
    identity_headers: row.identity_headers,
    has_signing_secret: row.signing_secret_sealed !== null,
    tool_allow_list: row.tool_allow_list,
    tool_deny_list: row.tool_deny_list,
    allow_in_plan_mode: row.allow_in_plan_mode,
    enabled: row.enabled,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  });
}

/** PostgreSQL's check_violation, raised by the constraints that keep a row usable. */
const CHECK_VIOLATION = '23514';

function refusalOf(error: unknown): CatalogueError | undefined {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code !== CHECK_VIOLATION) return undefined;
  if (constraint === 'mcp_servers_identity_signed') return new CatalogueError(400, 'identity_headers needs a signing_secret.');
  if (constraint === 'mcp_servers_auth_config') return new CatalogueError(400, 'auth_type and the stored credentials disagree: send the whole auth object.');
  return undefined;
}

async function refusingConstraints<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw refusalOf(error) ?? error;
  }
}

export function createMcpServerCatalogue(pool: Pool, sealer: KeySealer | undefined) {
  const seal = (secret: string): string => {
    if (sealer === undefined) throw new CatalogueError(503, 'MCP server credentials cannot be stored: this server has no CHATD_SECRET_KEY.');
    return sealer.seal(secret);
  };
  const sealAuth = (auth: McpAuthConfig): string | null => (auth.type === 'none' ? null : seal(JSON.stringify(auth)));

  return {
    async list(): Promise<McpServer[]> {
      const { rows } = await pool.query<McpServerRow>('SELECT * FROM mcp_servers ORDER BY slug');
      return rows.map(mcpServerFromRow);
    },

    async get(id: string): Promise<McpServer | undefined> {
      const { rows } = await pool.query<McpServerRow>('SELECT * FROM mcp_servers WHERE id = $1', [id]);
      return rows[0] === undefined ? undefined : mcpServerFromRow(rows[0]);
    },

    async create(input: CreateMcpServerRequest): Promise<McpServer> {
      const auth = input.auth ?? { type: 'none' };
      const values = [
        randomUUID(),
        input.slug,
        input.display_name ?? input.slug,
        input.url,
        input.transport ?? 'streamable_http',
        auth.type,
        sealAuth(auth),
        input.identity_headers ?? false,
        input.signing_secret === undefined ? null : seal(input.signing_secret),
        input.tool_allow_list ?? [],
        input.tool_deny_list ?? [],
        input.enabled ?? true,
        input.allow_in_plan_mode ?? false,
      ];
      const { rows } = await refusingConstraints(() =>
        pool.query<McpServerRow>(
          `INSERT INTO mcp_servers (id, slug, display_name, url, transport, auth_type, auth_config_sealed, identity_headers, signing_secret_sealed, tool_allow_list, tool_deny_list, enabled, allow_in_plan_mode)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (slug) DO NOTHING RETURNING *`,
          values,
        ),
      );
      if (rows[0] === undefined) throw new CatalogueError(409, `An MCP server with the slug "${input.slug}" already exists.`);
      return mcpServerFromRow(rows[0]);
    },

    async update(id: string, input: UpdateMcpServerRequest): Promise<McpServer | undefined> {
      const sets: string[] = [];
      const values: unknown[] = [id];
      const set = (column: string, value: unknown) => {
        values.push(value);
        sets.push(`${column} = $${values.length}`);
      };
      if (input.display_name !== undefined) set('display_name', input.display_name);
      if (input.url !== undefined) set('url', input.url);
      if (input.transport !== undefined) set('transport', input.transport);
      if (input.auth !== undefined) {
        set('auth_type', input.auth.type);
        set('auth_config_sealed', sealAuth(input.auth));
      }
      if (input.identity_headers !== undefined) set('identity_headers', input.identity_headers);
      if (input.signing_secret !== undefined) set('signing_secret_sealed', input.signing_secret === null ? null : seal(input.signing_secret));
      if (input.tool_allow_list !== undefined) set('tool_allow_list', input.tool_allow_list);
      if (input.tool_deny_list !== undefined) set('tool_deny_list', input.tool_deny_list);
      if (input.enabled !== undefined) set('enabled', input.enabled);
      if (input.allow_in_plan_mode !== undefined) set('allow_in_plan_mode', input.allow_in_plan_mode);
      const { rows } = await refusingConstraints(() => pool.query<McpServerRow>(`UPDATE mcp_servers SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`, values));
      return rows[0] === undefined ? undefined : mcpServerFromRow(rows[0]);
    },

    /** Deletes a server and its users' tokens. Chats that selected it keep the id; it is simply not connected to. */
    async delete(id: string): Promise<boolean> {
      const { rowCount } = await pool.query('DELETE FROM mcp_servers WHERE id = $1', [id]);
      return rowCount === 1;
    },

    /** The enabled servers, with whether this user must still connect an OAuth2 token. */
    async listAvailable(userId: string): Promise<AvailableMcpServer[]> {
      const { rows } = await pool.query<{ id: string; slug: string; display_name: string; auth_type: McpAuthType; has_token: boolean }>(
        `SELECT s.id, s.slug, s.display_name, s.auth_type, t.user_id IS NOT NULL AS has_token FROM mcp_servers s
         LEFT JOIN mcp_server_user_tokens t ON t.server_id = s.id AND t.user_id = $1
         WHERE s.enabled ORDER BY s.slug`,
        [userId],
      );
      return rows.map((row) =>
        AvailableMcpServer.parse({ id: row.id, slug: row.slug, display_name: row.display_name, auth_type: row.auth_type, needs_user_token: row.auth_type === 'oauth2' && !row.has_token }),
      );
    },

    /** Stores a user's own tokens for an enabled OAuth2 server; undefined when there is no such server. */
    async setUserToken(userId: string, serverId: string, input: SetMcpUserTokenRequest): Promise<McpUserTokenStatus | undefined> {
      const { rows } = await pool.query<{ slug: string; auth_type: McpAuthType }>('SELECT slug, auth_type FROM mcp_servers WHERE id = $1 AND enabled', [serverId]);
      const server = rows[0];
      if (server === undefined) return undefined;
      if (server.auth_type !== 'oauth2') throw new CatalogueError(400, `MCP server "${server.slug}" does not use OAuth2: it takes no user tokens.`);
      const expiresAt = input.expires_in === undefined ? null : new Date(Date.now() + input.expires_in * 1000);
      await storeUserToken(pool, { serverId, userId, accessTokenSealed: seal(input.access_token), refreshTokenSealed: input.refresh_token === undefined ? null : seal(input.refresh_token), expiresAt });
      return McpUserTokenStatus.parse({ server_id: serverId, has_user_token: true, expires_at: expiresAt?.toISOString() ?? null });
    },

    async deleteUserToken(userId: string, serverId: string): Promise<boolean> {
      const { rowCount } = await pool.query('DELETE FROM mcp_server_user_tokens WHERE server_id = $1 AND user_id = $2', [serverId, userId]);
      return rowCount === 1;
    },

    /** The ids among `ids` that are not enabled servers, in the order given. */
    async unusableIds(ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM mcp_servers WHERE id = ANY($1::uuid[]) AND enabled', [ids]);
      const usable = new Set(rows.map((row) => row.id));
      return ids.filter((id) => !usable.has(id));
    },
  };
}

export type McpServerCatalogue = ReturnType<typeof createMcpServerCatalogue>;

/** The enabled servers a chat of `ownerId` selected, in slug order; none for another user's chat. */
export async function loadChatMcpServers(db: Queryable, chatId: string, ownerId: string): Promise<McpServerRow[]> {
  const { rows } = await db.query<McpServerRow>(
    `SELECT s.* FROM chats c JOIN mcp_servers s ON s.id = ANY(c.mcp_server_ids)
     WHERE c.id = $1 AND c.owner_id = $2 AND s.enabled ORDER BY s.slug, s.id`,
    [chatId, ownerId],
  );
  return rows;
}

/** A user's token row for a server, locked for update when `db` is in a transaction and `lock` is set. */
export async function loadUserToken(db: Queryable, serverId: string, userId: string, options: { lock?: boolean } = {}): Promise<McpUserTokenRow | undefined> {
  const { rows } = await db.query<McpUserTokenRow>(
    `SELECT server_id, user_id, access_token_sealed, refresh_token_sealed, expires_at FROM mcp_server_user_tokens WHERE server_id = $1 AND user_id = $2${options.lock === true ? ' FOR UPDATE' : ''}`,
    [serverId, userId],
  );
  return rows[0];
}

export async function storeUserToken(db: Queryable, token: { serverId: string; userId: string; accessTokenSealed: string; refreshTokenSealed: string | null; expiresAt: Date | null }): Promise<void> {
  await db.query(
    `INSERT INTO mcp_server_user_tokens (server_id, user_id, access_token_sealed, refresh_token_sealed, expires_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (server_id, user_id) DO UPDATE SET access_token_sealed = EXCLUDED.access_token_sealed, refresh_token_sealed = EXCLUDED.refresh_token_sealed,
       expires_at = EXCLUDED.expires_at, updated_at = now()`,
    [token.serverId, token.userId, token.accessTokenSealed, token.refreshTokenSealed, token.expiresAt],
  );
}
