/**
 * The typed client of a workspace agent, used by the chat tools and the workspace provider.
 * Every answer is validated with the protocol schemas. Failures come in three kinds:
 *
 * - AgentUnreachableError: no answer at all ('refused': connection refused or reset, the agent
 *   is not running; 'timeout': it did not accept the connection or answer in time).
 * - AgentRequestError: the agent answered with an error; `message` is its explanation,
 *   written for the model (a path outside the workspace, a file that does not exist, …).
 * - AgentProtocolError: the agent answered something this client does not understand
 *   (a different chatd version); an infrastructure fault, not something the model can fix.
 *
 * Each request uses its own connection (loopback connections are cheap), so an idle client
 * holds nothing open and never keeps the process alive.
 */
import http from 'node:http';
import { type z } from 'zod';
import {
  AgentErrorBody,
  AgentRoutes,
  CHAT_ID_HEADER,
  EditFilesResult,
  ExecuteResult,
  HealthResponse,
  McpCallResult,
  McpToolsList,
  ProcessList,
  ProcessOutput,
  ProcessSignalResult,
  ReadFileBytesResult,
  ReadFileResult,
  ShutdownResult,
  WorkspaceContextResult,
  WriteFileResult,
  type ContextRequest,
  type EditFilesRequest,
  type ExecuteRequest,
  type McpCallRequest,
  type ProcessInfo,
  type ProcessOutputRequest,
  type ProcessSignalRequest,
  type ReadFileRequest,
  type WriteFileRequest,
} from './agent-protocol.js';

export type { WorkspaceContextResult };
export type { ExecuteResult, HealthResponse, McpCallResult, McpToolsList, ProcessInfo, ProcessOutput, ProcessSignalResult, ReadFileResult, WriteFileResult, EditFilesResult };

