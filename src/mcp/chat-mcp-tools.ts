/**
 * A chat's MCP tools, from its workspace's servers and the remote servers chosen for it,
 * under the names the model sees (`<server>__<tool>`). Discovered again before every model
 * step (the workspace listing is cached per agent), so tools of a workspace created earlier
 * in the turn are offered on the next step; called by name from the `runTool` activity.
 * Nothing here throws for an MCP failure: a server that cannot be reached loses its tools
 * for the step (remote ones with a warning), and a failed call is a result the model sees.
 */
import { AgentRequestError, AgentUnreachableError } from '../agent/agent-client.js';
import { type Pool } from '../db/pool.js';
import { type ToolResult } from '../tools/chat-tool.js';
import { readChatOwnerAndRole } from '../db/chat-role.js';
import { type McpServerFilter } from '../domain/mcp-server.js';
import { mcpToolAllowed, mcpToolsPossible, type ChatRole } from '../domain/tool-policy.js';
import { assignMcpToolNames } from './mcp-tool-names.js';
import { type WorkspaceMcpCatalogue, type WorkspaceMcpListing } from './workspace-mcp-catalogue.js';

export const WORKSPACE_MCP_CALL_TIMEOUT_MS = 60_000;

export interface McpCallResult {
  content: unknown[];
  structured_content?: unknown;
  is_error: boolean;
}

/** Admin-configured remote servers (src/mcp/remote-mcp.ts), as this module needs them. */
export interface RemoteMcp {
  /** `include`: the servers the chat's role may use; the others are not contacted. */
  discover(input: { chatId: string; ownerId: string; include?: McpServerFilter }): Promise<{
    tools: Array<{ serverId: string; slug: string; allowInPlanMode: boolean; name: string; description?: string; inputSchema: Record<string, unknown> }>;
    warnings: Array<{ serverId: string; slug: string; message: string }>;
  }>;
  call(input: { chatId: string; ownerId: string; serverId: string; tool: string; arguments: Record<string, unknown>; signal?: AbortSignal }): Promise<McpCallResult>;
}

export type McpRoute = { kind: 'workspace'; agentKey: string; server: string; tool: string } | { kind: 'remote'; serverId: string; slug: string; tool: string; allowInPlanMode: boolean };

export interface McpToolOffer {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  route: McpRoute;
}

export interface McpDiscovery {
  tools: McpToolOffer[];
  warnings: Array<{ server: string; message: string }>;
}

