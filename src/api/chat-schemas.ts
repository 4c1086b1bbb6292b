/**
 * Request and response schemas of the chat API: the single source of truth for validation,
 * TypeScript types and the OpenAPI document. Requests are strict: unknown fields are a 400.
 */
import { z } from 'zod';
import { DynamicTool, Labels, MAX_DYNAMIC_TOOLS, MAX_SYSTEM_PROMPT_CHARS } from '../domain/chat.js';
import { MAX_CHAT_MCP_SERVERS } from '../domain/mcp-server.js';

export const MAX_MESSAGE_CHARS = 200_000;

export const InputContent = z.union([
  z.string().trim().min(1, 'Message content must not be empty.').max(MAX_MESSAGE_CHARS),
  z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('text'), text: z.string().max(MAX_MESSAGE_CHARS) }),
        z.strictObject({ type: z.literal('file'), file_id: z.uuid() }),
      ]),
    )
    .min(1, 'Message content must not be empty.'),
]);
export type InputContent = z.infer<typeof InputContent>;

const ClientMessageId = z.string().min(1).max(200);
const ModelConfigId = z.uuid('model_config_id must be a UUID.');
const WorkspaceId = z.uuid('workspace_id must be a UUID.');
/** Enabled MCP servers (GET /mcp-servers/available) whose tools the chat may use. */
const McpServerIds = z
  .array(z.uuid('mcp_server_ids must hold MCP server UUIDs.'))
  .max(MAX_CHAT_MCP_SERVERS, `A chat may use at most ${MAX_CHAT_MCP_SERVERS} MCP servers.`)
  .refine((ids) => new Set(ids).size === ids.length, 'mcp_server_ids must not repeat a server.');

export const CreateChatRequest = z.strictObject({
  content: InputContent,
  title: z.string().trim().max(200).optional(),
  model_config_id: ModelConfigId.optional(),
  system_prompt: z.string().max(MAX_SYSTEM_PROMPT_CHARS, `system_prompt may be at most ${MAX_SYSTEM_PROMPT_CHARS} characters.`).optional(),
  labels: Labels.optional(),
  dynamic_tools: z
    .array(DynamicTool)
    .max(MAX_DYNAMIC_TOOLS, `At most ${MAX_DYNAMIC_TOOLS} dynamic tools may be declared.`)
    .refine((tools) => new Set(tools.map((tool) => tool.name)).size === tools.length, 'Dynamic tool names must be unique.')
    .optional(),
  client_message_id: ClientMessageId.optional(),
  /** A workspace of the caller's to bind the chat to. */
  workspace_id: WorkspaceId.optional(),
  mcp_server_ids: McpServerIds.optional(),
  /** Start in plan mode: the agent investigates and proposes a plan instead of changing things. */
  plan_mode: z.boolean().optional(),
});
export type CreateChatRequest = z.infer<typeof CreateChatRequest>;

export const BusyBehavior = z.enum(['queue', 'interrupt']);

export const SendMessageRequest = z.strictObject({
  content: InputContent,
  model_config_id: ModelConfigId.optional(),
  busy_behavior: BusyBehavior.optional(),
  client_message_id: ClientMessageId.optional(),
  /** Plan mode for the turn this message starts, and the chat's from then on; absent keeps it. */
  plan_mode: z.boolean().optional(),
});
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;

export const EditMessageRequest = z.strictObject({
  content: InputContent,
  model_config_id: ModelConfigId.optional(),
  client_message_id: ClientMessageId.optional(),
});
export type EditMessageRequest = z.infer<typeof EditMessageRequest>;

export const UpdateChatRequest = z
  .strictObject({
    title: z.string().trim().min(1).max(200).optional(),
    archived: z.boolean().optional(),
    labels: Labels.optional(),
    /** Binds the chat to a workspace of the caller's; null unbinds it. */
    workspace_id: WorkspaceId.nullable().optional(),
    /** Replaces the chat's MCP servers; [] removes them all. */
    mcp_server_ids: McpServerIds.optional(),
    plan_mode: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'Send at least one of title, archived, labels, workspace_id, mcp_server_ids, plan_mode.');
export type UpdateChatRequest = z.infer<typeof UpdateChatRequest>;

export const SubmitToolResultsRequest = z.strictObject({
  results: z.array(
    z.strictObject({
      tool_call_id: z.string().min(1),
      output: z.unknown().refine((value) => value !== undefined, 'Tool result output must be valid JSON.'),
      is_error: z.boolean().default(false),
    }),
  ),
});
export type SubmitToolResultsRequest = z.infer<typeof SubmitToolResultsRequest>;

export const ListChatsQuery = z.strictObject({
  archived: z.enum(['true', 'false']).transform((value) => value === 'true').optional(),
  status: z.enum(['waiting', 'running', 'interrupting', 'requires_action', 'error']).optional(),
  label: z.union([z.string(), z.array(z.string())]).optional(),
  /** Only the sub-agent chats of this chat. */
  parent_chat_id: z.uuid('parent_chat_id must be a UUID.').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().optional(),
});

export const ListMessagesQuery = z.strictObject({
  before_id: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const ChatIdParams = z.object({ chatId: z.uuid('Chat not found.') });
