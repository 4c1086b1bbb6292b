/**
 * The closed set of reasons a chat command (send, edit, promote, …) is refused. The workflow
 * raises them as `ApplicationFailure`s whose type is the kind; the API maps kinds to HTTP
 * statuses in one table. Workflow-safe.
 */
export const CHAT_COMMAND_ERRORS = {
  QueueFull: { status: 429, message: 'Message queue is full.', detail: 'Maximum 20 messages can be queued.' },
  ChatArchived: { status: 400, message: 'Cannot send messages to an archived chat.' },
  PromoteArchived: { status: 400, message: 'Cannot promote queued messages in an archived chat.' },
  InterruptArchived: { status: 400, message: 'Cannot interrupt an archived chat.' },
  EditArchived: { status: 400, message: 'Cannot edit messages in an archived chat.' },
  QueuedMessageNotFound: { status: 404, message: 'Queued message not found.' },
  MessageNotFound: { status: 404, message: 'Chat message not found.' },
  NotUserMessage: { status: 400, message: 'Only user messages can be edited.' },
  InvalidModelConfig: { status: 400, message: 'Invalid model config ID.' },
  NoDefaultModel: { status: 400, message: 'No default chat model config is configured.' },
  NotInterruptible: { status: 409, message: 'Chat is not in an interruptible state.' },
  ToolResultStatusConflict: { status: 409, message: 'Chat is not waiting for tool results.' },
  DuplicateToolResult: { status: 400, message: 'Duplicate tool_call_id in results.' },
  MissingToolResult: { status: 400, message: 'Missing tool result.' },
  UnexpectedToolResult: { status: 400, message: 'Unexpected tool result.' },
  ChatNotFound: { status: 404, message: 'Chat not found.' },
  TitleGenerationInProgress: { status: 409, message: 'Title generation is already in progress.' },
  TitleGenerationFailed: { status: 502, message: 'Title generation failed.', detail: 'The model gave no usable title; the chat keeps its title.' },
  TitleGenerationUnavailable: { status: 409, message: 'No model is available to generate a title.', detail: 'The chat has no usable model (the built-in echo model cannot write titles) and no title model is set.' },
  NothingToCompact: { status: 409, message: 'Nothing to compact.' },
  CompactionBusy: { status: 409, message: 'Chat is busy; compact it when the current turn has finished.' },
  CompactionFailed: { status: 502, message: 'Compaction failed.', detail: 'The model gave no usable summary; the chat is unchanged.' },
} as const;

export type ChatCommandErrorKind = keyof typeof CHAT_COMMAND_ERRORS;

export function isChatCommandErrorKind(value: unknown): value is ChatCommandErrorKind {
  return typeof value === 'string' && Object.hasOwn(CHAT_COMMAND_ERRORS, value);
}
