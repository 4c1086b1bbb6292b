/**
 * A chat's sub-agents as its workflow sees them: each is a child workflow (a chat workflow
 * started with the chat to create), which outlives the parent's run and turn; the parent keeps
 * their ids in its state and reaches them by the `family` signal. Sandbox-pure.
 */
import { ChildWorkflowCancellationType, ParentClosePolicy, getExternalWorkflowHandle, proxyActivities, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ChatActivities } from '../activities/index.js';
import { type StepToolCall, type ToolOutcome } from '../activities/activity-types.js';
import type { chatWorkflow } from './chat.workflow.js';
import { type ChatState } from './chat-state.js';
import { CHAT_WORKFLOW_TYPE, chatWorkflowId, familySignal } from './definitions.js';
import { ChatOwnerAttribute } from './search-attributes.js';

/** At most this many sub-agent ids are kept to reach by signal; the oldest are forgotten first. */
const MAX_REMEMBERED_CHILDREN = 200;

/** The check of a `spawn_agent` call: a quick read, retried until it answers. */
const preparation = proxyActivities<ChatActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

export class SubAgentFamily {
  constructor(
    private readonly parent: { chatId: string; ownerId: string },
    private readonly state: ChatState,
  ) {}

  /**
   * Runs a `spawn_agent` call: the check (a refusal is the call's error result), then the child
   * workflow, which creates the child chat itself, so every chat keeps one writer.
   */
  async spawn(turn: number, call: StepToolCall): Promise<ToolOutcome> {
    const { chatId, ownerId } = this.parent;
    const prepared = await preparation.prepareSubAgent({ chatId, turn, toolCallId: call.toolCallId, args: call.args });
    if (prepared.kind === 'refused') return { toolCallId: call.toolCallId, toolName: call.toolName, result: prepared.result, isError: true };
    const children = this.state.children;
    if (!children.includes(prepared.childChatId)) {
      try {
        await startChild<typeof chatWorkflow>(CHAT_WORKFLOW_TYPE, {
          workflowId: chatWorkflowId(prepared.childChatId),
          args: [{ chatId: prepared.childChatId, ownerId, create: prepared.create, parentChatId: chatId }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          cancellationType: ChildWorkflowCancellationType.ABANDON,
          typedSearchAttributes: [{ key: ChatOwnerAttribute, value: ownerId }],
          staticSummary: `Sub-agent chat ${prepared.childChatId} of ${chatId}`,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      children.push(prepared.childChatId);
      if (children.length > MAX_REMEMBERED_CHILDREN) children.splice(0, children.length - MAX_REMEMBERED_CHILDREN);
      // The parent was interrupted while this child started: the child stops too.
      if (this.state.status === 'interrupting') await signal(prepared.childChatId, 'interrupt');
    }
    return { toolCallId: call.toolCallId, toolName: call.toolName, result: prepared.result, isError: false };
  }

  /** Tells every sub-agent this chat started to stop (or to archive itself); never fails. */
  async reach(action: 'interrupt' | 'archive'): Promise<void> {
    await Promise.all(this.state.children.map((child) => signal(child, action)));
  }
}

function signal(childChatId: string, action: 'interrupt' | 'archive'): Promise<void> {
  return getExternalWorkflowHandle(chatWorkflowId(childChatId))
    .signal(familySignal, { action })
    .catch(() => undefined);
}
