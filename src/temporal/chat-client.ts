/**
 * Typed commands to chat workflows, used by the API. Each command is a workflow Update, so the
 * caller gets the workflow's answer (or its refusal) synchronously. Refusals arrive as
 * `ApplicationFailure`s typed with a chat command error kind and become `HttpError`s here.
 */
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { HttpError } from '../api/http-error.js';
import { CHAT_COMMAND_ERRORS, isChatCommandErrorKind } from '../domain/chat-command-error.js';
import { type CompactionResult } from '../domain/compaction.js';
import type { chatWorkflow } from '../workflows/chat.workflow.js';
import {
  CHAT_WORKFLOW_TYPE,
  chatWorkflowId,
  compactUpdate,
  createChatUpdate,
  deleteQueuedUpdate,
  editMessageUpdate,
  interruptUpdate,
  promoteQueuedUpdate,
  regenerateTitleUpdate,
  sendMessageUpdate,
  submitToolResultsUpdate,
  updateChatUpdate,
  type CreateChatInput,
  type EditMessageInput,
  type EditMessageResult,
  type SendMessageInput,
  type SendMessageResult,
  type ToolResultInput,
  type UpdateChatInput,
} from '../workflows/definitions.js';
import { ChatOwnerAttribute } from '../workflows/search-attributes.js';

/** Turns a failed update into the HTTP error it stands for; anything unexpected is rethrown. */
export function httpErrorFromUpdateFailure(error: unknown): never {
  if (error instanceof WorkflowUpdateFailedError) {
    // A refusal raised by an activity arrives wrapped (ActivityFailure → ApplicationFailure).
    for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
      if (cause instanceof ApplicationFailure && isChatCommandErrorKind(cause.type)) {
        const known = CHAT_COMMAND_ERRORS[cause.type];
        throw new HttpError(known.status, known.message, 'detail' in known ? known.detail : undefined);
      }
    }
  }
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    throw new HttpError(503, 'No chat worker answered in time.', 'Nothing was lost: retry the request (with the same client_message_id, if you sent one).');
  }
  if (error instanceof WorkflowNotFoundError) {
    throw new HttpError(503, 'The chat is not running.', 'Its workflow is missing; an operator can restart it from the Temporal UI.');
  }
  throw error;
}

export interface ChatCommandsOptions {
  client: Client;
  taskQueue: string;
}

export function createChatCommands(options: ChatCommandsOptions) {
  const handle = (chatId: string) => options.client.workflow.getHandle<typeof chatWorkflow>(chatWorkflowId(chatId));
  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      httpErrorFromUpdateFailure(error);
    }
  };

  return {
    /** Starts the chat's workflow if needed and creates the chat in it (idempotent). */
    createChat: (chatId: string, input: CreateChatInput): Promise<SendMessageResult> =>
      run(() =>
        options.client.workflow.executeUpdateWithStart(createChatUpdate, {
          args: [input],
          startWorkflowOperation: new WithStartWorkflowOperation<typeof chatWorkflow>(CHAT_WORKFLOW_TYPE, {
            workflowId: chatWorkflowId(chatId),
            taskQueue: options.taskQueue,
            args: [{ chatId, ownerId: input.ownerId }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            typedSearchAttributes: [{ key: ChatOwnerAttribute, value: input.ownerId }],
            staticSummary: `Chat ${chatId}`,
          }),
        }),
      ),
    sendMessage: (chatId: string, input: SendMessageInput): Promise<SendMessageResult> => run(() => handle(chatId).executeUpdate(sendMessageUpdate, { args: [input] })),
    editMessage: (chatId: string, input: EditMessageInput): Promise<EditMessageResult> => run(() => handle(chatId).executeUpdate(editMessageUpdate, { args: [input] })),
    promoteQueued: (chatId: string, queuedId: number): Promise<void> => run(() => handle(chatId).executeUpdate(promoteQueuedUpdate, { args: [{ queuedId }] })),
    deleteQueued: (chatId: string, queuedId: number): Promise<void> => run(() => handle(chatId).executeUpdate(deleteQueuedUpdate, { args: [{ queuedId }] })),
    interrupt: (chatId: string): Promise<void> => run(() => handle(chatId).executeUpdate(interruptUpdate, { args: [] })),
    submitToolResults: (chatId: string, results: ToolResultInput[]): Promise<void> =>
      run(() => handle(chatId).executeUpdate(submitToolResultsUpdate, { args: [{ results }] })),
    updateChat: (chatId: string, input: UpdateChatInput): Promise<void> => run(() => handle(chatId).executeUpdate(updateChatUpdate, { args: [input] })),
    /** Regenerates the title (409 while another regeneration of the chat runs); `apiKeyId` pays. */
    regenerateTitle: (chatId: string, apiKeyId: string | null): Promise<{ title: string }> =>
      run(() => handle(chatId).executeUpdate(regenerateTitleUpdate, { args: [{ apiKeyId }] })),
    /** Summarises the chat now (409 while a turn runs or with nothing new since the last summary); `apiKeyId` pays. */
    compact: (chatId: string, apiKeyId: string | null): Promise<CompactionResult> => run(() => handle(chatId).executeUpdate(compactUpdate, { args: [{ apiKeyId }] })),
  };
}

export type ChatCommands = ReturnType<typeof createChatCommands>;
