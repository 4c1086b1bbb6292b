/**
 * `createActivities(dependencies)`: every activity the chat workflow calls, closed over its
 * dependencies. Workflows import only the type `ChatActivities`.
 */
import { Context } from '@temporalio/activity';
import { createChatReads } from '../db/chat-reads.js';
import { createChatStore } from '../db/chat-store.js';
import { type Pool } from '../db/pool.js';
import { createModelResolver, type KeyOpener, type ModelResolver } from '../llm/model-registry.js';
import { type ChatMcpTools } from '../mcp/chat-mcp-tools.js';
import { ChatEventWaker } from '../db/chat-event-waker.js';
import { createSubAgentReads } from '../db/sub-agents.js';
import { createChatCommands } from '../temporal/chat-client.js';
import { createAdvisorTool } from '../tools/advisor/advisor-tool.js';
import { createAskUserQuestionTool } from '../tools/plan/ask-user-question-tool.js';
import { createSubAgentPreparer } from '../tools/subagents/spawn-agent.js';
import { createSubAgentTools } from '../tools/subagents/sub-agent-tools.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { createTitleActivities } from './chat-titles.activity.js';
import { createCompactionActivity } from './compaction.activity.js';
import { createLlmStepActivity } from './llm-step.activity.js';
import { LocalTurnStarts } from './local-turn-starts.js';
import { StreamWriter, type PartPublisherFactory } from './part-publisher.js';
import { type StreamFence } from '../db/chat-events.js';
import { createRunToolActivity } from './run-tool.activity.js';

export interface ActivityDependencies {
  pool: Pool;
  /** Opens provider API keys sealed by the admin API; without it only keyless providers work. */
  secretBox?: KeyOpener;
  /**
   * Writes streamed message parts (default: a `StreamWriter` on `pool`, in this thread). The
   * worker commands give it a thread and connections of its own (`ThreadedStreamWriter`): a
   * token then never waits behind chat transactions for a connection, nor for a busy main
   * thread to read its write's answer.
   */
  streamWriter?: PartPublisherFactory;
  resolveModel?: ModelResolver;
  /** How long a model may take to send its first chunk (default 60 s); tests shorten it. */
  startupTimeoutMs?: number;
  tools?: ToolRegistry;
  /** The chats' MCP tools (workspace servers through their agents, remote servers). */
  mcp?: ChatMcpTools;
  /**
   * Whether titles and turn labels ask a model (default true). Off, chats keep their fallback
   * title and get the fixed labels; tests that count a provider's requests turn it off.
   */
  modelSideCalls?: boolean;
  /** chatd's system-prompt sections per chat (instruction files, skill index); see src/instructions. */
  promptSections?: (input: { chatId: string }) => Promise<string[]>;
}

export function createActivities(dependencies: ActivityDependencies) {
  const store = createChatStore(dependencies.pool);
  const reads = createChatReads(dependencies.pool);
  const streamWriter = dependencies.streamWriter ?? new StreamWriter(dependencies.pool);
  const resolveModel = dependencies.resolveModel ?? createModelResolver(dependencies.secretBox);
  const createPartPublisher = (chatId: string, fence?: StreamFence) => streamWriter.publisherFor(chatId, fence);
  const localTurnStarts = new LocalTurnStarts();
  // Built-ins come first, so a configured tool of the same name replaces one.
  const advisor = createAdvisorTool({ pool: dependencies.pool, resolveModel, createPartPublisher });
  // Sub-agent tools steer children through their workflows, with the worker's own client.
  const subAgentTools = createSubAgentTools({ db: dependencies.pool, commands: () => createChatCommands({ client: Context.current().client, taskQueue: Context.current().info.taskQueue }) });
  const tools = new ToolRegistry([advisor, createAskUserQuestionTool(), ...subAgentTools, ...(dependencies.tools?.all() ?? [])]);
  return {
    ...createTitleActivities({ pool: dependencies.pool, resolveModel, modelCalls: dependencies.modelSideCalls ?? true }),
    createChatRecord: store.createChat,
    /** Also tells a first step on this worker, the moment it commits, that its turn started. */
    async insertUserMessage(input: Parameters<typeof store.insertUserMessage>[0]): Promise<{ messageId: number; modelConfigId: string }> {
      const write = store.insertUserMessage(input);
      localTurnStarts.track(
        input.chatId,
        input.turn,
        write.then((written) => ({ turnCount: input.turn, modelConfigId: written.modelConfigId, planMode: written.planMode, userMessageWritten: true })),
      );
      const { messageId, modelConfigId } = await write;
      return { messageId, modelConfigId };
    },
    enqueueMessage: store.enqueueMessage,
    promoteQueuedMessage: store.promoteQueuedMessage,
    syncQueueOrder: store.syncQueueOrder,
    deleteQueuedMessage: store.deleteQueuedMessage,
    setChatStatus: store.setChatStatus,
    applyEdit: store.applyEdit,
    recordToolResults: store.recordToolResults,
    insertSyntheticToolResults: store.insertSyntheticToolResults,
    recordSubmittedToolResults: store.recordSubmittedToolResults,
    updateChatFields: store.updateChatFields,
    llmStep: createLlmStepActivity({
      pool: dependencies.pool,
      store,
      reads,
      resolveModel,
      tools,
      ...(dependencies.mcp === undefined ? {} : { mcp: dependencies.mcp }),
      createPartPublisher,
      waker: new ChatEventWaker(dependencies.pool.options.connectionString),
      localTurnStarts,
      ...(dependencies.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: dependencies.startupTimeoutMs }),
      ...(dependencies.promptSections === undefined ? {} : { promptSections: dependencies.promptSections }),
    }),
    /** Checks a `spawn_agent` call and describes the child chat the workflow then starts. */
    prepareSubAgent: createSubAgentPreparer(createSubAgentReads(dependencies.pool)),
    compactChat: createCompactionActivity({ pool: dependencies.pool, reads, resolveModel, createPartPublisher }),
    runTool: createRunToolActivity({ pool: dependencies.pool, tools, ...(dependencies.mcp === undefined ? {} : { mcp: dependencies.mcp }) }),
    /** Waits (up to 30 s) for a just created or started workspace's MCP servers to list tools. */
    async primeWorkspaceMcp(input: { chatId: string }): Promise<number> {
      if (dependencies.mcp === undefined) return 0;
      const context = Context.current();
      return dependencies.mcp.prime(input.chatId, { heartbeat: () => context.heartbeat(), signal: context.cancellationSignal });
    },
  };
}

export type ChatActivities = ReturnType<typeof createActivities>;