export class AgentUnreachableError extends Error {
  override readonly name = 'AgentUnreachableError';
  constructor(
    readonly reason: 'refused' | 'timeout',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class AgentProtocolError extends Error {
  override readonly name = 'AgentProtocolError';
}

export interface AgentClientOptions {
  /** The agent's base URL, from agent.json. */
  url: string;
  token: string;
  /** Sent as X-Chatd-Chat-Id, so the agent's log lines name the chat. */
  chatId?: string;
  /** How long to wait for the connection to be accepted (default 5 s). */
  dialTimeoutMs?: number;
  /** How long to wait for an answer to a request that does not wait on a command (default 30 s). */
  requestTimeoutMs?: number;
}

export interface ExecuteCommandRequest {
  /** Idempotency key: the agent starts a command at most once per id. */
  id: string;
  command: string;
  workdir?: string;
  timeoutMs: number;
  background: boolean;
}

export interface ReadFileBytes {
  path: string;
  bytes: Buffer;
  size: number;
}

const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Beyond a command's own timeout: the agent's SIGTERM-to-SIGKILL grace plus transport slack. */
const WAITING_REQUEST_SLACK_MS = 15_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL']);

export class AgentClient {
  private readonly baseUrl: URL;
  private readonly token: string;
  private readonly chatId: string | undefined;
  private readonly dialTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(options: AgentClientOptions) {
    this.baseUrl = new URL(options.url);
    this.token = options.token;
    this.chatId = options.chatId;
    this.dialTimeoutMs = options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async health(): Promise<HealthResponse> {
    return this.call('GET', AgentRoutes.health, undefined, HealthResponse, this.requestTimeoutMs);
  }

  /** Runs a command (or, with an id seen before, answers for the run that id already started). */
  async execute(request: ExecuteCommandRequest): Promise<ExecuteResult> {
    const body: ExecuteRequest = {
      id: request.id,
      command: request.command,
      ...(request.workdir === undefined ? {} : { workdir: request.workdir }),
      timeout_ms: request.timeoutMs,
      background: request.background,
    };
    return this.call('POST', AgentRoutes.execute, body, ExecuteResult, request.timeoutMs + WAITING_REQUEST_SLACK_MS);
  }

  /** A background process's recent output, after waiting up to `waitTimeoutMs` for it to exit. */
  async processOutput(request: { processId: string; waitTimeoutMs: number }): Promise<ProcessOutput> {
    const body: ProcessOutputRequest = { process_id: request.processId, wait_timeout_ms: request.waitTimeoutMs };
    return this.call('POST', AgentRoutes.processOutput, body, ProcessOutput, request.waitTimeoutMs + WAITING_REQUEST_SLACK_MS);
  }

  async listProcesses(): Promise<ProcessInfo[]> {
    return (await this.call('GET', AgentRoutes.processList, undefined, ProcessList, this.requestTimeoutMs)).processes;
  }

  async signalProcess(request: { processId: string; signal: 'terminate' | 'kill' }): Promise<ProcessSignalResult> {
    const body: ProcessSignalRequest = { process_id: request.processId, signal: request.signal };
    return this.call('POST', AgentRoutes.processSignal, body, ProcessSignalResult, this.requestTimeoutMs);
  }

  async readFile(request: { path: string; offset?: number; limit?: number }): Promise<ReadFileResult> {
    const body: ReadFileRequest = {
      path: request.path,
      ...(request.offset === undefined ? {} : { offset: request.offset }),
      ...(request.limit === undefined ? {} : { limit: request.limit }),
    };
    return this.call('POST', AgentRoutes.readFile, body, ReadFileResult, this.requestTimeoutMs);
  }

  /** The raw bytes of a file; refused (AgentRequestError 413) when it is larger than `maxBytes`. */
  async readFileBytes(request: { path: string; maxBytes: number }): Promise<ReadFileBytes> {
    const result = await this.call('POST', AgentRoutes.readFileBytes, { path: request.path, max_bytes: request.maxBytes }, ReadFileBytesResult, this.requestTimeoutMs);
    return { path: result.path, bytes: Buffer.from(result.content_base64, 'base64'), size: result.size };
  }

  async writeFile(request: { path: string; content: string }): Promise<WriteFileResult> {
    const body: WriteFileRequest = { path: request.path, content: request.content };
    return this.call('POST', AgentRoutes.writeFile, body, WriteFileResult, this.requestTimeoutMs);
  }

  /** All edits are checked before any file is written; one bad edit changes nothing. */
  async editFiles(request: EditFilesRequest): Promise<EditFilesResult> {
    return this.call('POST', AgentRoutes.editFiles, { edits: request.edits }, EditFilesResult, this.requestTimeoutMs);
  }

  /**
   * The MCP servers of the workspace's .mcp.json, each `starting`, `ready` (with its tools) or
   * `failed`. The agent re-reads .mcp.json and retries failed servers on every call, and waits
   * only a few seconds for slow ones: ask again while the list is empty.
   */
  async listMcpTools(): Promise<McpToolsList> {
    return this.call('POST', AgentRoutes.mcpTools, undefined, McpToolsList, this.requestTimeoutMs);
  }

  /**
   * Calls a workspace MCP tool. A tool that fails is a result with `is_error`; AgentRequestError
   * means the call did not run: 404 unknown server or tool, 503 the server is not running
   * (list again to restart it), 504 no answer within `timeoutMs`.
   */
  async callMcpTool(request: { server: string; tool: string; arguments: Record<string, unknown>; timeoutMs: number }): Promise<McpCallResult> {
    const body: McpCallRequest = { server: request.server, tool: request.tool, arguments: request.arguments, timeout_ms: request.timeoutMs };
    return this.call('POST', AgentRoutes.mcpCall, body, McpCallResult, request.timeoutMs + WAITING_REQUEST_SLACK_MS);
  }

  /**
   * The instruction files and skill index for a chat's system prompt. `instructionFiles: false`
   * asks for the skills only (the caller keeps the files it recorded for this agent).
   */
  async context(request: { instructionFiles: boolean; timeoutMs?: number }): Promise<WorkspaceContextResult> {
    const body: ContextRequest = { instruction_files: request.instructionFiles };
    return this.call('POST', AgentRoutes.context, body, WorkspaceContextResult, request.timeoutMs ?? this.requestTimeoutMs);
  }

  /** Stops the agent; resolves once its processes are ended and agent.json is removed. */
  async shutdown(): Promise<void> {
    await this.call('POST', AgentRoutes.shutdown, undefined, ShutdownResult, this.requestTimeoutMs);
  }

  private async call<T extends z.ZodType>(method: 'GET' | 'POST', route: string, body: unknown, schema: T, responseTimeoutMs: number): Promise<z.infer<T>> {
    const { status, text } = await this.send(method, route, body, responseTimeoutMs);
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status < 200 || status > 299) {
      const error = AgentErrorBody.safeParse(json);
      throw new AgentRequestError(status, error.success ? error.data.message : `the workspace agent answered HTTP ${status}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new AgentProtocolError(`the workspace agent's answer to ${method} ${route} does not match this chatd version: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ')}`);
    }
    return parsed.data;
  }

  private send(method: 'GET' | 'POST', route: string, body: unknown, responseTimeoutMs: number): Promise<{ status: number; text: string }> {
    const where = this.baseUrl.origin;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      let failure: Error | undefined;
      const fail = (error: Error) => {
        failure ??= error;
        request.destroy(failure);
      };
      const request = http.request(new URL(route, this.baseUrl), {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(this.chatId === undefined ? {} : { [CHAT_ID_HEADER]: this.chatId }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
        },
      });
      const dialTimer = setTimeout(() => fail(new AgentUnreachableError('timeout', `could not connect to the workspace agent at ${where} within ${this.dialTimeoutMs} ms`)), this.dialTimeoutMs);
      const responseTimer = setTimeout(() => fail(new AgentUnreachableError('timeout', `the workspace agent at ${where} did not answer within ${responseTimeoutMs} ms`)), responseTimeoutMs);
      const settle = () => {
        clearTimeout(dialTimer);
        clearTimeout(responseTimer);
      };
      const onError = (error: NodeJS.ErrnoException) => {
        settle();
        if (failure !== undefined) {
          reject(failure);
          return;
        }
        const code = error.code ?? '';
        const refused = UNREACHABLE_CODES.has(code) || error.message === 'socket hang up' || error.message === 'aborted';
        reject(refused ? new AgentUnreachableError('refused', `could not reach the workspace agent at ${where}: ${code || error.message}`, { cause: error }) : error);
      };
      request.on('socket', (socket) => {
        if (socket.connecting) socket.once('connect', () => clearTimeout(dialTimer));
        else clearTimeout(dialTimer);
      });
      request.on('error', onError);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) fail(new AgentProtocolError(`the workspace agent's answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('error', onError);
        response.on('end', () => {
          settle();
          if (failure !== undefined) reject(failure);
          else resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      request.end(payload);
    });
  }
}