/** What the model reads from an MCP result: plain text when that is all it is. */
export function mcpToolResult(result: McpCallResult): ToolResult {
  const texts = result.content.map((block) => (typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text' ? String((block as { text?: unknown }).text ?? '') : undefined));
  const onlyText = texts.every((text) => text !== undefined) && result.structured_content === undefined;
  return { result: onlyText ? texts.join('\n') : { content: result.content, ...(result.structured_content === undefined ? {} : { structured_content: result.structured_content }) }, isError: result.is_error };
}

export class ChatMcpTools {
  constructor(private readonly dependencies: { pool: Pool; workspace: WorkspaceMcpCatalogue; remote?: RemoteMcp }) {}

  /**
   * The MCP tools the chat may use in its role, named so that none takes a name in `reserved`.
   * Servers the role may not use are not contacted (a plan-mode chat never lists its
   * workspace's servers). `planMode`: the mode of the turn when it is not written yet (a send's
   * first step). The step still checks each tool against the turn's role.
   */
  async discover(chatId: string, reserved: ReadonlySet<string>, options: { planMode?: boolean } = {}): Promise<McpDiscovery> {
    const chat = await this.chatOf(chatId);
    const role: ChatRole = options.planMode === undefined ? chat.role : { ...chat.role, planMode: options.planMode };
    return (await this.collect(chatId, chat.ownerId, reserved, role)).discovery;
  }

  /**
   * The discovery of the servers `role` may use, with the workspace listing it came from (whose
   * agent client calls go to). Tool names depend on which servers are listed: steps and calls
   * both list by role.
   */
  private async collect(chatId: string, ownerId: string, reserved: ReadonlySet<string>, role: ChatRole): Promise<{ discovery: McpDiscovery; workspace: WorkspaceMcpListing | undefined }> {
    const workspaceAllowed = mcpToolAllowed({ kind: 'workspace' }, role);
    const remoteAllowed = mcpToolsPossible(role);
    const include: McpServerFilter = (server) => mcpToolAllowed({ kind: 'remote', allowInPlanMode: server.allowInPlanMode }, role);
    const [workspace, remote] = await Promise.all([
      workspaceAllowed ? this.dependencies.workspace.discover(chatId).catch(() => undefined) : undefined,
      remoteAllowed ? this.discoverRemote(chatId, ownerId, include) : { tools: [], warnings: [] },
    ]);
    const entries: Array<{ server: string; tool: string; description?: string; inputSchema: Record<string, unknown>; route: McpRoute }> = [
      ...(workspace?.tools ?? []).map((tool) => ({ ...tool, route: { kind: 'workspace' as const, agentKey: workspace!.agentKey, server: tool.server, tool: tool.tool } })),
      ...remote.tools.map((tool) => ({
        server: tool.slug,
        tool: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        inputSchema: tool.inputSchema,
        route: { kind: 'remote' as const, serverId: tool.serverId, slug: tool.slug, tool: tool.name, allowInPlanMode: tool.allowInPlanMode },
      })),
    ];
    const names = assignMcpToolNames(entries, new Set(reserved));
    const discovery = {
      tools: entries.map((entry, index) => ({
        name: names[index]!,
        description: entry.description ?? `${entry.tool} (MCP server ${entry.server})`,
        inputSchema: entry.inputSchema,
        route: entry.route,
      })),
      warnings: remote.warnings.map((warning) => ({ server: warning.slug, message: warning.message })),
    };
    return { discovery, workspace };
  }

  /** After a workspace was created or started: waits (bounded) for its MCP servers to list tools. */
  prime(chatId: string, options: { heartbeat?: () => void; signal?: AbortSignal } = {}): Promise<number> {
    return this.dependencies.workspace.prime(chatId, options);
  }

  /**
   * Calls the chat's MCP tool `name`; undefined when the chat has no such tool (now) in `role`,
   * its role when the tool runs (plan mode may have been switched on since the step). Found in
   * the same role's discovery as the step's, so names resolve to the same tools.
   */
  async call(chatId: string, name: string, args: unknown, reserved: ReadonlySet<string>, role: ChatRole, signal?: AbortSignal): Promise<ToolResult | undefined> {
    const { ownerId } = await this.chatOf(chatId);
    const { discovery, workspace } = await this.collect(chatId, ownerId, reserved, role);
    const offer = discovery.tools.find((tool) => tool.name === name);
    if (offer === undefined) return undefined;
    const argumentsObject = typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
    const route = offer.route;
    if (route.kind === 'remote') {
      try {
        return mcpToolResult(await this.dependencies.remote!.call({ chatId, ownerId, serverId: route.serverId, tool: route.tool, arguments: argumentsObject, ...(signal === undefined ? {} : { signal }) }));
      } catch (error) {
        if (signal?.aborted === true) throw error;
        return { result: `MCP server ${route.slug} could not run ${route.tool}: ${error instanceof Error ? error.message : String(error)}`, isError: true };
      }
    }
    // The offer came from this listing, so its agent is there.
    const listing = workspace!;
    try {
      return mcpToolResult(await listing.client.callMcpTool({ server: route.server, tool: route.tool, arguments: argumentsObject, timeoutMs: WORKSPACE_MCP_CALL_TIMEOUT_MS }));
    } catch (error) {
      if (error instanceof AgentRequestError || error instanceof AgentUnreachableError) {
        // The server (or its agent) went away: rediscover on the next step instead of offering ghosts.
        this.dependencies.workspace.forget(route.agentKey);
        return { result: error.message, isError: true };
      }
      throw error;
    }
  }

  private async discoverRemote(chatId: string, ownerId: string, include: McpServerFilter): Promise<Awaited<ReturnType<RemoteMcp['discover']>>> {
    if (this.dependencies.remote === undefined) return { tools: [], warnings: [] };
    try {
      return await this.dependencies.remote.discover({ chatId, ownerId, include });
    } catch (error) {
      return { tools: [], warnings: [{ serverId: '', slug: 'mcp', message: `remote MCP servers could not be listed: ${error instanceof Error ? error.message : String(error)}` }] };
    }
  }

  /** The chat's owner (whose tokens remote servers get) and its role, in one read. */
  private async chatOf(chatId: string): Promise<{ ownerId: string; role: ChatRole }> {
    const chat = await readChatOwnerAndRole(this.dependencies.pool, chatId);
    if (chat === undefined) throw new Error(`chat ${chatId} not found`);
    return chat;
  }
}
