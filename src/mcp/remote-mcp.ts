/**
 * Admin-configured remote MCP servers, as a chat uses them: `discoverRemoteTools` lists the
 * tools of the chat's selected, enabled servers, and `callRemoteTool` runs one. Each opens its
 * own connections and closes them before returning: nothing is held between a turn's steps or
 * across workers, which keeps every call independent of where the previous one ran.
 *
 * Discovery connects to every server at once, each bounded by the connect timeout; a server
 * that fails, is slow, or needs the user to connect an OAuth2 token is left out with a warning
 * and never fails the listing. A call that cannot reach its server throws
 * `RemoteMcpUnavailableError`, for the caller to turn into a tool result; a tool's own error
 * (`isError`, or a JSON-RPC error from the server) is a result.
 *
 * Credentials are opened here and go only into request headers: no message or warning carries
 * them, and nothing here logs.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { isToolPermitted, McpAuthConfig, type McpServerFilter } from '../domain/mcp-server.js';
import { loadChatMcpServers, type McpServerRow } from '../db/mcp-servers.js';
import { type Pool } from '../db/pool.js';
import { identityHeaders } from './identity-headers.js';
import { describeFetchError, type SecretSealer, userAccessToken } from './oauth-user-token.js';
import { RemoteMcpUnavailableError } from './remote-mcp-error.js';

export { RemoteMcpUnavailableError, type RemoteMcpFailureKind } from './remote-mcp-error.js';
export { IDENTITY_HEADERS, identityHeaders, signIdentity, verifyIdentityHeaders, type IdentityVerification } from './identity-headers.js';
export { type SecretSealer } from './oauth-user-token.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_TOOL_CALL_TIMEOUT_MS = 60_000;
/** A server listing more pages of tools than this is cut off: enough for any real server. */
const MAX_TOOL_PAGES = 20;

const CLIENT_INFO = { name: 'chatd', version: '0.1.0' };
/** How long ending a server-side session may take before the connection is dropped anyway. */
const END_SESSION_TIMEOUT_MS = 2_000;

export interface RemoteMcpContext {
  pool: Pool;
  /** Opens stored credentials (and seals refreshed tokens). Without it, servers that need credentials are skipped. */
  sealer: SecretSealer | undefined;
  chatId: string;
  /** The chat's owner: whose OAuth2 tokens are used and who the identity headers name. */
  ownerId: string;
}

