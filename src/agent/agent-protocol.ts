/**
 * The workspace agent's wire protocol: routes, limits and one zod schema per request and
 * response body. The agent validates request bodies with these schemas and the client
 * validates responses with the same ones, so the two sides cannot drift apart silently.
 * JSON field names are snake_case (they reach the model through the chat tools unchanged);
 * the client's method parameters are camelCase.
 */
import { z } from 'zod';

/** Carries the chat a request is made for, so the agent's log lines can be joined to it. */
export const CHAT_ID_HEADER = 'x-chatd-chat-id';

/** Foreground output and each process_output answer are capped at this many bytes. */
export const OUTPUT_CAP_BYTES = 32 * 1024;
/** A background process keeps only its most recent output, up to this many bytes. */
export const BACKGROUND_OUTPUT_BYTES = 256 * 1024;
/** read_file refuses files larger than this. */
export const READ_FILE_MAX_BYTES = 5 * 1024 * 1024;
export const READ_FILE_DEFAULT_LIMIT = 2000;
export const READ_FILE_MAX_LINE_CHARS = 2000;
/** The largest `max_bytes` read_file_bytes accepts (the JSON answer is base64, a third larger). */
export const READ_FILE_BYTES_MAX_BYTES = 32 * 1024 * 1024;
export const MAX_COMMAND_TIMEOUT_MS = 4 * 60 * 60 * 1000;
/** The longest a workspace MCP tool call may be given. */
export const MAX_MCP_CALL_TIMEOUT_MS = 60 * 60 * 1000;
/** Request bodies (write_file content is the large one). */
export const REQUEST_BODY_MAX_BYTES = 16 * 1024 * 1024;

export const AgentRoutes = {
  health: '/v1/health',
  execute: '/v1/execute',
  processOutput: '/v1/process-output',
  processList: '/v1/processes',
  processSignal: '/v1/process-signal',
  readFile: '/v1/read-file',
  readFileBytes: '/v1/read-file-bytes',
  writeFile: '/v1/write-file',
  editFiles: '/v1/edit-files',
  shutdown: '/v1/shutdown',
  mcpTools: '/v1/mcp/tools',
  mcpCall: '/v1/mcp/call',
  context: '/v1/context',
} as const;

