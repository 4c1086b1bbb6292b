/**
 * One running workspace MCP server: a stdio process started from its .mcp.json entry,
 * driven through the official SDK's Client, from spawn to close.
 *
 * Life: `starting` (spawn, initialize, list tools, all within the connect timeout) → `ready`
 * → `exited` if the process dies; or `starting` → `failed`. An instance never starts twice:
 * retrying or restarting means a new instance (the manager decides when). The start promise
 * never rejects, so the manager can wait on it with a bound and move on.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ErrorCode, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { type Logger } from '../logger.js';
import { AgentError } from './agent-error.js';
import { type McpCallResult, type McpServerInfo } from './agent-protocol.js';
import { type WorkspaceMcpServerEntry } from './workspace-mcp-config.js';
import { resolveWorkspacePath, type WorkspaceRoot } from './workspace-path.js';

/** What the server's stderr ends with is kept for error messages (a crash usually says why there). */
const STDERR_TAIL_CHARS = 2000;
const CLIENT_INFO = { name: 'chatd-agent', version: '0.1.0' };

export interface WorkspaceMcpServerOptions {
  name: string;
  entry: WorkspaceMcpServerEntry;
  /** Identifies the entry: a server whose entry key changed is replaced. */
  key: string;
  root: WorkspaceRoot;
  /** The agent's scrubbed command environment; the entry's env goes on top. */
  environment: Record<string, string>;
  connectTimeoutMs: number;
  logger: Logger;
}

type State = 'starting' | 'ready' | 'failed' | 'exited' | 'closed';

