/**
 * The chat entity workflow: one per chat (id `chat/<chat id>`), the only writer of the chat's
 * status, queue and messages. Commands arrive as Updates and run one at a time under a mutex;
 * turns run in the main loop inside a cancellation scope. Every turn-scoped database write is
 * fenced by the turn number, so a superseded turn (after an edit or promotion) writes nothing.
 *
 * Invariants:
 * - a `waiting` chat has an empty queue (settling a turn promotes the head in the same step);
 * - `state.turn` only grows; `settledTurn <= turn`; a turn is pending while they differ;
 * - handlers are short: they never wait for a turn to finish.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  type ActivityOptions,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChatActivities } from '../activities/index.js';
import { type StepToolCall, type ToolOutcome } from '../activities/activity-types.js';
import type { TurnStart } from '../activities/turn-start.js';
import { DYNAMIC_TOOL_TIMEOUT_MS, MAX_CHAT_STEPS, MAX_SPECULATIVE_MESSAGE_CHARS, type ChatError, type ChatStatus, type PendingToolCall } from '../domain/chat.js';
import { CHAT_COMMAND_ERRORS } from '../domain/chat-command-error.js';
import { breaksExclusiveRule, exclusiveRuleText } from '../domain/advisor.js';
import { ChatState, refuse } from './chat-state.js';
import { SubAgentFamily } from './sub-agent-family.js';
import { compactIfDue, compactOnRequest } from './compaction.js';
import { MAX_COMPACTIONS_PER_TURN } from '../domain/compaction.js';
import {
  chatViewQuery,
  compactUpdate,
  createChatUpdate,
  familySignal,
  deleteQueuedUpdate,
  editMessageUpdate,
  interruptUpdate,
  promoteQueuedUpdate,
  regenerateTitleUpdate,
  sendMessageUpdate,
  submitToolResultsUpdate,
  updateChatUpdate,
  type ChatWorkflowInput,
  type CreateChatInput,
  type SendMessageResult,
} from './definitions.js';
import { Mutex } from './mutex.js';
import {
  ChatLastActivityAttribute,
  ChatModelAttribute,
  ChatQueueLengthAttribute,
  ChatStatusAttribute,
  ChatTurnAttribute,
} from './search-attributes.js';

const COMMAND_ERROR_TYPES = Object.keys(CHAT_COMMAND_ERRORS);

const STORE_RETRY = { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: COMMAND_ERROR_TYPES };

/**
 * Database writes: quick, idempotent transactions, retried until they succeed, so a queued
 * message is never dropped; after a crash the next worker replays and reruns them safely.
 * They are ordinary activities (dispatched eagerly to this worker where the server allows it).
 * They used to be local activities, which hold the workflow task open while they run; the
 * core SDK (1.24) mishandles a workflow task delivered in that window (several Updates
 * arriving together do it) and loses the resolution it carries, leaving the chat stuck in
 * `running`. Histories recorded before the change replay with local activities.
 */
const STORE_WRITES_AS_ACTIVITIES = 'store-writes-as-activities';
const activityStore = proxyActivities<ChatActivities>({ startToCloseTimeout: '30 seconds', retry: STORE_RETRY });
const localStore = proxyLocalActivities<ChatActivities>({ startToCloseTimeout: '30 seconds', retry: STORE_RETRY });

/** One streamed model call. A short heartbeat timeout lets a replacement worker take over fast. */
const MODEL_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  // An interrupted step persists its partial output before the turn settles.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  heartbeatTimeout: '3 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '60 seconds', maximumAttempts: 25 },
};
const model = proxyActivities<ChatActivities>(MODEL_ACTIVITY_OPTIONS);