export interface RemoteTool {
  serverId: string;
  slug: string;
  /** The admin allows the server in plan mode. */
  allowInPlanMode: boolean;
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface RemoteMcpWarning {
  serverId: string;
  slug: string;
  message: string;
}

export interface RemoteToolDiscovery {
  tools: RemoteTool[];
  warnings: RemoteMcpWarning[];
}

export interface RemoteToolResult {
  content: unknown[];
  structured_content?: unknown;
  is_error: boolean;
}

/**
 * The tools of the chat's selected, enabled servers, sorted by name then server id. `include`
 * picks the servers the chat's role may use; the others are never contacted.
 */
export async function discoverRemoteTools(options: RemoteMcpContext & { connectTimeoutMs?: number; include?: McpServerFilter }): Promise<RemoteToolDiscovery> {
  const servers = (await loadChatMcpServers(options.pool, options.chatId, options.ownerId)).filter((server) => options.include?.({ allowInPlanMode: server.allow_in_plan_mode }) ?? true);
  const outcomes = await Promise.all(servers.map((server) => listServerTools(server, options, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)));
  const tools = outcomes.flatMap((outcome) => ('tools' in outcome ? outcome.tools : []));
  tools.sort((a, b) => compare(a.name, b.name) || compare(a.serverId, b.serverId));
  return { tools, warnings: outcomes.flatMap((outcome) => ('warning' in outcome ? [outcome.warning] : [])) };
}

/**
 * Calls `tool` on one of the chat's servers. Throws `RemoteMcpUnavailableError` when the server
 * cannot be reached or refuses chatd, or the call times out; rethrows the abort when `signal`
 * fires.
 */
export async function callRemoteTool(
  options: RemoteMcpContext & { serverId: string; tool: string; arguments: Record<string, unknown>; timeoutMs?: number; connectTimeoutMs?: number; signal?: AbortSignal },
): Promise<RemoteToolResult> {
  const server = (await loadChatMcpServers(options.pool, options.chatId, options.ownerId)).find((row) => row.id === options.serverId);
  if (server === undefined) throw new RemoteMcpUnavailableError('not_selected', options.serverId, '', `MCP server ${options.serverId} is not enabled for this chat.`);
  if (!isToolPermitted(options.tool, server)) return errorResult(`Tool ${options.tool} of MCP server "${server.slug}" is not offered to this chat.`);

  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOOL_CALL_TIMEOUT_MS;
  const connectDeadline = deadline(server, Math.min(connectTimeoutMs, timeoutMs), 'connect', options.signal);
  let session: Session;
  try {
    session = await openSession(server, options, connectDeadline.signal);
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason ?? error;
    throw unavailable(server, error);
  } finally {
    connectDeadline.clear();
  }

  const callDeadline = deadline(server, timeoutMs, 'call', options.signal);
  try {
    const result = await untilAborted(session.client.callTool({ name: options.tool, arguments: options.arguments }, undefined, { signal: callDeadline.signal, timeout: timeoutMs }), callDeadline.signal);
    return {
      content: Array.isArray(result.content) ? result.content : [],
      ...(result.structuredContent === undefined ? {} : { structured_content: result.structuredContent }),
      is_error: result.isError === true,
    };
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason ?? error;
    // The server answered, with a JSON-RPC error (an unknown tool, bad arguments): the model can act on that.
    if (error instanceof McpError && error.code !== ErrorCode.RequestTimeout && error.code !== ErrorCode.ConnectionClosed) {
      return errorResult(`MCP server "${server.slug}" answered ${options.tool} with an error: ${error.message}`);
    }
    throw unavailable(server, error);
  } finally {
    callDeadline.clear();
    session.close();
  }
}

async function listServerTools(server: McpServerRow, context: RemoteMcpContext, connectTimeoutMs: number): Promise<{ tools: RemoteTool[] } | { warning: RemoteMcpWarning }> {
  const bound = deadline(server, connectTimeoutMs, 'list');
  let session: Session | undefined;
  try {
    session = await openSession(server, context, bound.signal);
    const listed = await untilAborted(listAllTools(session.client, bound.signal), bound.signal);
    return {
      tools: listed
        .filter((tool) => isToolPermitted(tool.name, server))
        .map((tool) => ({
          serverId: server.id,
          slug: server.slug,
          allowInPlanMode: server.allow_in_plan_mode,
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          inputSchema: tool.inputSchema as Record<string, unknown>,
        })),
    };
  } catch (error) {
    const failure = unavailable(server, error);
    return { warning: { serverId: server.id, slug: server.slug, message: `${failure.message} Its tools are left out.` } };
  } finally {
    bound.clear();
    session?.close();
  }
}

async function listAllTools(client: Client, signal: AbortSignal) {
  const tools: Awaited<ReturnType<Client['listTools']>>['tools'] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await client.listTools(cursor === undefined ? undefined : { cursor }, { signal });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  return tools;
}

interface Session {
  client: Client;
  /** Ends the session in the background: nobody waits for a server to acknowledge it. */
  close(): void;
}

/** A connected client; on any failure, whatever was opened is closed first. */
async function openSession(server: McpServerRow, context: RemoteMcpContext, signal: AbortSignal): Promise<Session> {
  const headers = await untilAborted(requestHeaders(server, context, signal), signal);
  const url = new URL(server.url);
  const requestInit: RequestInit = { headers };
  const transport =
    server.transport === 'sse'
      ? new SSEClientTransport(url, { requestInit })
      : // No background reconnects of the notification stream: the session lives for one listing or call.
        new StreamableHTTPClientTransport(url, { requestInit, reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 } });
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  try {
    await untilAborted(client.connect(transport, { signal }), signal);
    return { client, close: () => void endSession(client, transport) };
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
}

/** Tells a stateful Streamable HTTP server the session is over (so they do not pile up there), then drops the connection. */
async function endSession(client: Client, transport: StreamableHTTPClientTransport | SSEClientTransport): Promise<void> {
  if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
    await untilAborted(transport.terminateSession(), AbortSignal.timeout(END_SESSION_TIMEOUT_MS)).catch(() => undefined);
  }
  await client.close().catch(() => undefined);
}