export class WorkspaceMcpServer {
  readonly name: string;
  readonly key: string;
  /** Settles (never rejects) when starting ends, ready or failed. */
  readonly started: Promise<void>;
  private state: State = 'starting';
  private error: string | undefined;
  /** When the server failed or exited (ms since the epoch). */
  private endedAt: number | undefined;
  private tools: Tool[] = [];
  private stderrTail = '';
  private client: Client | undefined;
  private transport: StdioClientTransport | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: WorkspaceMcpServerOptions) {
    this.name = options.name;
    this.key = options.key;
    this.started = this.start();
  }

  /** The server process's pid while it runs. */
  get pid(): number | undefined {
    return this.transport?.pid ?? undefined;
  }

  /** True when the server failed to start or its process exited. */
  get ended(): boolean {
    return this.state === 'failed' || this.state === 'exited';
  }

  /** True when the process exited after the server was ready: restarted at once, where a failed start waits a retry interval. */
  get exited(): boolean {
    return this.state === 'exited';
  }

  get endedAtMs(): number | undefined {
    return this.endedAt;
  }

  info(): McpServerInfo {
    if (this.state === 'starting') return { name: this.name, status: 'starting', tools: [] };
    if (this.state === 'ready') {
      return {
        name: this.name,
        status: 'ready',
        tools: this.tools.map((tool) => ({
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          input_schema: tool.inputSchema,
        })),
      };
    }
    return { name: this.name, status: 'failed', error: this.error ?? `MCP server "${this.name}" is not running`, tools: [] };
  }

  /**
   * Calls `tool` with a timeout. A tool that fails is a result with `is_error`; only an unknown
   * tool (404), a server that is not running (503), a timeout (504) or a protocol error throws.
   */
  async callTool(tool: string, toolArguments: Record<string, unknown>, timeoutMs: number): Promise<McpCallResult> {
    const client = this.client;
    if (this.state !== 'ready' || client === undefined) throw this.notRunning();
    if (!this.tools.some((candidate) => candidate.name === tool)) {
      const names = this.tools.map((candidate) => candidate.name).join(', ') || 'none';
      throw new AgentError(404, `MCP server "${this.name}" has no tool named "${tool}"; its tools are: ${names}`);
    }
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await client.callTool({ name: tool, arguments: toolArguments }, undefined, { timeout: timeoutMs, maxTotalTimeout: timeoutMs });
    } catch (error) {
      // The process died while the call ran: the SDK rejects pending requests with ConnectionClosed.
      if (!this.isReady() || (error instanceof McpError && error.code === Number(ErrorCode.ConnectionClosed))) throw this.notRunning();
      if (error instanceof McpError && error.code === Number(ErrorCode.RequestTimeout)) {
        throw new AgentError(504, `MCP tool "${tool}" of server "${this.name}" did not answer within ${timeoutMs} ms`);
      }
      if (error instanceof McpError && error.code === Number(ErrorCode.InvalidParams)) {
        throw new AgentError(400, `MCP server "${this.name}" rejected the arguments for "${tool}": ${error.message}`);
      }
      if (error instanceof McpError) throw new AgentError(502, `MCP server "${this.name}" failed to run "${tool}": ${error.message}`);
      throw error;
    }
    // Old servers answer `toolResult` instead of content blocks (protocol 2024-10-07).
    if (!Array.isArray(result.content)) return { content: [{ type: 'text', text: JSON.stringify(result.toolResult) }], is_error: false };
    return {
      content: result.content as unknown[],
      ...(result.structuredContent === undefined ? {} : { structured_content: result.structuredContent }),
      is_error: result.isError === true,
    };
  }

  /**
   * Closes the client, which ends the process (stdin closed, then SIGTERM, then SIGKILL).
   * `reason` is what calls in flight and later calls are told.
   */
  close(reason: string): Promise<void> {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.error = reason;
    }
    return this.endProcess();
  }

  private endProcess(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.client?.close().catch(() => undefined);
      await this.transport?.close().catch(() => undefined);
    })());
  }

  private isReady(): boolean {
    return this.state === 'ready';
  }

  private notRunning(): AgentError {
    const why = this.state === 'starting' ? 'it is still starting' : (this.error ?? 'it was stopped');
    return new AgentError(503, `MCP server "${this.name}" is not running: ${why}. List the workspace's MCP tools again to restart it.`);
  }

  private withStderr(message: string): string {
    const tail = this.stderrTail.trim();
    return tail === '' ? message : `${message}; its stderr ends with: ${tail}`;
  }

  private async start(): Promise<void> {
    const { entry, logger } = this.options;
    let timer: NodeJS.Timeout | undefined;
    try {
      const cwd = entry.cwd === undefined ? this.options.root.realPath : await resolveWorkspacePath(this.options.root, entry.cwd);
      const transport = new StdioClientTransport({
        command: entry.command,
        args: entry.args ?? [],
        env: { ...this.options.environment, ...entry.env },
        cwd,
        // Piped, not inherited: the agent's log holds JSON lines, and the tail explains failures.
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      const client = new Client(CLIENT_INFO, {
        capabilities: {},
        listChanged: {
          tools: {
            onChanged: (error, tools) => {
              if (error === null && tools !== null && this.state === 'ready') this.tools = tools;
            },
          },
        },
      });
      client.onclose = () => this.onClosed();
      this.transport = transport;
      this.client = client;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`it did not answer initialize and tools/list within ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
      });
      const tools = await Promise.race([this.connectAndListTools(client, transport), timeout]);
      if (this.state !== 'starting') return;
      this.tools = tools;
      this.state = 'ready';
      logger.info({ mcp_server: this.name, pid: this.pid, tools: tools.length }, 'workspace MCP server ready');
    } catch (error) {
      if (this.state !== 'starting') return;
      const closed = error instanceof McpError && error.code === Number(ErrorCode.ConnectionClosed);
      const reason = closed ? 'its process exited before it answered initialize and tools/list' : error instanceof Error ? error.message : String(error);
      this.end('failed', this.withStderr(`MCP server "${this.name}" failed to start: ${reason}`));
      logger.warn({ mcp_server: this.name, error: this.error }, 'workspace MCP server failed to start');
      // Not awaited: ending a stuck process takes seconds, and "failed" is already the answer.
      void this.endProcess();
    } finally {
      clearTimeout(timer);
    }
  }

  private async connectAndListTools(client: Client, transport: StdioClientTransport): Promise<Tool[]> {
    await client.connect(transport, { timeout: this.options.connectTimeoutMs });
    // A server with only prompts or resources is running fine; it just offers no tools.
    if (client.getServerCapabilities()?.tools === undefined) return [];
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: this.options.connectTimeoutMs });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  }

  private onClosed(): void {
    if (this.state !== 'ready') return;
    this.end('exited', this.withStderr('the server process exited'));
    this.options.logger.warn({ mcp_server: this.name, error: this.error }, 'workspace MCP server exited');
  }

  private end(state: 'failed' | 'exited', error: string): void {
    this.state = state;
    this.error = error;
    this.endedAt = Date.now();
  }
}
