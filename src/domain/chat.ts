/**
 * The chat domain: statuses, message parts, errors, and the resources the API returns.
 * Zod schemas are the single source of truth; each type shares its schema's name.
 * Workflow-safe: imports zod only.
 */
import { z } from 'zod';
import { AgentType } from './tool-policy.js';

export const ChatStatus = z.enum(['waiting', 'running', 'interrupting', 'requires_action', 'error']);
export type ChatStatus = z.infer<typeof ChatStatus>;

export const MessageRole = z.enum(['system', 'user', 'assistant', 'tool']);
export type MessageRole = z.infer<typeof MessageRole>;

export const JsonValue: z.ZodType<unknown> = z.json();

export const ChatMessagePart = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('reasoning'), text: z.string() }),
  /** `provider_executed`: the provider ran it (e.g. web search); chatd records it and never runs it. */
  z.object({ type: z.literal('tool-call'), tool_call_id: z.string(), tool_name: z.string(), args: JsonValue, provider_executed: z.boolean().optional() }),
  z.object({
    type: z.literal('tool-result'),
    tool_call_id: z.string(),
    tool_name: z.string(),
    result: JsonValue,
    is_error: z.boolean(),
    provider_executed: z.boolean().optional(),
  }),
  z.object({ type: z.literal('file'), file_id: z.string(), name: z.string(), media_type: z.string() }),
  z.object({ type: z.literal('source'), url: z.string(), title: z.string().optional() }),
]);
export type ChatMessagePart = z.infer<typeof ChatMessagePart>;

export const ChatErrorKind = z.enum([
  'generic',
  'overloaded',
  'rate_limit',
  'timeout',
  'startup_timeout',
  'auth',
  'config',
  'usage_limit',
  'provider_disabled',
  'content_filter',
]);
export type ChatErrorKind = z.infer<typeof ChatErrorKind>;

export const ChatError = z.object({
  message: z.string(),
  kind: ChatErrorKind,
  provider: z.string().optional(),
  retryable: z.boolean(),
  status_code: z.number().int().optional(),
  detail: z.string().optional(),
});
export type ChatError = z.infer<typeof ChatError>;

export const Usage = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  reasoning_tokens: z.number().int(),
  cache_read_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  cost_micros: z.number().int(),
});
export type Usage = z.infer<typeof Usage>;

export const ChatMessage = z.object({
  id: z.number().int(),
  chat_id: z.uuid(),
  role: MessageRole,
  content: z.array(ChatMessagePart),
  model_config_id: z.uuid().nullable(),
  created_at: z.string(),
  usage: Usage.optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const QueuedMessage = z.object({
  id: z.number().int(),
  chat_id: z.uuid(),
  content: z.array(ChatMessagePart),
  model_config_id: z.uuid().nullable(),
  created_at: z.string(),
});
export type QueuedMessage = z.infer<typeof QueuedMessage>;

export const Labels = z.record(z.string().min(1).max(64), z.string().max(256));
export type Labels = z.infer<typeof Labels>;

/** A client-executed tool declared on the chat: the turn pauses in `requires_action` when called. */
export const DynamicTool = z.object({
  name: z.string().min(1).max(64).regex(/^[a-zA-Z0-9_-]+$/, 'Tool names may contain letters, digits, _ and - only.'),
  description: z.string().max(4096).default(''),
  input_schema: z.record(z.string(), z.unknown()).default({ type: 'object' }),
});
export type DynamicTool = z.infer<typeof DynamicTool>;

export const Chat = z.object({
  id: z.uuid(),
  owner_id: z.uuid(),
  title: z.string(),
  status: ChatStatus,
  archived: z.boolean(),
  parent_chat_id: z.uuid().nullable(),
  root_chat_id: z.uuid(),
  workspace_id: z.uuid().nullable(),
  /** The remote MCP servers whose tools the chat may use. */
  mcp_server_ids: z.array(z.uuid()),
  last_model_config_id: z.uuid().nullable(),
  last_error: ChatError.nullable(),
  last_turn_summary: z.string().nullable(),
  labels: Labels,
  plan_mode: z.boolean(),
  /** Set on sub-agent chats: what kind of sub-agent the parent spawned. */
  agent_type: AgentType.nullable(),
  queued_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Chat = z.infer<typeof Chat>;

/** A tool call the client must answer through `POST /tool-results`. */
export const PendingToolCall = z.object({ tool_call_id: z.string(), tool_name: z.string(), args: JsonValue });
export type PendingToolCall = z.infer<typeof PendingToolCall>;

export const MAX_QUEUED_MESSAGES = 20;
export const MAX_CHAT_STEPS = 1200;
export const MAX_DYNAMIC_TOOLS = 250;
export const DYNAMIC_TOOL_TIMEOUT_MS = 5 * 60_000;
export const MAX_SYSTEM_PROMPT_CHARS = 10_000;
/**
 * A send's message up to this size (JSON characters) also travels in its turn's first step, so
 * the step can call the model while the message is being written; larger ones make it wait.
 */
export const MAX_SPECULATIVE_MESSAGE_CHARS = 16_000;
