/**
 * The `llmStep` activity: one streamed model call of a turn. It reads the prompt from
 * PostgreSQL, streams through the AI SDK (its own retries off: Temporal owns retries),
 * publishes message parts to the chat's event log, heartbeats, and persists the assistant
 * message exactly once (keyed by turn and step). When cancelled (interrupt) it persists the
 * partial output first; when the turn was superseded it writes nothing.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { streamText } from 'ai';
import { z } from 'zod';
import { DynamicTool, type ChatError, type ChatMessagePart, type Usage } from '../domain/chat.js';
import { announceAttempt, appendChatEvents, hasRetryEventForAttempt, type StreamFence } from '../db/chat-events.js';
import { type ChatReads } from '../db/chat-reads.js';
import { type Pool } from '../db/pool.js';
import { type ChatStore } from '../db/chat-store.js';
import { type MessageRow } from '../db/chat-rows.js';
import { classifyModelError, MAX_MODEL_ATTEMPTS, retryDelayMs, StartupTimeoutError, StreamIncompleteError } from '../llm/classify-model-error.js';
import { providerOptionsKey, providerToolsFor, type ModelConfigRecord, type ModelResolver } from '../llm/model-registry.js';
import { attachedFileIds, toModelMessages, turnApiKeyId, type PromptSourceMessage } from '../prompt/to-model-messages.js';
import { isBrokenChainError, planResponseChain } from '../prompt/response-chain.js';
import { createChatFiles } from '../db/chat-files.js';
import { attachmentLimitError } from '../llm/attachment-limits.js';
import { stepUsage } from '../llm/step-usage.js';
import { type ChatMcpTools, type McpToolOffer } from '../mcp/chat-mcp-tools.js';
import { type ToolRegistry } from '../tools/chat-tool.js';
import { ADVISOR_TOOL_NAME } from '../domain/advisor.js';
import { builtinToolAllowed, dynamicToolsAllowed, mcpToolAllowed, mcpToolsPossible } from '../domain/tool-policy.js';
import { chatdSystemPrompt } from '../prompt/system-prompt.js';
import { type LlmStepInput, type LlmStepResult } from './activity-types.js';
import { withCompactionDue } from './compaction-due.js';
import { type PartPublisher } from './part-publisher.js';
import { StepContent } from './step-content.js';
import { buildToolSet, resultFromMessage, type StepTools } from './step-tools.js';
import { confirmSpeculation, gatedPublisher, nextChatEvent, TurnSupersededError, untilTurnStarts } from './turn-start.js';
import { type ChatEventWaker } from '../db/chat-event-waker.js';
import { type LocalTurnStarts } from './local-turn-starts.js';

export interface LlmStepDependencies {
  pool: Pool;
  store: ChatStore;
  reads: ChatReads;
  resolveModel: ModelResolver;
  tools: ToolRegistry;
  /** The chat's MCP tools (workspace and remote servers), discovered before every step. */
  mcp?: ChatMcpTools;
  /** `fence`: the step's attempt; its parts are dropped once a newer attempt is announced. */
  createPartPublisher: (chatId: string, fence?: StreamFence) => PartPublisher;
  /** Wakes a first step when the send's write commits; without it the step polls. */
  waker?: ChatEventWaker;
  /** The sends' writes on this worker, which a first step on the same worker waits on directly. */
  localTurnStarts?: LocalTurnStarts;
  heartbeatIntervalMs?: number;
  /** How long a model may take to send its first chunk before the attempt is retried (default 60 s). */
  startupTimeoutMs?: number;
  /** chatd's system-prompt sections for the chat (instruction files, skill index); never throws. */
  promptSections?: (input: { chatId: string }) => Promise<string[]>;
}

export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

const DynamicTools = z.array(DynamicTool);

/**
 * Whether a step's finish means the provider's stream really ended. The AI SDK clients report a
 * stream that stopped without its terminal event as finish reason `other` with no raw reason.
 */
function isTerminalFinish(finishReason: string, rawFinishReason: string | undefined): boolean {
  return !(finishReason === 'other' && rawFinishReason === undefined);
}

/** The provider id the classifier names in messages: both OpenAI wire formats are "OpenAI". */
function classifierProvider(config: { provider: string; endpoint?: { kind: string } | null }): string {
  const kind = config.endpoint?.kind;
  if (kind === undefined) return config.provider;
  return kind === 'openai-chat' ? 'openai' : kind;
}

/**
 * The config's provider options under the key its AI SDK client reads, plus the attempt number
 * for the built-in script model (it fails scripted attempts).
 */