/** One tool call; tools heartbeat while they run, up to the execute tool's 4 h ceiling. */
const tools = proxyActivities<ChatActivities>({
  startToCloseTimeout: '245 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Discovery of a fresh workspace's MCP servers; never fails the turn (errors are ignored). */
const mcpPriming = proxyActivities<ChatActivities>({
  startToCloseTimeout: '45 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2 },
});
const PRIME_WORKSPACE_MCP = 'prime-workspace-mcp';
/** A send to an idle chat starts its turn's first step while the message is being written. */
const PARALLEL_FIRST_STEP = 'parallel-first-step';
/** A turn whose first message the store refused keeps its number; runs before the patch reused it. */
const NO_TURN_REUSE = 'no-turn-reuse';
/**
 * Side calls (the generated title, turn status labels): started without waiting, so a turn
 * never waits for them; they never fail (they log and fall back), and continue-as-new waits
 * for them. Each is new in recorded histories, hence the patches.
 */
const sideCalls = proxyActivities<ChatActivities>({ startToCloseTimeout: '2 minutes', retry: { initialInterval: '1 second', maximumAttempts: 2 } });
/**
 * A step that calls an exclusive tool (`advisor`) together with other tools runs none of them:
 * each call gets its error result and the turn goes on. New in recorded histories, hence the patch.
 */
const EXCLUSIVE_TOOLS = 'exclusive-tools';
const GENERATE_TITLE = 'generate-title';
const TURN_SUMMARY = 'turn-summary';
/** A title regeneration asked for by the owner: one attempt, its refusal goes back to the API. */
const titleRegeneration = proxyActivities<ChatActivities>({ startToCloseTimeout: '90 seconds', retry: { maximumAttempts: 1 } });
const WORKSPACE_STARTING_TOOLS: ReadonlySet<string> = new Set(['create_workspace', 'start_workspace']);

export const TOOL_INTERRUPTED_TEXT = 'tool call was interrupted before it produced a result';
export const DYNAMIC_TOOL_INTERRUPTED_TEXT = 'Tool execution interrupted by user';
export const DYNAMIC_TOOL_TIMEOUT_TEXT = 'Dynamic tool execution timed out';

type TurnOutcome =
  | { kind: 'completed' }
  | { kind: 'interrupted' }
  | { kind: 'failed'; error: ChatError }
  /** A command (edit, promote, interrupt in requires_action, timeout) already moved the chat on. */
  | { kind: 'handed-over' };

export async function chatWorkflow(input: ChatWorkflowInput): Promise<void> {
  const { chatId } = input;
  const store = patched(STORE_WRITES_AS_ACTIVITIES) ? activityStore : localStore;
  const state = input.state === undefined ? ChatState.initial() : new ChatState(input.state);
  const family = new SubAgentFamily({ chatId, ownerId: input.ownerId }, state);
  const lock = new Mutex();
  let turnScope: CancellationScope | undefined;
  let activeTurn: number | null = null;
  let toolResultsArrived = false;
  let lastModelConfigId: string | null = null;
  /** A turn whose user message is being written while its first step starts (see sendMessage). */
  let startingTurn: number | null = null;
  /** Its message, when small enough for the first step to call the model while it is written. */
  let startingTurnMessage: TurnStart | undefined;
  /** Side calls started and not yet finished; continue-as-new waits for none. */
  let sideCallsRunning = 0;

  /** Starts a side call without waiting for it, outside any turn's cancellation scope. */
  const startSideCall = (call: () => Promise<unknown>): void => {
    sideCallsRunning++;
    void CancellationScope.nonCancellable(call)
      .catch(() => undefined)
      .finally(() => {
        sideCallsRunning--;
      });
  };

  /** Asks for the status label of `turn` once the chat stands in `state` (not awaited). */
  const isSubAgent = input.parentChatId !== undefined;
  const summarizeTurn = (turn: number, state: 'waiting' | 'pending' | 'requires_action' | 'error', final: boolean): void => {
    // Status labels are for the chats people list; a sub-agent reports to its parent instead.
    if (isSubAgent || !patched(TURN_SUMMARY)) return;
    startSideCall(() => sideCalls.summarizeTurn({ chatId, turn, state, final }));
  };

  const publishVisibility = (): void => {
    upsertSearchAttributes([
      { key: ChatStatusAttribute, value: state.status },
      { key: ChatTurnAttribute, value: state.turn },
      { key: ChatQueueLengthAttribute, value: state.queue.length },
      { key: ChatLastActivityAttribute, value: new Date() },
      ...(lastModelConfigId === null ? [] : [{ key: ChatModelAttribute, value: lastModelConfigId }]),
    ]);
    setCurrentDetails(
      `**Status:** ${state.status}${state.archived ? ' (archived)' : ''}  \n**Turn:** ${state.turn}  \n**Queued:** ${state.queue.length}` +
        (state.pendingToolCalls.length > 0 ? `  \n**Waiting for tool results:** ${state.pendingToolCalls.map((call) => call.tool_name).join(', ')}` : ''),
    );
  };

  const queuedIds = (): number[] => state.queue.map((item) => item.queuedId);

  const setStatus = async (status: ChatStatus, extra: { lastError?: ChatError | null; pendingToolCalls?: PendingToolCall[]; turnInterrupted?: boolean } = {}): Promise<void> => {
    await store.setChatStatus({ chatId, status, turn: state.turn, queuedIds: queuedIds(), ...extra });
    state.status = status;
    if (extra.pendingToolCalls !== undefined) state.pendingToolCalls = extra.pendingToolCalls;
  };

  /** Starts a new turn from the head of the queue. Caller holds the lock. */
  const promoteHead = async (): Promise<void> => {
    const head = state.queue[0];
    if (head === undefined) return;
    const turn = state.turn + 1;
    const promoted = await store.promoteQueuedMessage({ chatId, queuedId: head.queuedId, turn, queuedIds: queuedIds().slice(1) });
    state.removeQueued(head.queuedId);
    state.turn = turn;
    state.status = 'running';
    state.pendingToolCalls = [];
    lastModelConfigId = promoted.modelConfigId;
  };

  /** Ends `requires_action` by answering every pending call with `text`. Caller holds the lock. */
  const answerPendingCalls = async (text: string): Promise<void> => {
    await store.insertSyntheticToolResults({ chatId, turn: state.turn, text });
    state.pendingToolCalls = [];
  };

  /** Stops whatever the chat is doing, and its sub-agents with it. Caller holds the lock. */
  const interrupt = async (options: { refuseWhenIdle: boolean }): Promise<void> => {
    switch (state.status) {
      case 'running':
        await setStatus('interrupting');
        turnScope?.cancel();
        // After the turn is stopped, so a child spawned meanwhile is in the list (or sees
        // `interrupting` when its spawn completes and is stopped there).
        await family.reach('interrupt');
        return;
      case 'interrupting':
        return;
      case 'requires_action':
        await family.reach('interrupt');
        await answerPendingCalls(DYNAMIC_TOOL_INTERRUPTED_TEXT);
        state.settledTurn = state.turn;
        if (!state.archived && state.queue.length > 0) await promoteHead();
        else await setStatus('waiting', { turnInterrupted: true });
        return;
      case 'waiting':
      case 'error':
        if (options.refuseWhenIdle) refuse('NotInterruptible');
        return;
      default:
        return assertNever(state.status);
    }
  };

  const respond = (clientMessageId: string | null, result: SendMessageResult): SendMessageResult => {
    state.remember(clientMessageId, result);
    publishVisibility();
    return result;
  };

  /** Creates the chat and starts its first turn (once). Caller holds the lock. */
  const createChat = async (create: CreateChatInput): Promise<SendMessageResult> => {
    const previous = state.previousResult('$create');
    if (previous !== undefined) return previous;
    const turn = state.turn + 1;
    const created = await store.createChatRecord({ chatId, turn, create });
    state.turn = turn;
    state.status = 'running';
    state.dynamicToolNames = create.dynamicTools.map((tool) => tool.name);
    lastModelConfigId = created.modelConfigId;
    const result = { queued: false, messageId: created.messageId, queuedMessageId: null };
    state.remember(create.clientMessageId, result);
    return respond('$create', result);
  };

  setHandler(createChatUpdate, (create) => lock.run(() => createChat(create)));

  // A sub-agent chat is created by its own workflow, from what its parent's workflow started it
  // with. A refused create ends the workflow (checked before the main loop), never its task.
  const creating =
    input.create === undefined
      ? undefined
      : lock.run(() => createChat(input.create!)).then(
          () => undefined,
          (error: unknown) => error,
        );

  setHandler(familySignal, ({ action }) =>
    lock.run(async () => {
      if (action === 'archive' && !state.archived) {
        await store.updateChatFields({ chatId, archived: true });
        state.archived = true;
      }
      await interrupt({ refuseWhenIdle: false });
      publishVisibility();
    }),
  );

  setHandler(
    sendMessageUpdate,
    (send) =>
      lock.run(async () => {
        const previous = state.previousResult(send.clientMessageId);
        if (previous !== undefined) return previous;
        state.validateSend(send.clientMessageId);
        if (state.isIdle()) {
          const turn = state.turn + 1;
          const insert = () =>
            store.insertUserMessage({
              chatId,
              turn,
              content: send.content,
              modelConfigId: send.modelConfigId,
              apiKeyId: send.apiKeyId ?? null,
              ...(send.planMode === undefined ? {} : { planMode: send.planMode }),
            });
          if (patched(PARALLEL_FIRST_STEP)) {
            // The turn starts now: its first model step is scheduled in the same workflow task
            // as the message's write and waits for it, so the first token does not wait for
            // the send's answer. A refused write rolls the turn back before it did anything.
            const before = { status: state.status, pendingToolCalls: state.pendingToolCalls };
            state.turn = turn;
            state.status = 'running';
            state.pendingToolCalls = [];
            startingTurn = turn;
            startingTurnMessage =
              JSON.stringify(send.content).length <= MAX_SPECULATIVE_MESSAGE_CHARS
                ? { content: send.content, modelConfigId: send.modelConfigId, apiKeyId: send.apiKeyId ?? null, ...(send.planMode === undefined ? {} : { planMode: send.planMode }) }
                : undefined;
            let inserted: Awaited<ReturnType<typeof insert>>;
            try {
              inserted = await insert();
            } catch (error) {
              if (state.turn === turn) {
                // The refused turn is over before it began. Its number is not handed out again
                // (a step of it may still be running until its cancellation lands, and must never
                // pass for the next send's), so later writes of it stay fenced off.
                if (patched(NO_TURN_REUSE)) state.settledTurn = turn;
                else state.turn = turn - 1;
                state.status = before.status;
                state.pendingToolCalls = before.pendingToolCalls;
                if (activeTurn === turn) turnScope?.cancel();
              }
              throw error;
            }
            lastModelConfigId = inserted.modelConfigId;
            return respond(send.clientMessageId, { queued: false, messageId: inserted.messageId, queuedMessageId: null });
          }
          const inserted = await insert();
          state.turn = turn;
          state.status = 'running';
          state.pendingToolCalls = [];
          lastModelConfigId = inserted.modelConfigId;
          return respond(send.clientMessageId, { queued: false, messageId: inserted.messageId, queuedMessageId: null });
        }
        const idempotencyKey = send.clientMessageId === null ? `queue:${uuid4()}` : `client:${send.clientMessageId}`;
        const queued = await store.enqueueMessage({
          chatId,
          content: send.content,
          modelConfigId: send.modelConfigId,
          apiKeyId: send.apiKeyId ?? null,
          ...(send.planMode === undefined ? {} : { planMode: send.planMode }),
          idempotencyKey,
          position: state.queue.length,
          queuedIds: queuedIds(),
        });
        state.queue.push({ queuedId: queued.queuedId });
        // An errored chat with a backlog runs its oldest queued message now (FIFO is kept).
        if (state.status === 'error' || state.status === 'waiting') await promoteHead();
        else if (send.busyBehavior === 'interrupt') await interrupt({ refuseWhenIdle: false });
        return respond(send.clientMessageId, { queued: true, messageId: null, queuedMessageId: queued.queuedId });
      }),
    { validator: (send) => state.validateSend(send.clientMessageId) },
  );

  setHandler(
    editMessageUpdate,
    (edit) =>
      lock.run(async () => {
        const previous = state.previousResult(edit.clientMessageId);
        if (previous !== undefined && previous.messageId !== null) return { messageId: previous.messageId };
        if (state.archived) refuse('EditArchived');
        const turn = state.turn + 1;
        // applyEdit bumps the chat's turn first, which fences every write of the turn it replaces.
        const edited = await store.applyEdit({ chatId, turn, messageId: edit.messageId, content: edit.content, modelConfigId: edit.modelConfigId, apiKeyId: edit.apiKeyId ?? null });
        state.turn = turn;
        state.status = 'running';
        state.queue = [];
        state.pendingToolCalls = [];
        lastModelConfigId = edited.modelConfigId;
        turnScope?.cancel();
        respond(edit.clientMessageId, { queued: false, messageId: edited.messageId, queuedMessageId: null });
        return { messageId: edited.messageId };
      }),
    {
      validator: (_edit) => {
        if (state.archived) refuse('EditArchived');
      },
    },
  );

  setHandler(
    promoteQueuedUpdate,
    ({ queuedId }) =>
      lock.run(async () => {
        if (state.archived) refuse('PromoteArchived');
        if (state.findQueued(queuedId) === undefined) refuse('QueuedMessageNotFound');
        state.moveToHead(queuedId);
        await store.syncQueueOrder({ chatId, queuedIds: queuedIds() });
        switch (state.status) {
          case 'running':
            await interrupt({ refuseWhenIdle: false });
            break;
          case 'interrupting':
            break;
          case 'requires_action':
            await answerPendingCalls(DYNAMIC_TOOL_INTERRUPTED_TEXT);
            state.settledTurn = state.turn;
            await promoteHead();
            break;
          case 'waiting':
          case 'error':
            await promoteHead();
            break;
          default:
            assertNever(state.status);
        }
        publishVisibility();
      }),
    {
      validator: ({ queuedId }) => {
        if (state.archived) refuse('PromoteArchived');
        if (state.findQueued(queuedId) === undefined) refuse('QueuedMessageNotFound');
      },
    },
  );

  setHandler(
    deleteQueuedUpdate,
    ({ queuedId }) =>
      lock.run(async () => {
        if (state.findQueued(queuedId) === undefined) refuse('QueuedMessageNotFound');
        await store.deleteQueuedMessage({ chatId, queuedId });
        state.removeQueued(queuedId);
        await store.syncQueueOrder({ chatId, queuedIds: queuedIds() });
        publishVisibility();
      }),
    {
      validator: ({ queuedId }) => {
        if (state.findQueued(queuedId) === undefined) refuse('QueuedMessageNotFound');
      },
    },
  );

  setHandler(
    interruptUpdate,
    () =>
      lock.run(async () => {
        if (state.archived) refuse('InterruptArchived');
        await interrupt({ refuseWhenIdle: true });
        publishVisibility();
      }),
    {
      validator: () => {
        if (state.archived) refuse('InterruptArchived');
        if (state.status === 'waiting' || state.status === 'error') refuse('NotInterruptible');
      },
    },
  );

  setHandler(
    submitToolResultsUpdate,
    ({ results }) =>
      lock.run(async () => {
        state.validateToolResults(results);
        await store.recordSubmittedToolResults({ chatId, turn: state.turn, results, pendingToolCalls: state.pendingToolCalls });
        state.pendingToolCalls = [];
        state.status = 'running';
        toolResultsArrived = true;
        publishVisibility();
      }),
    { validator: ({ results }) => state.validateToolResults(results) },
  );

  setHandler(updateChatUpdate, (update) =>
    lock.run(async () => {
      await store.updateChatFields({ chatId, ...update });
      if (update.archived === true && !state.archived) {
        state.archived = true;
        // Archiving stops the chat; settling an archived chat's turn promotes nothing.
        await interrupt({ refuseWhenIdle: false });
        await family.reach('archive');
      } else if (update.archived === false && state.archived) {
        state.archived = false;
        // An archived chat kept its backlog; unarchiving restores "waiting means an empty queue".
        if (state.status === 'waiting' && state.queue.length > 0 && !state.hasPendingTurn()) await promoteHead();
      }
      publishVisibility();
    }),
  );

  // Not under the lock: a regeneration changes no workflow state, and may take seconds.
  setHandler(regenerateTitleUpdate, ({ apiKeyId }) => titleRegeneration.regenerateChatTitle({ chatId, apiKeyId }));

  // Under the lock, so a send waits for the summary instead of landing before it and being
  // left out of later prompts. Refused while a turn runs: the turn compacts by itself. A turn
  // that is only settling (its status write in flight) is not busy: the handler waits for it.
  const turnBusy = (): boolean => activeTurn !== null || state.hasPendingTurn() || state.status === 'requires_action';
  setHandler(
    compactUpdate,
    ({ apiKeyId }) =>
      lock.run(async () => {
        if (turnBusy() || (state.status !== 'waiting' && state.status !== 'error')) refuse('CompactionBusy');
        return compactOnRequest(chatId, state.turn, apiKeyId);
      }),
    {
      validator: (_request) => {
        if (turnBusy()) refuse('CompactionBusy');
      },
    },
  );

  setHandler(chatViewQuery, () => ({ ...state.snapshot(), turnActive: activeTurn !== null }));

  /** Runs the calls of one step: built-in tools in parallel, results in call order. */
  const runToolCalls = async (turn: number, calls: StepToolCall[]): Promise<ToolOutcome[]> => {
    const settled = await Promise.allSettled(
      calls.map(async (call): Promise<ToolOutcome | undefined> => {
        switch (call.disposition) {
          case 'builtin':
            return tools.runTool({ chatId, turn, toolCallId: call.toolCallId, toolName: call.toolName, args: call.args });
          case 'inactive':
            return { toolCallId: call.toolCallId, toolName: call.toolName, result: `Tool not active in this turn: ${call.toolName}`, isError: true };
          case 'unknown':
            return { toolCallId: call.toolCallId, toolName: call.toolName, result: `Tool not found: ${call.toolName}`, isError: true };
          case 'spawn':
            return family.spawn(turn, call);
          case 'dynamic':
            return undefined;
          default:
            return assertNever(call.disposition);
        }
      }),
    );
    const outcomes = settled.flatMap((entry) => (entry.status === 'fulfilled' && entry.value !== undefined ? [entry.value] : []));
    const failure = settled.find((entry) => entry.status === 'rejected');
    if (failure !== undefined) {
      // Keep what finished before the interrupt or failure; the rest get synthetic results.
      await CancellationScope.nonCancellable(() => store.recordToolResults({ chatId, turn, results: outcomes }));
      throw failure.reason;
    }
    return outcomes;
  };

  const runTurn = async (turn: number): Promise<TurnOutcome> => {
    let continuedFromSummary = 0;
    for (let step = 1; step <= MAX_CHAT_STEPS; step++) {
      if (state.turn !== turn) return { kind: 'handed-over' };
      if (state.status === 'interrupting') return { kind: 'interrupted' };
      const awaitTurnStart = step === 1 && startingTurn === turn;
      const result = await model.llmStep.executeWithOptions({ ...MODEL_ACTIVITY_OPTIONS, summary: `LLM step ${step} · turn ${turn}` }, [
        { chatId, turn, step, ...(awaitTurnStart ? { awaitTurnStart, ...(startingTurnMessage === undefined ? {} : { turnStart: startingTurnMessage }) } : {}) },
      ]);
      if (!result.accepted) return { kind: 'handed-over' };
      if (result.toolCalls.length === 0) {
        // Summarised after the final step: the model goes on from the summary, a bounded number of times.
        if ((await compactIfDue(chatId, turn, result)) && continuedFromSummary < MAX_COMPACTIONS_PER_TURN) {
          continuedFromSummary++;
          continue;
        }
        return { kind: 'completed' };
      }
      if (breaksExclusiveRule(result.toolCalls) && patched(EXCLUSIVE_TOOLS)) {
        const refused = result.toolCalls.map((call) => ({ toolCallId: call.toolCallId, toolName: call.toolName, result: exclusiveRuleText(call.toolName), isError: true }));
        await store.recordToolResults({ chatId, turn, results: refused });
        continue;
      }
      const outcomes = await runToolCalls(turn, result.toolCalls);
      await store.recordToolResults({ chatId, turn, results: outcomes });
      // A workspace that just came up may still be starting its MCP servers: wait for them
      // (bounded) so the very next step is offered their tools.
      if (outcomes.some((outcome) => !outcome.isError && WORKSPACE_STARTING_TOOLS.has(outcome.toolName)) && patched(PRIME_WORKSPACE_MCP)) {
        await mcpPriming.primeWorkspaceMcp({ chatId }).catch((error: unknown) => {
          if (isCancellation(error)) throw error;
        });
      }
      const dynamicCalls = result.toolCalls.filter((call) => call.disposition === 'dynamic');
      if (dynamicCalls.length > 0) {
        const waiting = await lock.run(async () => {
          if (state.turn !== turn || state.status !== 'running') return false;
          toolResultsArrived = false;
          await setStatus('requires_action', {
            pendingToolCalls: dynamicCalls.map((call) => ({ tool_call_id: call.toolCallId, tool_name: call.toolName, args: call.args })),
          });
          publishVisibility();
          summarizeTurn(turn, 'requires_action', false);
          return true;
        });
        if (!waiting) return { kind: 'handed-over' };
        const answered = await condition(
          () => toolResultsArrived || state.turn !== turn || state.status !== 'requires_action',
          input.dynamicToolTimeoutMs ?? DYNAMIC_TOOL_TIMEOUT_MS,
        );
        if (!answered) {
          await lock.run(async () => {
            if (state.turn !== turn || state.status !== 'requires_action') return;
            await answerPendingCalls(DYNAMIC_TOOL_TIMEOUT_TEXT);
            state.settledTurn = turn;
            await setStatus('error', { lastError: { message: DYNAMIC_TOOL_TIMEOUT_TEXT, kind: 'timeout', retryable: false } });
            publishVisibility();
            summarizeTurn(turn, 'error', true);
          });
          return { kind: 'handed-over' };
        }
        if (state.turn !== turn || state.status !== 'running') return { kind: 'handed-over' };
        continue;
      }
      // After the step's results are recorded, so the summary covers complete calls.
      await compactIfDue(chatId, turn, result);
      const stopped = result.toolCalls.some((call) => call.stopAfter && outcomes.some((outcome) => outcome.toolCallId === call.toolCallId && !outcome.isError));
      if (stopped) return { kind: 'completed' };
    }
    // Reaching the step ceiling ends the turn normally.
    return { kind: 'completed' };
  };

  /** Records a turn's outcome and, when the chat is free, starts the next queued message. */
  const settleTurn = async (turn: number, outcome: TurnOutcome): Promise<void> => {
    if (state.turn !== turn || state.settledTurn >= turn) return;
    state.settledTurn = turn;
    if (outcome.kind === 'handed-over') return;
    if (outcome.kind !== 'completed') await store.insertSyntheticToolResults({ chatId, turn, text: TOOL_INTERRUPTED_TEXT });
    if (outcome.kind === 'failed') {
      await setStatus('error', { lastError: outcome.error, turnInterrupted: false });
      summarizeTurn(turn, 'error', true);
    } else if (!state.archived && state.queue.length > 0) {
      await promoteHead();
      summarizeTurn(turn, 'pending', true);
    } else {
      await setStatus('waiting', { lastError: null, turnInterrupted: outcome.kind === 'interrupted' });
      summarizeTurn(turn, 'waiting', true);
    }
    publishVisibility();
  };

  const continueAsNewRequested = (): boolean =>
    workflowInfo().continueAsNewSuggested ||
    (input.continueAsNewAfterEvents !== undefined && workflowInfo().historyLength > input.continueAsNewAfterEvents);

  const createFailure = await creating;
  if (createFailure !== undefined) {
    throw ApplicationFailure.nonRetryable(`The sub-agent chat could not be created: ${createFailure instanceof Error ? createFailure.message : String(createFailure)}`, 'SubAgentCreateFailed');
  }

  for (;;) {
    await condition(() => (activeTurn === null && state.hasPendingTurn()) || (activeTurn === null && continueAsNewRequested()));
    if (!state.hasPendingTurn()) break;
    const turn = state.turn;
    activeTurn = turn;
    // The chat's first turn: propose a title from its message, alongside the turn.
    if (turn === 1 && !isSubAgent && patched(GENERATE_TITLE)) startSideCall(() => sideCalls.generateChatTitle({ chatId, turn }));
    turnScope = new CancellationScope();
    let outcome: TurnOutcome;
    try {
      outcome = await turnScope.run(() => runTurn(turn));
    } catch (error) {
      outcome = isCancellation(error) ? { kind: state.turn === turn ? 'interrupted' : 'handed-over' } : { kind: 'failed', error: chatErrorFrom(error) };
    }
    activeTurn = null;
    turnScope = undefined;
    await lock.run(() => settleTurn(turn, outcome));
  }

  // Only reached when idle and Temporal suggests a fresh history: carry everything over.
  // Side calls finish first (they only ever run in runs that recorded their patches).
  await condition(() => sideCallsRunning === 0);
  await condition(allHandlersFinished);
  const { create: _created, ...carried } = input;
  await continueAsNew<typeof chatWorkflow>({ ...carried, state: state.snapshot() });
}

/** The structured error an activity attached to its failure, or a generic one. */
function chatErrorFrom(error: unknown): ChatError {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const detail = cause.details?.[0] as Partial<ChatError> | undefined;
    if (detail !== undefined && typeof detail.message === 'string' && typeof detail.kind === 'string') return detail as ChatError;
  }
  const detail = (cause instanceof Error ? cause.message : String(cause)).slice(0, 500);
  return { message: 'The chat request failed unexpectedly.', kind: 'generic', retryable: false, ...(detail === '' ? {} : { detail }) };
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
