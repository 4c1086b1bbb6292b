/**
 * The chat workflow's in-memory state and its pure rules (queue, dedupe, validation).
 * No Temporal APIs here, so it is unit-testable as plain code.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { MAX_QUEUED_MESSAGES, type ChatStatus, type PendingToolCall } from '../domain/chat.js';
import { CHAT_COMMAND_ERRORS, type ChatCommandErrorKind } from '../domain/chat-command-error.js';
import { type ChatStateSnapshot, type QueuedItem, type SendMessageResult, type ToolResultInput } from './definitions.js';

const MAX_DEDUPE_ENTRIES = 500;

/** Raises a refusal the API maps to its HTTP status; `nonRetryable` so it fails the update at once. */
export function refuse(kind: ChatCommandErrorKind): never {
  throw ApplicationFailure.create({ type: kind, message: CHAT_COMMAND_ERRORS[kind].message, nonRetryable: true });
}

export class ChatState {
  status: ChatStatus;
  archived: boolean;
  turn: number;
  settledTurn: number;
  queue: QueuedItem[];
  pendingToolCalls: PendingToolCall[];
  dynamicToolNames: string[];
  /** Sub-agent chats this chat started: interrupting or archiving it reaches them. */
  children: string[];
  private readonly dedupe: Map<string, SendMessageResult>;

  constructor(snapshot: ChatStateSnapshot) {
    this.status = snapshot.status;
    this.archived = snapshot.archived;
    this.turn = snapshot.turn;
    this.settledTurn = snapshot.settledTurn;
    this.queue = [...snapshot.queue];
    this.pendingToolCalls = [...snapshot.pendingToolCalls];
    this.dynamicToolNames = [...snapshot.dynamicToolNames];
    this.children = [...(snapshot.children ?? [])];
    this.dedupe = new Map(snapshot.dedupe);
  }

  static initial(): ChatState {
    return new ChatState({ status: 'waiting', archived: false, turn: 0, settledTurn: 0, queue: [], pendingToolCalls: [], dedupe: [], dynamicToolNames: [] });
  }

  snapshot(): ChatStateSnapshot {
    return {
      status: this.status,
      archived: this.archived,
      turn: this.turn,
      settledTurn: this.settledTurn,
      queue: [...this.queue],
      pendingToolCalls: [...this.pendingToolCalls],
      dedupe: [...this.dedupe.entries()],
      dynamicToolNames: [...this.dynamicToolNames],
      ...(this.children.length === 0 ? {} : { children: [...this.children] }),
    };
  }

  /** A chat is idle when no turn owns it: a new message runs at once instead of queueing. */
  isIdle(): boolean {
    return (this.status === 'waiting' || this.status === 'error') && this.queue.length === 0;
  }

  /** A turn is owed when the chat was set running for a turn nobody has settled yet. */
  hasPendingTurn(): boolean {
    return (this.status === 'running' || this.status === 'interrupting') && this.settledTurn < this.turn;
  }

  previousResult(clientMessageId: string | null): SendMessageResult | undefined {
    return clientMessageId === null ? undefined : this.dedupe.get(clientMessageId);
  }

  remember(clientMessageId: string | null, result: SendMessageResult): void {
    if (clientMessageId === null) return;
    this.dedupe.set(clientMessageId, result);
    while (this.dedupe.size > MAX_DEDUPE_ENTRIES) {
      const oldest = this.dedupe.keys().next().value;
      if (oldest === undefined) break;
      this.dedupe.delete(oldest);
    }
  }

  validateSend(clientMessageId: string | null): void {
    if (this.previousResult(clientMessageId) !== undefined) return;
    if (this.archived) refuse('ChatArchived');
    if (!this.isIdle() && this.queue.length >= MAX_QUEUED_MESSAGES) refuse('QueueFull');
  }

  findQueued(queuedId: number): QueuedItem | undefined {
    return this.queue.find((item) => item.queuedId === queuedId);
  }

  moveToHead(queuedId: number): void {
    const index = this.queue.findIndex((item) => item.queuedId === queuedId);
    if (index > 0) this.queue.unshift(...this.queue.splice(index, 1));
  }

  removeQueued(queuedId: number): void {
    this.queue = this.queue.filter((item) => item.queuedId !== queuedId);
  }

  /** Checks a tool-results submission against the pending calls, exactly as the API documents. */
  validateToolResults(results: ToolResultInput[]): void {
    if (this.status !== 'requires_action') refuse('ToolResultStatusConflict');
    const seen = new Set<string>();
    for (const result of results) {
      if (seen.has(result.tool_call_id)) refuse('DuplicateToolResult');
      seen.add(result.tool_call_id);
    }
    const pending = new Set(this.pendingToolCalls.map((call) => call.tool_call_id));
    for (const id of seen) if (!pending.has(id)) refuse('UnexpectedToolResult');
    for (const id of pending) if (!seen.has(id)) refuse('MissingToolResult');
  }
}