function providerOptionsFor(config: ModelConfigRecord, attempt: number, previousResponseId?: string): Record<string, Record<string, never>> {
  const key = providerOptionsKey(config);
  const options: Record<string, Record<string, unknown>> = { [key]: { ...(config.provider_options ?? {}), ...(previousResponseId === undefined ? {} : { previousResponseId }) } };
  options.script = { ...options.script, attempt };
  return options as Record<string, Record<string, never>>;
}

/** The provider's id of the response a step came from (OpenAI Responses reports one). */
function responseIdOf(metadata: Record<string, Record<string, unknown>> | undefined): string | null {
  const id = metadata?.openai?.responseId;
  return typeof id === 'string' ? id : null;
}

/** Stream parts that count as the model's first chunk (the SDK's own start parts do not). */
const FIRST_CHUNK_PARTS: ReadonlySet<string> = new Set(['text-start', 'text-delta', 'reasoning-start', 'reasoning-delta', 'tool-input-start', 'tool-call', 'finish-step', 'error']);

/**
 * The chat's MCP tools for this step, named around chatd's built-ins. A server that cannot be
 * listed simply has no tools this step; remote servers that failed are reported on the chat
 * once per turn (at its first step) as `warning` events.
 */
async function discoverMcpTools(dependencies: LlmStepDependencies, input: LlmStepInput, builtinNames: ReadonlySet<string>, planMode: boolean | undefined): Promise<McpToolOffer[]> {
  if (dependencies.mcp === undefined) return [];
  const discovery = await dependencies.mcp.discover(input.chatId, builtinNames, planMode === undefined ? {} : { planMode });
  if (input.step === 1 && discovery.warnings.length > 0) {
    await appendChatEvents(
      dependencies.pool,
      input.chatId,
      discovery.warnings.map((warning) => ({ type: 'warning', payload: { source: 'mcp', server: warning.server, message: warning.message } })),
    );
  }
  return discovery.tools;
}

function failure(error: ChatError, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: error.kind,
    message: error.message,
    nonRetryable: !error.retryable,
    details: [error],
    ...(cause instanceof Error ? { cause } : {}),
  });
}


/**
 * Announces attempt `retry.attempt` of a step: subscribers drop the earlier attempts' parts, and
 * the stream fence refuses any part an earlier attempt still sends (a stalled worker's).
 */
async function publishRetry(
  pool: Pool,
  chatId: string,
  step: { turn: number; step: number },
  retry: { attempt: number; delayMs: number; error: string; kind: ChatError['kind']; provider?: string; statusCode?: number },
): Promise<void> {
  const event = {
    type: 'retry',
    payload: {
      attempt: retry.attempt,
      delay_ms: retry.delayMs,
      error: retry.error,
      kind: retry.kind,
      ...(retry.provider === undefined ? {} : { provider: retry.provider }),
      ...(retry.statusCode === undefined ? {} : { status_code: retry.statusCode }),
      retrying_at: new Date(Date.now() + retry.delayMs).toISOString(),
    },
  };
  await announceAttempt(pool, chatId, { ...step, attempt: retry.attempt }, [event]);
}

/**
 * First steps calling the model while their message is written, at most this many at once per
 * worker. Under a burst of sends their reads would compete with the very writes they wait for;
 * past the cap a first step waits for its write and then reads (the waiting is cheap: a NOTIFY).
 */
const MAX_CONCURRENT_SPECULATION = 1;

export function createLlmStepActivity(dependencies: LlmStepDependencies) {
  let speculating = 0;
  const runStep = createStepRunner(dependencies);
  return async function llmStep(input: LlmStepInput): Promise<LlmStepResult> {
    const context = Context.current();
    // Heartbeats from the very start: under a burst of sends the reads before the model call
    // can take longer than the heartbeat timeout, which would end a healthy attempt.
    const heartbeat = setInterval(() => context.heartbeat({ step: input.step }), dependencies.heartbeatIntervalMs ?? 500);
    // Retries read the written turn; so does a first step past the cap.
    const speculate = input.turnStart !== undefined && context.info.attempt === 1 && speculating < MAX_CONCURRENT_SPECULATION;
    if (speculate) speculating++;
    try {
      return await runStep(input, speculate);
    } finally {
      clearInterval(heartbeat);
      if (speculate) speculating--;
    }
  };
}

