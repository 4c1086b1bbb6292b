/**
 * Runs the Temporal CLI dev server as a child process for `chatd start` (persisting to a
 * SQLite file, with its Web UI). Tests use `TestWorkflowEnvironment.createLocal` instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CHAT_SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';
import { stopChild, waitForPort } from './process-tree.js';

export interface TemporalDevServerOptions {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
}

export interface TemporalDevServer {
  address: string;
  uiUrl: string;
  logFile: string;
  stop(): Promise<void>;
}

const SEARCH_ATTRIBUTE_TYPE_NAMES: Record<string, string> = {
  KEYWORD: 'Keyword',
  INT: 'Int',
  DATETIME: 'Datetime',
  TEXT: 'Text',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  KEYWORD_LIST: 'KeywordList',
};

/** Starts `temporal server start-dev` and resolves once its gRPC port accepts connections. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  await mkdir(options.dataDir, { recursive: true });
  const logFile = path.join(options.dataDir, 'temporal.log');
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(options.dataDir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
    // Lets a worker start the next LLM step straight from its workflow task completion.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    ...CHAT_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_TYPE_NAMES[key.type] ?? 'Keyword'}`]),
  ];
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  try {
    await waitForPort('127.0.0.1', options.port, 60_000, child);
  } catch (error) {
    await stopChild(child);
    throw new Error(`Temporal dev server did not start (see ${logFile})`, { cause: error });
  }
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    logFile,
    stop: () => stopChild(child),
  };
}