/** The headers every request to the server carries: its credentials, then (opt-in) the signed identity. */
async function requestHeaders(server: McpServerRow, context: RemoteMcpContext, signal: AbortSignal): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  if (server.auth_type !== 'none') {
    const auth = openAuth(server, context.sealer);
    if (auth.type === 'api_key') headers[auth.api_key_header] = auth.api_key_value;
    else if (auth.type === 'custom_headers') Object.assign(headers, auth.headers);
    else if (auth.type === 'oauth2') {
      const token = await userAccessToken({ pool: context.pool, sealer: context.sealer!, server, auth, userId: context.ownerId, signal });
      headers.Authorization = `Bearer ${token}`;
    }
  }
  if (server.identity_headers) {
    // Set last, so configured custom headers can never stand in for the signed identity.
    for (const name of Object.keys(headers)) if (/^x-chatd-/i.test(name)) delete headers[name];
    Object.assign(headers, identityHeaders({ signingSecret: openSecret(server, context.sealer, server.signing_secret_sealed, 'signing secret'), userId: context.ownerId, chatId: context.chatId }));
  }
  return headers;
}

function openAuth(server: McpServerRow, sealer: SecretSealer | undefined): McpAuthConfig {
  const text = openSecret(server, sealer, server.auth_config_sealed, 'credentials');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const auth = McpAuthConfig.safeParse(parsed);
  if (!auth.success || auth.data.type !== server.auth_type) throw misconfigured(server, 'its stored credentials are not valid; an admin must set them again');
  return auth.data;
}

function openSecret(server: McpServerRow, sealer: SecretSealer | undefined, sealed: string | null, what: string): string {
  if (sealed === null) throw misconfigured(server, `it has no ${what} stored`);
  if (sealer === undefined) throw misconfigured(server, `this chatd has no CHATD_SECRET_KEY to open its ${what}`);
  try {
    return sealer.open(sealed);
  } catch {
    throw misconfigured(server, `its ${what} cannot be opened with this chatd's CHATD_SECRET_KEY`);
  }
}

const misconfigured = (server: McpServerRow, why: string) => new RemoteMcpUnavailableError('misconfigured', server.id, server.slug, `MCP server "${server.slug}" cannot be used: ${why}.`);

/** Any failure to use `server`, as the typed error (already-typed errors pass through). */
function unavailable(server: McpServerRow, error: unknown): RemoteMcpUnavailableError {
  if (error instanceof RemoteMcpUnavailableError) return error;
  const status = error instanceof StreamableHTTPError || error instanceof SseError ? error.code : undefined;
  if (status === 401 || status === 403) {
    return new RemoteMcpUnavailableError('unauthorized', server.id, server.slug, `MCP server "${server.slug}" refused chatd's credentials (HTTP ${status}).`, { cause: error });
  }
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
    return new RemoteMcpUnavailableError('timeout', server.id, server.slug, `MCP server "${server.slug}" did not answer in time.`, { cause: error });
  }
  const detail = status === undefined ? describeFetchError(error) : `HTTP ${status}`;
  return new RemoteMcpUnavailableError('unreachable', server.id, server.slug, `MCP server "${server.slug}" is not reachable (${detail}).`, { cause: error });
}

/**
 * An abort signal that fires after `timeoutMs` with a `timeout` RemoteMcpUnavailableError as
 * its reason, or with `outer`'s reason when that fires first.
 */
function deadline(server: McpServerRow, timeoutMs: number, phase: 'list' | 'connect' | 'call', outer?: AbortSignal): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const seconds = Number((timeoutMs / 1000).toFixed(1));
  const timer = setTimeout(() => {
    const what = { list: 'connect and list its tools', connect: 'accept a connection', call: 'finish the tool call' }[phase];
    controller.abort(new RemoteMcpUnavailableError('timeout', server.id, server.slug, `MCP server "${server.slug}" did not ${what} within ${seconds} s.`));
  }, timeoutMs);
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted === true) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** `work`, or the signal's reason as soon as it aborts (the SDK does not always stop waiting on its own). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function errorResult(text: string): RemoteToolResult {
  return { content: [{ type: 'text', text }], is_error: true };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
