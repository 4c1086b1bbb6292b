/**
 * The agent's HTTP API (express), bound to loopback. Every route needs the bearer token,
 * compared in constant time; bodies are validated with the protocol schemas. Log lines carry
 * the caller's chat id and never the token, command text or file contents.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import { type Logger } from '../logger.js';
import { AgentError, parseAgentRequest } from './agent-error.js';
import {
  AgentRoutes,
  CHAT_ID_HEADER,
  ContextRequest,
  EditFilesRequest,
  ExecuteRequest,
  McpCallRequest,
  ProcessOutputRequest,
  ProcessSignalRequest,
  ReadFileBytesRequest,
  ReadFileRequest,
  REQUEST_BODY_MAX_BYTES,
  WriteFileRequest,
  type AgentErrorBody,
  type HealthResponse,
  type McpCallResult,
  type McpToolsList,
  type ProcessList,
  type ShutdownResult,
  type WorkspaceContextResult,
} from './agent-protocol.js';
import { type BackgroundProcesses } from './background-processes.js';
import { type CommandExecutions } from './command-executions.js';
import { editWorkspaceFiles } from './edit-files.js';
import { readWorkspaceFile, readWorkspaceFileBytes } from './read-file.js';
import { readWorkspaceContext } from './workspace-context.js';
import { writeWorkspaceFile } from './write-file.js';
import { type WorkspaceMcp } from './workspace-mcp.js';
import { type WorkspaceRoot } from './workspace-path.js';

export interface AgentServerDependencies {
  token: string;
  root: WorkspaceRoot;
  startedAt: Date;
  executions: CommandExecutions;
  processes: BackgroundProcesses;
  /** The servers of the workspace's .mcp.json. */
  mcp: WorkspaceMcp;
  logger: Logger;
  /** Ends every process group and removes agent.json; the shutdown route answers once it resolves. */
  stop: (reason: string) => Promise<void>;
  /** Called once the shutdown answer has been sent (the process exits there). */
  afterShutdownAnswered: () => void;
}

const MAX_CHAT_ID_CHARS = 200;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares digests, so neither the token's content nor its length leaks through timing. */
function createTokenCheck(token: string): RequestHandler {
  const expected = digest(token);
  return (request, _response, next) => {
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    if (match === null || !timingSafeEqual(digest(match[1]!), expected)) {
      next(new AgentError(401, 'missing or wrong workspace agent token'));
      return;
    }
    next();
  };
}

const requestLoggers = new WeakMap<Request, Logger>();

function requestLogger(request: Request): Logger {
  return requestLoggers.get(request)!;
}

function createRequestLogging(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const chatId = request.get(CHAT_ID_HEADER);
    const child = logger.child(chatId === undefined ? {} : { chat_id: chatId.slice(0, MAX_CHAT_ID_CHARS) });
    requestLoggers.set(request, child);
    const started = performance.now();
    response.on('finish', () => {
      const fields = { method: request.method, path: request.path, status: response.statusCode, duration_ms: Math.round(performance.now() - started) };
      // Health checks poll; they would drown everything else at info.
      if (request.path === AgentRoutes.health && response.statusCode === 200) child.debug(fields, 'request');
      else child.info(fields, 'request');
    });
    next();
  };
}

function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response: Response<AgentErrorBody>, _next) => {
    if (response.headersSent) {
      response.end();
      return;
    }
    if (error instanceof AgentError) {
      response.status(error.status).json({ message: error.message });
      return;
    }
    const bodyError = error as { type?: string; status?: number; message?: string };
    if (bodyError.type === 'entity.parse.failed') {
      response.status(400).json({ message: 'request body is not valid JSON' });
      return;
    }
    if (bodyError.type === 'entity.too.large') {
      response.status(413).json({ message: `request body is larger than ${REQUEST_BODY_MAX_BYTES} bytes` });
      return;
    }
    (requestLoggers.get(request) ?? logger).error({ err: error, method: request.method, path: request.path }, 'unexpected error in the workspace agent');
    response.status(500).json({ message: `unexpected error in the workspace agent: ${error instanceof Error ? error.message : String(error)}` });
  };
}

export function createAgentApp(dependencies: AgentServerDependencies): Express {
  const { root } = dependencies;
  const app = express();
  app.disable('x-powered-by');
  app.use(createRequestLogging(dependencies.logger));
  // Before body parsing: a caller without the token gets nothing parsed, let alone run.
  app.use(createTokenCheck(dependencies.token));
  app.use(express.json({ limit: REQUEST_BODY_MAX_BYTES }));

  app.get(AgentRoutes.health, (_request, response: Response<HealthResponse>) => {
    response.json({ pid: process.pid, started_at: dependencies.startedAt.toISOString(), root: root.path });
  });
  app.post(AgentRoutes.execute, async (request, response) => {
    response.json(await dependencies.executions.execute(parseAgentRequest(ExecuteRequest, request.body), requestLogger(request)));
  });
  app.post(AgentRoutes.processOutput, async (request, response) => {
    response.json(await dependencies.processes.output(parseAgentRequest(ProcessOutputRequest, request.body)));
  });
  app.get(AgentRoutes.processList, (_request, response: Response<ProcessList>) => {
    response.json({ processes: dependencies.processes.list() });
  });
  app.post(AgentRoutes.processSignal, async (request, response) => {
    response.json(await dependencies.processes.signal(parseAgentRequest(ProcessSignalRequest, request.body)));
  });
  app.post(AgentRoutes.readFile, async (request, response) => {
    response.json(await readWorkspaceFile(root, parseAgentRequest(ReadFileRequest, request.body)));
  });
  app.post(AgentRoutes.readFileBytes, async (request, response) => {
    response.json(await readWorkspaceFileBytes(root, parseAgentRequest(ReadFileBytesRequest, request.body)));
  });
  app.post(AgentRoutes.writeFile, async (request, response) => {
    response.json(await writeWorkspaceFile(root, parseAgentRequest(WriteFileRequest, request.body)));
  });
  app.post(AgentRoutes.editFiles, async (request, response) => {
    response.json(await editWorkspaceFiles(root, parseAgentRequest(EditFilesRequest, request.body)));
  });
  app.post(AgentRoutes.mcpTools, async (_request, response: Response<McpToolsList>) => {
    response.json(await dependencies.mcp.listTools());
  });
  app.post(AgentRoutes.mcpCall, async (request, response: Response<McpCallResult>) => {
    const body = parseAgentRequest(McpCallRequest, request.body);
    response.json(await dependencies.mcp.callTool({ server: body.server, tool: body.tool, arguments: body.arguments, timeoutMs: body.timeout_ms }));
  });
  app.post(AgentRoutes.context, async (request, response: Response<WorkspaceContextResult>) => {
    const body = parseAgentRequest(ContextRequest, request.body);
    response.json(await readWorkspaceContext(root, { instructionFiles: body.instruction_files }));
  });
  app.post(AgentRoutes.shutdown, async (_request, response: Response<ShutdownResult>) => {
    await dependencies.stop('shutdown request');
    response.on('finish', dependencies.afterShutdownAnswered);
    response.json({ stopped: true });
  });
  app.use((request, _response, next) => next(new AgentError(404, `no route for ${request.method} ${request.path}`)));
  app.use(createErrorHandler(dependencies.logger));
  return app;
}
