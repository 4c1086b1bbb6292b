/**
 * The `compactChat` activity: summarises a chat whose context grew close to its model's limit
 * (or whose owner asked for it), with one tool-less model call, and stores the summary so later
 * prompts start from it (`chat-compactions.ts`). Before the call it publishes a provisional
 * `chat_summarized` tool-call part, so clients can show "Summarizing…" while it runs.
 *
 * Automatic compactions never fail the turn: a failed or empty summary publishes an error
 * result part for the provisional call and reports `compacted: false`. A manual compaction
 * reports the same as a refusal the API maps to HTTP (409 nothing to compact, 502 failed).
 * The model call is retried like the side calls' (the AI SDK's own retries, then the
 * activity's); its usage is charged like theirs, as a soft-deleted row keyed by the compaction.
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { streamText } from 'ai';
import { CHAT_COMMAND_ERRORS, type ChatCommandErrorKind } from '../domain/chat-command-error.js';
import {
  CHAT_SUMMARIZED_TOOL,
  COMPACTION_MAX_OUTPUT_TOKENS,
  COMPACTION_PROMPT,
  COMPACTION_TIMEOUT_MS,
  compactionCheck,
  type CompactionResult,
  type CompactionSource,
} from '../domain/compaction.js';
import { createChatCompactions, summarizedToolCallId } from '../db/chat-compactions.js';
import { type ChatReads } from '../db/chat-reads.js';
import { createChatTitles } from '../db/chat-titles.js';
import { type Pool } from '../db/pool.js';
import { type ModelResolver } from '../llm/model-registry.js';
import { stepUsage } from '../llm/step-usage.js';
import { summaryTranscript } from '../prompt/summary-transcript.js';
import { turnApiKeyId } from '../prompt/to-model-messages.js';
import { type PartPublisher } from './part-publisher.js';

export interface CompactionActivityDependencies {
  pool: Pool;
  reads: ChatReads;
  resolveModel: ModelResolver;
  createPartPublisher: (chatId: string) => PartPublisher;
}

export interface CompactChatInput {
  chatId: string;
  /** The turn the compaction belongs to; the write is fenced by it. */
  turn: number;
  /** Chosen by the workflow (`uuid4()`), so a retried activity finds what it stored. */
  compactionId: string;
  source: CompactionSource;
  /** Who pays for a manual compaction; automatic ones charge the turn's key. */
  apiKeyId?: string | null;
}

export interface CompactChatOutcome {
  compacted: boolean;
  /** Why nothing was stored, when nothing was. */
  skipped?: 'nothing-to-compact' | 'superseded' | 'failed' | 'empty-summary';
  result?: CompactionResult;
}

const SUMMARY_REQUEST = 'Summarise the conversation above for the agent that will continue it.';

function refuse(kind: ChatCommandErrorKind): never {
  throw ApplicationFailure.create({ type: kind, message: CHAT_COMMAND_ERRORS[kind].message, nonRetryable: true });
}

export function createCompactionActivity(dependencies: CompactionActivityDependencies) {
  const compactions = createChatCompactions(dependencies.pool);
  const titles = createChatTitles(dependencies.pool);

  return async function compactChat(input: CompactChatInput): Promise<CompactChatOutcome> {
    const manual = input.source === 'manual';
    const already = await compactions.findCompaction(input.chatId, input.turn, input.compactionId);
    if (already !== undefined) return { compacted: true, result: already };
    const [chat, history, state] = await Promise.all([
      dependencies.reads.getTurnContext(input.chatId),
      dependencies.reads.loadPromptMessages(input.chatId),
      compactions.compactionState(input.chatId),
    ]);
    if (chat === undefined || chat.turnCount !== input.turn) return { compacted: false, skipped: 'superseded' };
    if (state.messagesSinceSummary === 0) {
      if (manual) refuse('NothingToCompact');
      return { compacted: false, skipped: 'nothing-to-compact' };
    }
    const modelConfig = chat.modelConfig;
    const apiKeyId = input.apiKeyId ?? turnApiKeyId(history);
    if (modelConfig === undefined || apiKeyId === null) {
      if (manual) refuse('CompactionFailed');
      return { compacted: false, skipped: 'failed' };
    }
    const check = compactionCheck(state.lastStepUsage, modelConfig.context_limit, chat.compactionThresholdPercent);
    const toolCallId = summarizedToolCallId(input.compactionId);
    const publisher = dependencies.createPartPublisher(input.chatId);
    const args = { source: input.source, threshold_percent: check.thresholdPercent };
    publisher.publish({ role: 'assistant', part: { type: 'tool-call', tool_call_id: toolCallId, tool_name: CHAT_SUMMARIZED_TOOL, args_delta: JSON.stringify(args), status_text: 'Summarizing…' } });

    /** Withdraws the provisional call with an error result; the chat goes on unsummarised. */
    const giveUp = async (skipped: 'failed' | 'empty-summary', text: string): Promise<CompactChatOutcome> => {
      publisher.publish({ role: 'tool', part: { type: 'tool-result', tool_call_id: toolCallId, tool_name: CHAT_SUMMARIZED_TOOL, result: text, is_error: true } });
      await publisher.flush().catch(() => undefined);
      if (manual) refuse('CompactionFailed');
      return { compacted: false, skipped };
    };

    let summary = '';
    try {
      // Streamed and read whole: the same wire path as a model step, and a dropped stream is an error.
      const response = streamText({
        model: dependencies.resolveModel(modelConfig),
        system: COMPACTION_PROMPT,
        prompt: `${summaryTranscript(history)}\n\n---\n\n${SUMMARY_REQUEST}`,
        toolChoice: 'none',
        maxOutputTokens: Math.min(COMPACTION_MAX_OUTPUT_TOKENS, modelConfig.max_output_tokens),
        maxRetries: 2,
        abortSignal: AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(COMPACTION_TIMEOUT_MS)]),
        providerOptions: { script: { purpose: 'compaction', source: state.lastUserText } },
      });
      for await (const part of response.fullStream) {
        if (part.type === 'text-delta') summary += part.text;
        else if (part.type === 'error') throw part.error;
        else if (part.type === 'abort') throw new Error('The summary call was aborted.');
      }
      await titles.recordSideUsage({
        chatId: input.chatId,
        key: `compaction:${input.compactionId}`,
        modelConfigId: modelConfig.id,
        usage: stepUsage(await response.totalUsage, modelConfig.prices ?? {}),
        apiKeyId,
        text: summary,
      });
      summary = summary.trim();
    } catch (error) {
      if (Context.current().cancellationSignal.aborted) throw error;
      log.warn('compaction failed', { chatId: input.chatId, error: error instanceof Error ? error.message : String(error) });
      return giveUp('failed', 'Summarizing the conversation failed; it continues unsummarized.');
    }
    if (summary === '') return giveUp('empty-summary', 'The model returned an empty summary; the conversation continues unsummarized.');

    const result: CompactionResult = {
      summary,
      source: input.source,
      threshold_percent: check.thresholdPercent,
      usage_percent: check.usagePercent,
      context_tokens: check.contextTokens,
      context_limit_tokens: check.contextLimitTokens,
    };
    await publisher.flush().catch(() => undefined);
    const stored = await compactions.storeCompaction({ chatId: input.chatId, turn: input.turn, compactionId: input.compactionId, result, apiKeyId });
    return stored ? { compacted: true, result } : { compacted: false, skipped: 'superseded' };
  };
}
