/**
 * Row types of the chat tables and their conversion to API resources. JSONB columns are parsed
 * with the domain schemas, so a malformed row fails loudly instead of reaching a client.
 */
import { z } from 'zod';
import { type AgentType } from '../domain/tool-policy.js';
import { type Chat, ChatError, type ChatMessage, ChatMessagePart, Labels, type QueuedMessage, Usage, type ChatStatus } from '../domain/chat.js';

export interface ChatRow {
  id: string;
  owner_id: string;
  title: string;
  status: ChatStatus;
  archived: boolean;
  parent_chat_id: string | null;
  root_chat_id: string;
  workspace_id: string | null;
  mcp_server_ids: string[];
  last_model_config_id: string | null;
  last_error: unknown;
  last_turn_summary: string | null;
  labels: unknown;
  plan_mode: boolean;
  agent_type: AgentType | null;
  dynamic_tools: unknown;
  pending_tool_calls: unknown;
  queued_count: number;
  turn_count: number;
  event_seq: number;
  last_progress_at: Date;
  created_at: Date;
  updated_at: Date;
}

/** ChatRow's columns, for statements that must not select `*` (see `prepared` in pool.ts). */
export const CHAT_COLUMNS = `id, owner_id, title, status, archived, parent_chat_id, root_chat_id, workspace_id, mcp_server_ids, last_model_config_id,
  last_error, last_turn_summary, labels, plan_mode, agent_type, dynamic_tools, pending_tool_calls, queued_count, turn_count, event_seq,
  last_progress_at, created_at, updated_at`;

export interface MessageRow {
  id: number;
  chat_id: string;
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: ChatMessagePart[];
  model_config_id: string | null;
  usage: unknown;
  visibility: 'user' | 'model' | 'both';
  deleted: boolean;
  idempotency_key: string | null;
  /** The API key the message was sent with (user) or its model call was made for (assistant). */
  api_key_id: string | null;
  /** The provider's id of the response behind an assistant step (OpenAI Responses chaining). */
  provider_response_id: string | null;
  created_at: Date;
}

export interface QueuedRow {
  id: number;
  chat_id: string;
  content: ChatMessagePart[];
  model_config_id: string | null;
  position: number;
  api_key_id: string | null;
  /** The plan mode the message's turn runs in; null keeps the chat's. */
  plan_mode: boolean | null;
  created_at: Date;
}

const Parts = z.array(ChatMessagePart);

export function chatFromRow(row: ChatRow): Chat {
  return {
    id: row.id,
    owner_id: row.owner_id,
    title: row.title,
    status: row.status,
    archived: row.archived,
    parent_chat_id: row.parent_chat_id,
    root_chat_id: row.root_chat_id,
    workspace_id: row.workspace_id,
    mcp_server_ids: row.mcp_server_ids,
    last_model_config_id: row.last_model_config_id,
    last_error: row.last_error === null ? null : ChatError.parse(row.last_error),
    last_turn_summary: row.last_turn_summary,
    labels: Labels.parse(row.labels),
    plan_mode: row.plan_mode,
    agent_type: row.agent_type,
    queued_count: row.queued_count,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function chatMessageFromRow(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    chat_id: row.chat_id,
    role: row.role,
    content: Parts.parse(row.content),
    model_config_id: row.model_config_id,
    created_at: row.created_at.toISOString(),
    ...(row.usage === null ? {} : { usage: Usage.parse(row.usage) }),
  };
}

export function queuedMessageFromRow(row: QueuedRow): QueuedMessage {
  return {
    id: row.id,
    chat_id: row.chat_id,
    content: Parts.parse(row.content),
    model_config_id: row.model_config_id,
    created_at: row.created_at.toISOString(),
  };
}
