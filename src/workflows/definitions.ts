/**
 * The chat workflow's public surface: its id scheme, input, updates and query. Shared by the
 * workflow and the API's Temporal client. Workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { type CompactionResult } from '../domain/compaction.js';
import { type AgentType } from '../domain/tool-policy.js';
import { type ChatMessagePart, type ChatStatus, type DynamicTool, type Labels, type PendingToolCall } from '../domain/chat.js';

export const CHAT_WORKFLOW_TYPE = 'chatWorkflow';

export function chatWorkflowId(chatId: string): string {
  return `chat/${chatId}`;
}

export type BusyBehavior = 'queue' | 'interrupt';

export interface QueuedItem {
  queuedId: number;
}

export interface CreateChatInput {
  ownerId: string;
  title: string;
  content: ChatMessagePart[];
  /** Validated by the API; null means the default model. */
  modelConfigId: string | null;
  systemPrompt: string | null;
  labels: Labels;
  dynamicTools: DynamicTool[];
  clientMessageId: string | null;
  /** The API key that sent the message; its model calls are attributed to it. Absent in histories from before attribution. */
  apiKeyId?: string | null;
  /** A workspace the API checked the owner owns. Absent in histories from before workspaces. */
  workspaceId?: string | null;
  /** Enabled MCP servers the API checked. Absent in histories from before MCP servers. */
  mcpServerIds?: string[];
  /** Whether the chat starts in plan mode. */
  planMode?: boolean;
  /** Set for a sub-agent chat: the chat that spawned it, and what kind of sub-agent it is. */
  parentChatId?: string | null;
  agentType?: AgentType | null;
}

export interface SendMessageInput {
  content: ChatMessagePart[];
  /** Validated by the API; null means the chat's last model, then the default. */
  modelConfigId: string | null;
  busyBehavior: BusyBehavior;
  clientMessageId: string | null;
  apiKeyId?: string | null;
  /** Plan mode for the turn this message starts (and after); absent keeps the chat's. */
  planMode?: boolean;
}

export interface SendMessageResult {
  queued: boolean;
  messageId: number | null;
  queuedMessageId: number | null;
}

export interface EditMessageInput {
  messageId: number;
  content: ChatMessagePart[];
  modelConfigId: string | null;
  clientMessageId: string | null;
  apiKeyId?: string | null;
}

export interface EditMessageResult {
  messageId: number;
}

export interface ToolResultInput {
  tool_call_id: string;
  output: unknown;
  is_error: boolean;
}

export interface UpdateChatInput {
  title?: string;
  labels?: Labels;
  archived?: boolean;
  /** Checked by the API (the owner's workspace); null unbinds. */
  workspaceId?: string | null;
  /** Checked by the API (enabled servers); replaces the chat's selection. */
  mcpServerIds?: string[];
  planMode?: boolean;
}

/** Everything that survives continue-as-new. JSON-plain on purpose. */
export interface ChatStateSnapshot {
  status: ChatStatus;
  archived: boolean;
  turn: number;
  /** The last turn whose outcome was settled; a turn is pending while it lags `turn`. */
  settledTurn: number;
  queue: QueuedItem[];
  pendingToolCalls: PendingToolCall[];
  /** client_message_id → the result first returned for it (bounded, oldest dropped). */
  dedupe: Array<[string, SendMessageResult]>;
  dynamicToolNames: string[];
  /** Sub-agent chats this chat started (absent in snapshots from before sub-agents). */
  children?: string[];
}

export interface ChatWorkflowInput {
  chatId: string;
  ownerId: string;
  state?: ChatStateSnapshot;
  /**
   * A sub-agent chat started by its parent's workflow: the chat to create when the run starts
   * (instead of a `createChat` Update). Dropped at continue-as-new.
   */
  create?: CreateChatInput;
  /** The parent chat of a sub-agent chat; carried across continue-as-new. */
  parentChatId?: string;
  /** Test hook: continue-as-new once history has more events than this. */
  continueAsNewAfterEvents?: number;
  /** Test hook: how long client-executed tool calls may stay unanswered (default 5 minutes). */
  dynamicToolTimeoutMs?: number;
}

export interface ChatView extends ChatStateSnapshot {
  turnActive: boolean;
}

export const createChatUpdate = defineUpdate<SendMessageResult, [CreateChatInput]>('createChat');
export const sendMessageUpdate = defineUpdate<SendMessageResult, [SendMessageInput]>('sendMessage');
export const editMessageUpdate = defineUpdate<EditMessageResult, [EditMessageInput]>('editMessage');
export const promoteQueuedUpdate = defineUpdate<void, [{ queuedId: number }]>('promoteQueued');
export const deleteQueuedUpdate = defineUpdate<void, [{ queuedId: number }]>('deleteQueued');
export const interruptUpdate = defineUpdate<void, []>('interrupt');
export const submitToolResultsUpdate = defineUpdate<void, [{ results: ToolResultInput[] }]>('submitToolResults');
export const updateChatUpdate = defineUpdate<void, [UpdateChatInput]>('updateChat');
/** Regenerates the chat's title from its conversation; `apiKeyId` is charged for the call. */
export const regenerateTitleUpdate = defineUpdate<{ title: string }, [{ apiKeyId: string | null }]>('regenerateTitle');
/** Summarises the chat now (source `manual`); refused while a turn runs or when nothing is new since the last summary. */
export const compactUpdate = defineUpdate<CompactionResult, [{ apiKeyId: string | null }]>('compact');
export const chatViewQuery = defineQuery<ChatView>('chatView');
/** From a parent chat's workflow to its sub-agents': interrupting or archiving the parent reaches them. */
export const familySignal = defineSignal<[{ action: 'interrupt' | 'archive' }]>('family');
