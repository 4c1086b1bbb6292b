/**
 * The chat stream protocol: one discriminated union on `type`, the single source of truth for
 * what `GET /api/v1/chats/:id/stream` sends (and what `chat_events.payload` holds).
 * Client-facing objects are loose: a client that is behind the server ignores fields it does
 * not know, and must ignore event types it does not know. Workflow-safe.
 */
import { z } from 'zod';
import { ChatError, ChatErrorKind, ChatMessage, ChatStatus, PendingToolCall, QueuedMessage } from './chat.js';

export const MessagePartDelta = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text'), text: z.string() }),
  z.looseObject({ type: z.literal('reasoning'), text: z.string() }),
  z.looseObject({ type: z.literal('tool-call'), tool_call_id: z.string(), tool_name: z.string(), args_delta: z.string() }),
  z.looseObject({
    type: z.literal('tool-result'),
    tool_call_id: z.string(),
    tool_name: z.string(),
    result_delta: z.string().optional(),
    result: z.unknown().optional(),
    is_error: z.boolean().optional(),
  }),
]);
export type MessagePartDelta = z.infer<typeof MessagePartDelta>;

export const RetryInfo = z.object({
  attempt: z.number().int(),
  delay_ms: z.number().int(),
  error: z.string(),
  kind: ChatErrorKind,
  provider: z.string().optional(),
  status_code: z.number().int().optional(),
  retrying_at: z.string(),
});
export type RetryInfo = z.infer<typeof RetryInfo>;

export const ChatStreamEvent = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('status'), status: ChatStatus }),
  z.looseObject({ type: z.literal('message'), message: ChatMessage }),
  z.looseObject({ type: z.literal('message_part'), message_id: z.number().int().optional(), role: z.enum(['assistant', 'tool']), part: MessagePartDelta }),
  z.looseObject({ type: z.literal('queue_update'), queued_messages: z.array(QueuedMessage) }),
  z.looseObject({ type: z.literal('retry'), ...RetryInfo.shape }),
  z.looseObject({ type: z.literal('error'), error: ChatError }),
  z.looseObject({ type: z.literal('action_required'), tool_calls: z.array(PendingToolCall) }),
  z.looseObject({ type: z.literal('history_reset'), from_message_id: z.number().int() }),
  z.looseObject({ type: z.literal('title_change'), title: z.string() }),
  /** Something the turn went on without, e.g. a remote MCP server that could not be reached. */
  z.looseObject({ type: z.literal('warning'), source: z.literal('mcp'), server: z.string(), message: z.string() }),
]);
export type ChatStreamEvent = z.infer<typeof ChatStreamEvent>;
export type ChatStreamEventType = ChatStreamEvent['type'];

/**
 * Event types that close the step in progress: parts logged before the latest of these are
 * not part of the step a new subscriber is shown (a `retry` withdraws the failed attempt's).
 */
export const STEP_BOUNDARY_EVENTS: readonly ChatStreamEventType[] = ['message', 'retry', 'history_reset', 'error'];