function createStepRunner(dependencies: LlmStepDependencies) {
  return async function runStep(input: LlmStepInput, speculate: boolean): Promise<LlmStepResult> {
    const context = Context.current();
    // Independent reads in parallel: time to first token is what users feel.
    const builtinNames = new Set(dependencies.tools.all().map((builtin) => builtin.name));
    // A send's first step may run before its turn's plan mode is written: it lists by the send's.
    const discoveringMcp = discoverMcpTools(dependencies, input, builtinNames, speculate ? input.turnStart?.planMode : undefined).catch((): McpToolOffer[] => []);
    const readingSections = dependencies.promptSections?.({ chatId: input.chatId }).catch((): string[] => []) ?? Promise.resolve([]);
    // Tools offered only to some chats (the advisor) are checked alongside the reads; a check
    // that fails leaves that tool out of this step.
    const offeredBuiltins = Promise.all(
      dependencies.tools.all().map(async (builtin) => (builtin.offered === undefined || (await builtin.offered(input.chatId).catch(() => false)) ? [builtin] : [])),
    ).then((lists) => lists.flat());
    // A send's first step calls the model while the send's message is written (see turn-start.ts);
    // its retries read the written turn instead.
    const turnStart = speculate ? input.turnStart : undefined;
    // The send's write on this worker says when it committed; otherwise the database does.
    const readStartedTurn = () => dependencies.reads.getStartedTurn(input.chatId, input.turn);
    const readTurn = () => dependencies.localTurnStarts?.find(input.chatId, input.turn)?.then((started) => started ?? readStartedTurn()) ?? readStartedTurn();
    const nextChange = dependencies.waker === undefined ? undefined : nextChatEvent(dependencies.waker, input.chatId);
    const heartbeatNow = () => context.heartbeat({ step: input.step });
    const readStep = () =>
      Promise.all([
        dependencies.reads.getTurnContext(input.chatId, turnStart === undefined ? {} : { speculativeModelConfigId: turnStart.modelConfigId }),
        // A speculative step is its activity's first attempt at a turn that had not started:
        // no attempt can have stored the step yet, so it skips the read.
        turnStart === undefined ? dependencies.store.findAssistantStep(input) : Promise.resolve(undefined),
        turnStart === undefined
          ? dependencies.reads.loadPromptMessages(input.chatId)
          : dependencies.reads
              .loadPromptMessages(input.chatId, { beforeTurn: input.turn })
              .then((before): PromptSourceMessage[] => [...before, { role: 'user', content: turnStart.content, apiKeyId: turnStart.apiKeyId }]),
      ]);
    // Reads in parallel are not one snapshot: a waiting step reads everything after the message's
    // commit, or the prompt could miss the message that started the turn.
    if (turnStart === undefined && (input.awaitTurnStart === true || input.turnStart !== undefined)) {
      await untilTurnStarts(input.turn, readTurn, heartbeatNow, context.cancellationSignal, nextChange);
    }
    const [chat, finished, history] = await readStep();
    const superseded = turnStart === undefined ? chat?.turnCount !== input.turn : chat === undefined || chat.turnCount > input.turn;
    if (chat === undefined || superseded) return { accepted: false, messageId: null, toolCalls: [], finishReason: 'superseded' };
    const role = turnStart?.planMode === undefined ? chat.role : { ...chat.role, planMode: turnStart.planMode };
    // The gating matrix: plan mode and read-only sub-agents get fewer tools.
    const dynamicTools = dynamicToolsAllowed(role) ? DynamicTools.parse(chat.dynamicTools) : [];
    // Discovery lists by role already; checked again against the turn's role, which is the
    // authority (a step that read the chat before its turn was written may list by another).
    const mcp = mcpToolsPossible(role) ? (await discoveringMcp).filter((offer) => mcpToolAllowed(offer.route, role)) : [];
    const mcpNames = new Set(mcp.map((offer) => offer.name));
    const dynamicNames = new Set(dynamicTools.map((entry) => entry.name).filter((name) => !builtinNames.has(name) && !mcpNames.has(name)));
    const stepTools: StepTools = { tools: dependencies.tools, role, dynamicNames, mcpNames };
    // An earlier attempt may have finished the step before its worker died: never call the model twice.
    if (finished !== undefined) return withCompactionDue(resultFromMessage(finished, stepTools), finished.usage, chat);
    const modelConfig = chat.modelConfig;
    if (modelConfig === undefined) throw failure({ message: 'The chat has no usable model configuration.', kind: 'config', retryable: false });
    // Every model call is attributed to the key that started the turn; without one, none is made.
    const apiKeyId = turnApiKeyId(history);
    if (apiKeyId === null) throw failure({ message: 'This turn has no API key to attribute its model calls to.', kind: 'config', retryable: false, detail: 'The message that started it was not sent with a known API key (or the key was deleted).' });
    const classify = (error: unknown) =>
      classifyModelError(error, { provider: classifierProvider(modelConfig), ...(modelConfig.endpoint == null ? {} : { providerName: modelConfig.endpoint.name }) });
    let model;
    try {
      model = dependencies.resolveModel(modelConfig);
    } catch (error) {
      // A disabled provider or a missing key: retrying cannot help.
      throw failure({ ...classify(error).error, retryable: false }, error);
    }

    // Attachments: loaded for the prompt, and checked against the provider's limits first.
    const files = await createChatFiles(dependencies.pool).contents(attachedFileIds(history));
    const tooLarge = attachmentLimitError(modelConfig.endpoint?.kind, files, history);
    if (tooLarge !== undefined) throw failure(tooLarge);

    const activeBuiltins = (await offeredBuiltins).filter((builtin) => builtinToolAllowed(builtin.name, role));
    const toolSet = buildToolSet({ builtins: activeBuiltins, mcp, providerTools: providerToolsFor(modelConfig), dynamicTools });

    // A speculative step shows nothing until its turn has started as it assumed.
    let turnConfirmed: Promise<void> | undefined;
    const confirmTurn = (): Promise<void> =>
      (turnConfirmed ??= untilTurnStarts(input.turn, readTurn, heartbeatNow, context.cancellationSignal, nextChange).then((started) =>
        confirmSpeculation(started, input.turn, { modelConfigId: modelConfig.id, planMode: role.planMode }),
      ));
    const fence: StreamFence = { turn: input.turn, step: input.step, attempt: context.info.attempt };
    const publisher = turnStart === undefined ? dependencies.createPartPublisher(input.chatId, fence) : gatedPublisher(dependencies.createPartPublisher(input.chatId, fence), confirmTurn);
    const content = new StepContent();
    let usage: Usage | null = null;
    let finishReason = 'stop';
    const attempt = context.info.attempt;
    const toolNames = new Map<string, string>();
    // A previous attempt died without announcing this one (a worker crash): withdraw its parts.
    if (attempt > 1 && !(await hasRetryEventForAttempt(dependencies.pool, input.chatId, attempt))) {
      await publishRetry(dependencies.pool, input.chatId, input, { attempt, delayMs: 0, error: 'The previous attempt stopped before it finished.', kind: 'timeout' });
    }

    const sections = await readingSections;
    const prices = modelConfig.prices ?? {};
    let providerResponseId: string | null = null;
    const persist = async (parts: ChatMessagePart[]): Promise<MessageRow | undefined> =>
      dependencies.store.insertAssistantStep({ chatId: input.chatId, turn: input.turn, step: input.step, content: parts, modelConfigId: modelConfig.id, usage, apiKeyId, providerResponseId });

    // OpenAI Responses: name the previous response instead of resending history, when safe.
    let chain = modelConfig.endpoint?.kind === 'openai' && modelConfig.provider_options?.store !== false ? planResponseChain(history, modelConfig.id) : undefined;
    let published = false;

    // No first chunk within the startup window: abort this attempt and retry it.
    const startupTimeoutMs = dependencies.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    const startup = new AbortController();
    const startupTimer = setTimeout(() => startup.abort(new StartupTimeoutError(`The model sent nothing for ${Math.round(startupTimeoutMs / 1000)} s.`)), startupTimeoutMs);
    let terminated = false;
    const openStream = () =>
      streamText({
        model,
        // chatd's prompt first (role, overlays, instruction files, skills), then the stored history.
        system: chatdSystemPrompt({ role, advisor: activeBuiltins.some((builtin) => builtin.name === ADVISOR_TOOL_NAME), sections }),
        messages: toModelMessages(chain?.messages ?? history, files),
        tools: toolSet,
        maxRetries: 0,
        maxOutputTokens: modelConfig.max_output_tokens,
        abortSignal: AbortSignal.any([context.cancellationSignal, startup.signal]),
        providerOptions: providerOptionsFor(modelConfig, attempt, chain?.previousResponseId),
      });
    try {
      for (;;) {
        try {
          await consume(openStream());
          break;
        } catch (error) {
          // The provider no longer has the previous response: send full history instead, once.
          if (chain === undefined || published || !isBrokenChainError(error)) throw error;
          chain = undefined;
        }
      }
      await publisher.flush();
      if (context.cancellationSignal.aborted) throw new CancelledFailure('interrupted');
      if (startup.signal.aborted) throw startup.signal.reason;
      if (!terminated) throw new StreamIncompleteError('The model stream ended before it finished.');
      const row = await persist(content.complete());
      if (row === undefined) return { accepted: false, messageId: null, toolCalls: [], finishReason: 'superseded' };
      return withCompactionDue({ ...resultFromMessage(row, stepTools), finishReason }, usage, chat);
    } catch (error) {
      await publisher.flush().catch(() => undefined);
      if (context.cancellationSignal.aborted) {
        // Interrupted by the workflow: keep what the user already saw (the write is fenced, so an
        // edit wins). Cancelled for any other reason (the attempt timed out, the worker is
        // shutting down), the attempt is over and its retry redoes the step: its partial output
        // stored under the step's key would pass for the finished step.
        const partial = content.partial();
        if (context.cancellationDetails?.cancelRequested === true && partial.length > 0) await persist(partial);
        throw new CancelledFailure('interrupted');
      }
      // A speculative step whose turn never started as assumed reports that, not its model's error.
      const unconfirmed = turnStart === undefined ? undefined : await confirmTurn().then(() => undefined, (reason: unknown) => reason);
      if (unconfirmed instanceof TurnSupersededError) return { accepted: false, messageId: null, toolCalls: [], finishReason: 'superseded' };
      if (unconfirmed !== undefined) throw unconfirmed;
      if (error instanceof ApplicationFailure) throw error;
      const cause = startup.signal.aborted ? startup.signal.reason : error;
      const { error: chatError, retryAfterMs } = classify(cause);
      if (chatError.retryable && attempt < MAX_MODEL_ATTEMPTS) {
        // Announce the retry before backing off, so subscribers drop this attempt's parts and
        // a client joining during the backoff sees it.
        const delayMs = retryDelayMs(attempt, retryAfterMs);
        await publishRetry(dependencies.pool, input.chatId, input, {
          attempt: attempt + 1,
          delayMs,
          error: chatError.message,
          kind: chatError.kind,
          ...(chatError.provider === undefined ? {} : { provider: chatError.provider }),
          ...(chatError.status_code === undefined ? {} : { statusCode: chatError.status_code }),
        });
        throw ApplicationFailure.create({ type: chatError.kind, message: chatError.message, details: [chatError], nextRetryDelay: delayMs, ...(cause instanceof Error ? { cause } : {}) });
      }
      throw failure({ ...chatError, retryable: false }, cause);
    } finally {
      clearTimeout(startupTimer);
    }

    /** Reads one model stream into the step's content, publishing parts as they arrive. */
    async function consume(result: ReturnType<typeof openStream>): Promise<void> {
      for await (const part of result.fullStream) {
        if (FIRST_CHUNK_PARTS.has(part.type)) clearTimeout(startupTimer);
        switch (part.type) {
          case 'text-delta':
            published = true;
            content.appendText('text', part.text);
            publisher.publish({ role: 'assistant', part: { type: 'text', text: part.text } });
            break;
          case 'reasoning-delta':
            published = true;
            content.appendText('reasoning', part.text);
            publisher.publish({ role: 'assistant', part: { type: 'reasoning', text: part.text } });
            break;
          case 'tool-input-start':
            content.startToolInput(part.id, part.toolName, part.providerExecuted === true);
            toolNames.set(part.id, part.toolName);
            break;
          case 'tool-input-delta':
            published = true;
            content.appendToolInput(part.id, part.delta);
            publisher.publish({ role: 'assistant', part: { type: 'tool-call', tool_call_id: part.id, tool_name: toolNames.get(part.id) ?? '', args_delta: part.delta } });
            break;
          case 'tool-call':
            content.addToolCall(part.toolCallId, part.toolName, part.input, part.providerExecuted === true);
            break;
          case 'source':
            // Pages a provider-executed search cited (Anthropic reports them as sources).
            if (part.sourceType === 'url') content.parts.push({ type: 'source', url: part.url, ...(part.title === undefined ? {} : { title: part.title }) });
            break;
          case 'tool-result':
            // Only provider-executed tools have results inside a step; chatd runs the others.
            if (part.providerExecuted === true) content.addProviderToolResult(part.toolCallId, part.toolName, part.output);
            break;
          case 'finish-step':
            finishReason = part.finishReason;
            usage = stepUsage(part.usage, prices);
            terminated = isTerminalFinish(part.finishReason, part.rawFinishReason);
            providerResponseId = responseIdOf(part.providerMetadata);
            break;
          case 'error':
            throw part.error;
          case 'abort':
            if (startup.signal.aborted && !context.cancellationSignal.aborted) throw startup.signal.reason;
            throw new CancelledFailure('model stream aborted');
          default:
            break;
        }
        if (context.cancellationSignal.aborted) break;
      }
    }
  };
}
