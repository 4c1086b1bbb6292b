/**
 * The workspace's MCP servers, as declared in `<root>/.mcp.json`, owned by the agent.
 *
 * Every listing re-reads .mcp.json and reconciles the running servers with it: a server whose
 * entry changed is restarted, a removed one is closed, a new one is started, and one whose
 * entry did not change is left alone, so calls in flight on it are not cut off.
 *
 * A listing never waits long: servers that are still starting after LIST_WAIT_MS are reported
 * `starting`, and the caller (chatd) asks again. A server that failed to start is retried by
 * a later listing, at most every RETRY_INTERVAL_MS, so one that comes up late (a slow install
 * on a cold workspace) is found by a caller that keeps asking. A server whose process died is
 * restarted by the next listing.
 */
import { type Logger } from '../logger.js';
import { AgentError } from './agent-error.js';
import { type McpCallResult, type McpServerInfo, type McpToolsList } from './agent-protocol.js';
import { settlesWithin } from './settles-within.js';
import { parseWorkspaceMcpConfig, readWorkspaceMcpConfigText, WORKSPACE_MCP_CONFIG_FILE, type WorkspaceMcpConfig } from './workspace-mcp-config.js';
import { WorkspaceMcpServer } from './workspace-mcp-server.js';
import { type WorkspaceRoot } from './workspace-path.js';

/** Spawn, initialize and the first tools/list of one server must fit in this. */
export const MCP_CONNECT_TIMEOUT_MS = 15_000;
/** A server that failed to start is not tried again sooner than this. */
export const MCP_RETRY_INTERVAL_MS = 2_000;
/** How long a listing waits for servers that are still starting. */
export const MCP_LIST_WAIT_MS = 3_000;

export interface WorkspaceMcpOptions {
  root: WorkspaceRoot;
  /** The agent's scrubbed command environment (no chatd secret is in it). */
  environment: Record<string, string>;
  logger: Logger;
  connectTimeoutMs?: number;
  retryIntervalMs?: number;
  listWaitMs?: number;
}

export class WorkspaceMcp {
  private readonly servers = new Map<string, WorkspaceMcpServer>();
  /** Declared servers whose entries are unusable, with the reason. */
  private readonly entryErrors = new Map<string, string>();
  /** Closing servers, so shutdown waits for their processes too. */
  private readonly closing = new Set<Promise<void>>();
  private lastConfig: { text: string | undefined; config: WorkspaceMcpConfig } | undefined;
  private configError: string | undefined;
  /** Reconciliations run one at a time; two listings at once must not start a server twice. */
  private reconciling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: WorkspaceMcpOptions) {}

  /** Every declared server with its status and, once ready, its tools. */
  async listTools(): Promise<McpToolsList> {
    const reconciled = this.reconciling.then(() => this.reconcile());
    this.reconciling = reconciled.catch(() => undefined);
    await reconciled;
    const starting = [...this.servers.values()].map((server) => server.started);
    await settlesWithin(Promise.all(starting), this.options.listWaitMs ?? MCP_LIST_WAIT_MS);
    const servers: McpServerInfo[] = [
      ...[...this.servers.values()].map((server) => server.info()),
      ...[...this.entryErrors].map(([name, error]): McpServerInfo => ({ name, status: 'failed', error, tools: [] })),
    ].sort((a, b) => a.name.localeCompare(b.name));
    return { servers, ...(this.configError === undefined ? {} : { config_error: this.configError }) };
  }

  async callTool(request: { server: string; tool: string; arguments: Record<string, unknown>; timeoutMs: number }): Promise<McpCallResult> {
    const server = this.servers.get(request.server);
    if (server === undefined) {
      const entryError = this.entryErrors.get(request.server);
      if (entryError !== undefined) throw new AgentError(503, `MCP server "${request.server}" is not running: ${entryError}`);
      const names = [...this.servers.keys()].join(', ') || 'none';
      throw new AgentError(404, `the workspace has no MCP server named "${request.server}" in ${WORKSPACE_MCP_CONFIG_FILE}; its servers are: ${names}`);
    }
    return server.callTool(request.tool, request.arguments, request.timeoutMs);
  }

  /** Closes every server (ending their processes); later listings start nothing. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.reconciling;
    for (const server of this.servers.values()) this.closeServer(server, 'the workspace agent is shutting down');
    this.servers.clear();
    await Promise.all(this.closing);
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const config = await this.readConfig();
    if (config.kind === 'invalid') {
      // A half-saved edit should not take working servers down: the last good version stays.
      this.configError = config.error;
      return;
    }
    this.configError = undefined;
    this.entryErrors.clear();
    const declared = new Set(config.servers.map((server) => server.name));
    for (const [name, server] of this.servers) {
      if (!declared.has(name)) {
        this.servers.delete(name);
        this.closeServer(server, `it was removed from ${WORKSPACE_MCP_CONFIG_FILE}`);
      }
    }
    for (const declaration of config.servers) {
      const running = this.servers.get(declaration.name);
      if ('error' in declaration) {
        this.entryErrors.set(declaration.name, declaration.error);
        if (running !== undefined) {
          this.servers.delete(declaration.name);
          this.closeServer(running, `its entry in ${WORKSPACE_MCP_CONFIG_FILE} became invalid`);
        }
        continue;
      }
      if (running !== undefined && running.key === declaration.key && !this.shouldRestart(running)) continue;
      if (running !== undefined) this.closeServer(running, running.ended ? 'it is being restarted' : `its entry in ${WORKSPACE_MCP_CONFIG_FILE} changed; it is being restarted`);
      this.servers.set(
        declaration.name,
        new WorkspaceMcpServer({
          name: declaration.name,
          entry: declaration.entry,
          key: declaration.key,
          root: this.options.root,
          environment: this.options.environment,
          connectTimeoutMs: this.options.connectTimeoutMs ?? MCP_CONNECT_TIMEOUT_MS,
          logger: this.options.logger,
        }),
      );
    }
  }

  /**
   * The configuration to apply. Parsed again only when the text of .mcp.json changed; the
   * same configuration applied again changes nothing but the retries of failed servers.
   */
  private async readConfig(): Promise<WorkspaceMcpConfig> {
    const read = await readWorkspaceMcpConfigText(this.options.root.path);
    if ('error' in read) return { kind: 'invalid', error: read.error };
    if (this.lastConfig !== undefined && this.lastConfig.text === read.text) return this.lastConfig.config;
    const config: WorkspaceMcpConfig = read.text === undefined ? { kind: 'valid', servers: [] } : parseWorkspaceMcpConfig(read.text);
    this.lastConfig = { text: read.text, config };
    return config;
  }

  private shouldRestart(server: WorkspaceMcpServer): boolean {
    if (server.exited) return true;
    if (!server.ended) return false;
    return Date.now() - (server.endedAtMs ?? 0) >= (this.options.retryIntervalMs ?? MCP_RETRY_INTERVAL_MS);
  }

  private closeServer(server: WorkspaceMcpServer, reason: string): void {
    const closing = server.close(reason).finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }
}
