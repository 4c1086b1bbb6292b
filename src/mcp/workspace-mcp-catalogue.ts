/**
 * The MCP tools of a chat's workspace, as its agent reports them, cached per agent (workspace
 * id and build: a restarted workspace has a new agent). An empty or failed listing is never
 * cached, so the next step asks again (a server still starting, or a discovery that failed,
 * never hides tools for the rest of a turn); a call that finds its server gone drops the entry.
 */
import { type AgentClient } from '../agent/agent-client.js';
import { type WorkspaceAgents } from '../tools/workspace/agent-call.js';

export interface WorkspaceMcpTool {
  server: string;
  tool: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface WorkspaceMcpListing {
  /** The agent the listing came from (cache key). */
  agentKey: string;
  client: AgentClient;
  tools: WorkspaceMcpTool[];
  /** How many servers the workspace's .mcp.json declares, whatever their state. */
  declaredServers: number;
}

export const PRIME_INTERVAL_MS = 2_000;
export const PRIME_BUDGET_MS = 30_000;

export class WorkspaceMcpCatalogue {
  private readonly cache = new Map<string, WorkspaceMcpTool[]>();

  constructor(private readonly agents: WorkspaceAgents) {}

  /** The workspace's MCP tools now; undefined when the chat has no reachable workspace agent. */
  async discover(chatId: string): Promise<WorkspaceMcpListing | undefined> {
    const lookup = await this.agents.agentFor(chatId);
    if (!('client' in lookup)) return undefined;
    const agentKey = `${lookup.workspace.id}:${lookup.workspace.build_number}`;
    const cached = this.cache.get(agentKey);
    if (cached !== undefined) return { agentKey, client: lookup.client, tools: cached, declaredServers: new Set(cached.map((tool) => tool.server)).size };
    let tools: WorkspaceMcpTool[] = [];
    let declaredServers = 0;
    try {
      const listing = await lookup.client.listMcpTools();
      declaredServers = listing.servers.length;
      tools = listing.servers
        .filter((server) => server.status === 'ready')
        .flatMap((server) =>
          server.tools.map((tool) => ({ server: server.name, tool: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), inputSchema: tool.input_schema as Record<string, unknown> })),
        )
        .sort((a, b) => a.server.localeCompare(b.server) || a.tool.localeCompare(b.tool));
    } catch {
      // Discovery failed: no tools this step, and nothing cached, so the next step retries.
      return { agentKey, client: lookup.client, tools: [], declaredServers: 1 };
    }
    if (tools.length > 0) this.cache.set(agentKey, tools);
    return { agentKey, client: lookup.client, tools, declaredServers };
  }

  forget(agentKey: string): void {
    this.cache.delete(agentKey);
  }

  /**
   * Waits for the workspace's MCP servers after a create or start: asks every 2 s for up to
   * 30 s while the list is empty (servers may take a while to come up on a cold workspace).
   * Returns how many tools it found.
   */
  async prime(chatId: string, options: { heartbeat?: () => void; signal?: AbortSignal; intervalMs?: number; budgetMs?: number } = {}): Promise<number> {
    const deadline = Date.now() + (options.budgetMs ?? PRIME_BUDGET_MS);
    for (;;) {
      options.heartbeat?.();
      const listing = await this.discover(chatId);
      if (listing === undefined) return 0;
      // A workspace that declares no MCP server has nothing to wait for.
      if (listing.tools.length > 0 || listing.declaredServers === 0 || Date.now() >= deadline) return listing.tools.length;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? PRIME_INTERVAL_MS));
      if (options.signal?.aborted === true) return 0;
    }
  }
}