/** `<stateDir>/agent.json`: written once the agent listens; its appearance means "ready". */
export const AgentInfo = z.object({
  url: z.url(),
  pid: z.number().int().positive(),
  started_at: z.string(),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

/** Every non-2xx answer. */
export const AgentErrorBody = z.object({ message: z.string() });
export type AgentErrorBody = z.infer<typeof AgentErrorBody>;

export const HealthResponse = z.object({
  pid: z.number().int().positive(),
  started_at: z.string(),
  root: z.string(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

const workspacePath = z.string().min(1, 'path must not be empty');
const processId = z.string().min(1).max(100);

export const ExecuteRequest = z.strictObject({
  /** The caller's idempotency key: the agent starts a command at most once per id, ever. */
  id: z.string().min(1).max(256),
  command: z.string().min(1, 'command must not be empty'),
  workdir: workspacePath.optional(),
  timeout_ms: z.number().int().positive().max(MAX_COMMAND_TIMEOUT_MS),
  background: z.boolean(),
});
export type ExecuteRequest = z.infer<typeof ExecuteRequest>;

export const ExecuteResult = z.object({
  success: z.boolean(),
  output: z.string(),
  exit_code: z.number().int().nullable(),
  wall_duration_ms: z.number().int().nonnegative(),
  error: z.string().optional(),
  truncated: z.boolean(),
  note: z.string().optional(),
  background_process_id: z.string().optional(),
});
export type ExecuteResult = z.infer<typeof ExecuteResult>;

export const ProcessOutputRequest = z.strictObject({
  process_id: processId,
  wait_timeout_ms: z.number().int().min(0).max(MAX_COMMAND_TIMEOUT_MS),
});
export type ProcessOutputRequest = z.infer<typeof ProcessOutputRequest>;

export const ProcessOutput = z.object({
  process_id: z.string(),
  command: z.string(),
  running: z.boolean(),
  exit_code: z.number().int().nullable(),
  output: z.string(),
  truncated: z.boolean(),
});
export type ProcessOutput = z.infer<typeof ProcessOutput>;

export const ProcessInfo = z.object({
  process_id: z.string(),
  command: z.string(),
  running: z.boolean(),
  exit_code: z.number().int().nullable(),
  started_at: z.string(),
  pid: z.number().int().positive(),
});
export type ProcessInfo = z.infer<typeof ProcessInfo>;

export const ProcessList = z.object({ processes: z.array(ProcessInfo) });
export type ProcessList = z.infer<typeof ProcessList>;

export const ProcessSignalRequest = z.strictObject({
  process_id: processId,
  signal: z.enum(['terminate', 'kill']),
});
export type ProcessSignalRequest = z.infer<typeof ProcessSignalRequest>;

export const ProcessSignalResult = z.object({
  process_id: z.string(),
  signalled: z.boolean(),
  running: z.boolean(),
});
export type ProcessSignalResult = z.infer<typeof ProcessSignalResult>;

export const ReadFileRequest = z.strictObject({
  path: workspacePath,
  /** 1-based line number of the first line to return. */
  offset: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).optional(),
});
export type ReadFileRequest = z.infer<typeof ReadFileRequest>;

export const ReadFileResult = z.object({
  path: z.string(),
  /** `cat -n` style: a right-aligned line number, a tab, the line. */
  content: z.string(),
  total_lines: z.number().int().nonnegative(),
  offset: z.number().int().min(1),
  lines_returned: z.number().int().nonnegative(),
  /** More lines follow the ones returned, or a line was cut at READ_FILE_MAX_LINE_CHARS. */
  truncated: z.boolean(),
});
export type ReadFileResult = z.infer<typeof ReadFileResult>;

export const ReadFileBytesRequest = z.strictObject({
  path: workspacePath,
  max_bytes: z.number().int().positive().max(READ_FILE_BYTES_MAX_BYTES),
});
export type ReadFileBytesRequest = z.infer<typeof ReadFileBytesRequest>;

export const ReadFileBytesResult = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  content_base64: z.string(),
});
export type ReadFileBytesResult = z.infer<typeof ReadFileBytesResult>;

export const WriteFileRequest = z.strictObject({
  path: workspacePath,
  content: z.string(),
});
export type WriteFileRequest = z.infer<typeof WriteFileRequest>;

export const WriteFileResult = z.object({
  path: z.string(),
  bytes_written: z.number().int().nonnegative(),
  created: z.boolean(),
});
export type WriteFileResult = z.infer<typeof WriteFileResult>;

export const FileEdit = z.strictObject({
  path: workspacePath,
  // Emptiness is checked with the other edit checks, so the message can name the edit.
  old_text: z.string(),
  new_text: z.string(),
  replace_all: z.boolean().optional(),
});
export type FileEdit = z.infer<typeof FileEdit>;

export const EditFilesRequest = z.strictObject({
  edits: z.array(FileEdit).min(1, 'edits must contain at least one edit'),
});
export type EditFilesRequest = z.infer<typeof EditFilesRequest>;

export const EditFilesResult = z.object({
  files: z.array(z.object({ path: z.string(), replacements: z.number().int().positive() })),
});
export type EditFilesResult = z.infer<typeof EditFilesResult>;

export const ShutdownResult = z.object({ stopped: z.literal(true) });
export type ShutdownResult = z.infer<typeof ShutdownResult>;

export const McpServerStatus = z.enum(['starting', 'ready', 'failed']);
export type McpServerStatus = z.infer<typeof McpServerStatus>;

export const McpToolInfo = z.object({
  name: z.string(),
  description: z.string().optional(),
  /** The tool's JSON Schema for its arguments, as the server declared it. */
  input_schema: z.record(z.string(), z.unknown()),
});
export type McpToolInfo = z.infer<typeof McpToolInfo>;

export const McpServerInfo = z.object({
  name: z.string(),
  status: McpServerStatus,
  /** Why a `failed` server is not running (a bad entry, a start that failed or timed out, an exit). */
  error: z.string().optional(),
  /** Empty unless the server is `ready`. */
  tools: z.array(McpToolInfo),
});
export type McpServerInfo = z.infer<typeof McpServerInfo>;

/** The answer to POST /v1/mcp/tools: every server of the workspace's .mcp.json and its tools. */
export const McpToolsList = z.object({
  servers: z.array(McpServerInfo),
  /** .mcp.json as a whole could not be read or parsed (the servers of its last good version keep running). */
  config_error: z.string().optional(),
});
export type McpToolsList = z.infer<typeof McpToolsList>;

export const McpCallRequest = z.strictObject({
  server: z.string().min(1),
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()),
  timeout_ms: z.number().int().positive().max(MAX_MCP_CALL_TIMEOUT_MS),
});
export type McpCallRequest = z.infer<typeof McpCallRequest>;

/** A tool's result as the MCP server returned it; a failed tool is `is_error`, not an HTTP error. */
export const McpCallResult = z.object({
  /** The MCP content blocks (text, image, resource, …), unchanged. */
  content: z.array(z.unknown()),
  structured_content: z.unknown().optional(),
  is_error: z.boolean(),
});
export type McpCallResult = z.infer<typeof McpCallResult>;

/** The instruction files chatd looks for (shared with the plan-mode write rule). */
export { INSTRUCTION_FILE_NAMES } from '../domain/skill.js';
/** Each instruction file is cut to this many bytes (its `truncated` flag says so). */
export const INSTRUCTION_FILE_MAX_BYTES = 64 * 1024;
/** A SKILL.md is read up to this many bytes for its front matter. */
export const SKILL_META_MAX_BYTES = 64 * 1024;

export const ContextRequest = z.strictObject({
  /** False when the caller already holds this agent's instruction files and wants the skills only. */
  instruction_files: z.boolean().default(true),
});
export type ContextRequest = z.input<typeof ContextRequest>;

export const InstructionFile = z.object({
  directory: z.enum(['home', 'workspace']),
  /** Absolute path on the agent's host. */
  path: z.string(),
  content: z.string(),
  /** The file was longer than INSTRUCTION_FILE_MAX_BYTES and was cut. */
  truncated: z.boolean(),
});
export type InstructionFile = z.infer<typeof InstructionFile>;

export const WorkspaceSkillInfo = z.object({
  /** The skill's directory name under .agents/skills (also how the model names it). */
  name: z.string(),
  description: z.string(),
});
export type WorkspaceSkillInfo = z.infer<typeof WorkspaceSkillInfo>;

/** The answer to POST /v1/context: what chatd adds to a chat's system prompt. */
export const WorkspaceContextResult = z.object({
  os: z.string(),
  home_directory: z.string().nullable(),
  workspace_directory: z.string(),
  instruction_files: z.array(InstructionFile),
  skills: z.array(WorkspaceSkillInfo),
  /** Skill directories left out, and why (a bad name, no SKILL.md, no description). */
  skipped_skills: z.array(z.object({ directory: z.string(), reason: z.string() })),
});
export type WorkspaceContextResult = z.infer<typeof WorkspaceContextResult>;
