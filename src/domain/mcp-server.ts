/**
 * Remote MCP servers: admin-configured tool servers a chat may use (`chats.mcp_server_ids`).
 * Credentials (API keys, custom headers, OAuth2 client secrets, signing secrets, users' tokens)
 * are write-only: requests carry them, resources say only whether one is stored. The sealed
 * credential JSON is parsed with `McpAuthConfig` on the way out of the database too.
 */
import { z } from 'zod';

export const McpServerSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'MCP server slugs use lowercase letters, digits and "-" (at most 32), starting with a letter or digit.');

/** `streamable_http` is the current MCP transport; `sse` is the older HTTP+SSE one some servers still speak. */
export const McpTransport = z.enum(['streamable_http', 'sse']);
export type McpTransport = z.infer<typeof McpTransport>;

export const McpAuthType = z.enum(['none', 'api_key', 'custom_headers', 'oauth2']);
export type McpAuthType = z.infer<typeof McpAuthType>;

/** An HTTP header name (RFC 9110 token). */
const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'Header names use letters, digits and -_.!#$%&\'*+^`|~.');
/** A header value: no line breaks (they would split the header). */
const HeaderValue = z.string().min(1).max(8192).regex(/^[^\r\n\0]*$/, 'Header values may not contain line breaks.');
const ServerUrl = z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL.' });

/**
 * How chatd authenticates to a server, as the admin writes it and as it is sealed in
 * `auth_config_sealed`. For `oauth2` each user connects their own token
 * (`PUT /mcp-servers/:id/user-token`); chatd refreshes it at `token_url` with these client
 * credentials.
 */
export const McpAuthConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('api_key'), api_key_header: HeaderName, api_key_value: HeaderValue }),
  z.strictObject({
    type: z.literal('custom_headers'),
    headers: z.record(HeaderName, HeaderValue).refine((headers) => Object.keys(headers).length > 0 && Object.keys(headers).length <= 50, 'Give between 1 and 50 headers.'),
  }),
  z.strictObject({
    type: z.literal('oauth2'),
    client_id: z.string().min(1).max(1000),
    client_secret: z.string().min(1).max(4096).optional(),
    token_url: z.url({ protocol: /^https?$/, error: 'token_url must be an http(s) URL.' }),
    scopes: z.array(z.string().min(1).max(200)).max(50).optional(),
  }),
]);
export type McpAuthConfig = z.infer<typeof McpAuthConfig>;

const ToolNameList = z.array(z.string().min(1).max(128)).max(200);

/** A server as the admin API returns it: never a credential, only whether one is stored. */
export const McpServer = z.object({
  id: z.uuid(),
  slug: z.string(),
  display_name: z.string(),
  url: z.string(),
  transport: McpTransport,
  auth_type: McpAuthType,
  /** Whether credentials for `auth_type` are stored (the API key, headers or OAuth2 client). */
  has_auth_secret: z.boolean(),
  /** Send X-Chatd-User-Id, X-Chatd-Chat-Id, X-Chatd-Timestamp and X-Chatd-Signature. */
  identity_headers: z.boolean(),
  has_signing_secret: z.boolean(),
  /** When not empty, only these tools are offered. */
  tool_allow_list: z.array(z.string()),
  /** These tools are never offered (applied after the allow list). */
  tool_deny_list: z.array(z.string()),
  /** Offered to a chat in plan mode too (its root chat; never its plan-mode sub-agents). */
  allow_in_plan_mode: z.boolean(),
  enabled: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type McpServer = z.infer<typeof McpServer>;

const SigningSecret = z.string().min(16, 'signing_secret must be at least 16 characters.').max(4096);

export const CreateMcpServerRequest = z
  .strictObject({
    slug: McpServerSlug,
    display_name: z.string().trim().min(1).max(200).optional(),
    url: ServerUrl,
    transport: McpTransport.optional(),
    /** Credentials for the server; default none. */
    auth: McpAuthConfig.optional(),
    identity_headers: z.boolean().optional(),
    /** The HMAC-SHA256 key of X-Chatd-Signature; required with identity_headers. */
    signing_secret: SigningSecret.optional(),
    tool_allow_list: ToolNameList.optional(),
    tool_deny_list: ToolNameList.optional(),
    /** Default false: a chat in plan mode is offered no tools of the server. */
    allow_in_plan_mode: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((body) => body.identity_headers !== true || body.signing_secret !== undefined, { message: 'identity_headers needs a signing_secret.', path: ['signing_secret'] });
export type CreateMcpServerRequest = z.infer<typeof CreateMcpServerRequest>;

export const UpdateMcpServerRequest = z
  .strictObject({
    display_name: z.string().trim().min(1).max(200),
    url: ServerUrl,
    transport: McpTransport,
    /** Replaces the stored credentials (and the auth type) as a whole. */
    auth: McpAuthConfig,
    identity_headers: z.boolean(),
    /** A new signing secret, or null to remove it (identity_headers must then be off). */
    signing_secret: SigningSecret.nullable(),
    tool_allow_list: ToolNameList,
    tool_deny_list: ToolNameList,
    allow_in_plan_mode: z.boolean(),
    enabled: z.boolean(),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'Send at least one field to change.');
export type UpdateMcpServerRequest = z.infer<typeof UpdateMcpServerRequest>;

/** An enabled server as any user sees it, with whether they must still connect their own token. */
export const AvailableMcpServer = z.object({
  id: z.uuid(),
  slug: z.string(),
  display_name: z.string(),
  auth_type: McpAuthType,
  /** An `oauth2` server for which this user has stored no token yet. */
  needs_user_token: z.boolean(),
});
export type AvailableMcpServer = z.infer<typeof AvailableMcpServer>;

/** A user's OAuth2 tokens for a server, as obtained from its authorization server. */
export const SetMcpUserTokenRequest = z.strictObject({
  access_token: z.string().min(1).max(16_384),
  refresh_token: z.string().min(1).max(16_384).optional(),
  /** Seconds until the access token expires; absent, it is taken not to expire. */
  expires_in: z.number().int().positive().max(10 * 365 * 24 * 3600).optional(),
});
export type SetMcpUserTokenRequest = z.infer<typeof SetMcpUserTokenRequest>;

export const McpUserTokenStatus = z.object({
  server_id: z.uuid(),
  has_user_token: z.boolean(),
  expires_at: z.string().nullable(),
});
export type McpUserTokenStatus = z.infer<typeof McpUserTokenStatus>;

/** Which of a chat's remote servers its role may use (see `mcpToolAllowed`); the others are not contacted. */
export type McpServerFilter = (server: { allowInPlanMode: boolean }) => boolean;

/** At most this many servers per chat. */
export const MAX_CHAT_MCP_SERVERS = 50;

/** Whether a tool is offered under a server's lists: the allow list (when not empty), then the deny list. */
export function isToolPermitted(name: string, lists: { tool_allow_list: readonly string[]; tool_deny_list: readonly string[] }): boolean {
  if (lists.tool_allow_list.length > 0 && !lists.tool_allow_list.includes(name)) return false;
  return !lists.tool_deny_list.includes(name);
}
