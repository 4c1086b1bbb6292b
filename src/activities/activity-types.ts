/**
 * Inputs and outputs of chat activities. Only ids and small values cross into workflow
 * history; transcripts stay in PostgreSQL.
 */
import { type ChatError, type ChatMessagePart, type ChatStatus, type PendingToolCall } from '../domain/chat.js';
import { type CreateChatInput, type UpdateChatInput } from '../workflows/definitions.js';
import { type TurnStart } from './turn-start.js';

/**
 * How the workflow must treat one tool call of a step: run it (`builtin`), wait for the client
 * (`dynamic`), start a sub-agent chat as a child workflow (`spawn`), or answer it with an error
 * (`inactive`: gated off in this chat's role; `unknown`).
 */
export type ToolCallDisposition = 'builtin' | 'dynamic' | 'spawn' | 'inactive' | 'unknown';

export interface StepToolCall {
  toolCallId: string;
  toolName: string;
  args: unknown;
  disposition: ToolCallDisposition;
  /** True for a tool whose success ends the turn (e.g. propose_plan). */
  stopAfter: boolean;
}

export interface LlmStepInput {
  chatId: string;
  turn: number;
  step: number;
  /**
   * The turn's user message is being stored in parallel (the send answers while this step
   * starts): wait for the chat to reach `turn` instead of treating it as superseded.
   */
  awaitTurnStart?: boolean;
  /** The message that starts the turn, for a step that calls the model while it is written (see turn-start.ts). */
  turnStart?: TurnStart;
}

export interface LlmStepResult {
  /** False when the turn was superseded (edit, promote) and nothing was written. */
  accepted: boolean;
  messageId: number | null;
  toolCalls: StepToolCall[];
  finishReason: string;
  /**
   * The step's context reached the chat's compaction threshold: the workflow runs `compactChat`.
   * Absent in histories from before compaction.
   */
  compactionDue?: boolean;
}

export interface ToolOutcome {
  toolCallId: string;
  toolName: string;
  result: unknown;
  isError: boolean;
}

export interface RunToolInput {
  chatId: string;
  turn: number;
  toolCallId: string;
  toolName: string;
  args: unknown;
}

export interface PrepareSubAgentInput {
  chatId: string;
  turn: number;
  toolCallId: string;
  args: unknown;
}

/** What the workflow does with a `spawn_agent` call: answer it with a refusal, or start the child. */
export type PrepareSubAgentResult =
  | { kind: 'refused'; result: string }
  | { kind: 'ready'; childChatId: string; create: CreateChatInput; result: Record<string, unknown> };

export interface TurnScoped {
  chatId: string;
  turn: number;
}

export interface CreateChatRecordInput extends TurnScoped {
  create: CreateChatInput;
}

export interface InsertUserMessageInput extends TurnScoped {
  content: ChatMessagePart[];
  modelConfigId: string | null;
}

export interface EnqueueMessageInput {
  chatId: string;
  content: ChatMessagePart[];
  modelConfigId: string | null;
  idempotencyKey: string;
  position: number;
}

export interface SetChatStatusInput {
  chatId: string;
  status: ChatStatus;
  lastError?: ChatError | null;
  pendingToolCalls?: PendingToolCall[];
}

export interface ApplyEditInput extends TurnScoped {
  messageId: number;
  content: ChatMessagePart[];
  modelConfigId: string | null;
}

export interface RecordToolResultsInput extends TurnScoped {
  results: ToolOutcome[];
}

export interface SubmittedToolResultsInput extends TurnScoped {
  results: Array<{ tool_call_id: string; output: unknown; is_error: boolean }>;
  pendingToolCalls: PendingToolCall[];
}

export interface SyntheticResultsInput extends TurnScoped {
  /** The text each tool call without a result gets. */
  text: string;
}

export interface UpdateChatFieldsInput extends UpdateChatInput {
  chatId: string;
}
