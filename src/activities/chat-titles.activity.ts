/**
 * Side calls of a chat: its generated title and its turn status labels. They run as their own
 * activities, started by the chat workflow without waiting (a turn never waits for them) or,
 * for a title regeneration, by an Update. A failure never touches the chat: an automatic title
 * keeps the fallback, a label falls back to the reference's fixed labels.
 *
 * Each call asks for structured output (`generateText` with `Output.object`, `{title}` or
 * `{label}`); a model that answers plain text instead is read as the bare answer. The model
 * is the admin-pinned title model if set, else the chat's own. Usage is stored like a model
 * step's, charged to the API key that started the turn (`chat-titles.ts`, soft-deleted rows).
 * The built-in `echo` model is never asked (it would only repeat the message).
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { generateText, Output } from 'ai';
import { z } from 'zod';
import { CHAT_COMMAND_ERRORS, type ChatCommandErrorKind } from '../domain/chat-command-error.js';
import {
  DEFAULT_FALLBACK_TURN_LABEL,
  FALLBACK_TURN_LABEL,
  fallbackChatTitle,
  normalizeGeneratedTitle,
  normalizeTurnStatusLabel,
  partsText,
  regenerationInput,
  TITLE_GENERATION_PROMPT,
  TITLE_MAX_OUTPUT_TOKENS,
  TURN_LABEL_MAX_OUTPUT_TOKENS,
  TURN_LABEL_PROMPT,
  turnLabelInput,
  type TitleTurn,
  type TurnLabelState,
} from '../domain/chat-title.js';
import { createChatTitles, type ConversationMessage } from '../db/chat-titles.js';
import { type Pool } from '../db/pool.js';
import { type ModelConfigRecord, type ModelResolver } from '../llm/model-registry.js';
import { stepUsage } from '../llm/step-usage.js';

/** How long one side call may take (the reference's 30 s). */
export const SIDE_CALL_TIMEOUT_MS = 30_000;
/** Messages a regeneration reads besides the first user message. */
const REGENERATE_MESSAGE_WINDOW = 50;

export interface TitleActivityDependencies {
  pool: Pool;
  resolveModel: ModelResolver;
  /** False: never ask a model (fallback title kept, fixed labels). Default true. */
  modelCalls?: boolean;
}

export interface GenerateTitleResult {
  title: string | null;
  /** Why nothing was written, when nothing was. */
  skipped?: string;
}

const TitleObject = z.object({ title: z.string() });
const LabelObject = z.object({ label: z.string() });

function refuse(kind: ChatCommandErrorKind): never {
  throw ApplicationFailure.create({ type: kind, message: CHAT_COMMAND_ERRORS[kind].message, nonRetryable: true });
}

/** A regeneration's conversation as turns: each user message with the text the agent answered. */
function toTurns(messages: ConversationMessage[]): TitleTurn[] {
  const turns: TitleTurn[] = [];
  for (const message of messages) {
    const text = partsText(message.content);
    if (message.role === 'user') turns.push({ user: text, assistant: '' });
    else if (turns.length > 0 && text !== '') {
      const last = turns[turns.length - 1]!;
      last.assistant = last.assistant === '' ? text : `${last.assistant}\n${text}`;
    }
  }
  return turns;
}

export function createTitleActivities(dependencies: TitleActivityDependencies) {
  const titles = createChatTitles(dependencies.pool);

  /** The pinned title model, else the chat's; undefined when neither is usable or it is `echo`. */
  const chooseModel = async (ownerId: string, chatModelConfigId: string | null): Promise<ModelConfigRecord | undefined> => {
    const pinned = await titles.getTitleModelConfigId();
    const candidate = (pinned === null ? undefined : await titles.getModelRecord(pinned, ownerId)) ?? (chatModelConfigId === null ? undefined : await titles.getModelRecord(chatModelConfigId, ownerId));
    if (dependencies.modelCalls === false || candidate === undefined || (candidate.endpoint == null && candidate.provider === 'echo')) return undefined;
    return candidate;
  };

  /**
   * One structured call; returns the proposed field (not yet validated). Usage is recorded
   * under `usageKey` whatever the answer. A plain-text answer is taken as the field itself.
   */
  const propose = async (request: {
    chatId: string;
    model: ModelConfigRecord;
    apiKeyId: string;
    usageKey: string;
    system: string;
    prompt: string;
    field: 'title' | 'label';
    maxOutputTokens: number;
    /** The chat's first (script) message, for the built-in script model. */
    scriptSource: string;
  }): Promise<string> => {
    const context = Context.current();
    const schema = (request.field === 'title' ? TitleObject : LabelObject) as z.ZodType<Record<string, string>>;
    const result = await generateText({
      model: dependencies.resolveModel(request.model),
      system: request.system,
      prompt: request.prompt,
      output: Output.object({ schema, name: request.field === 'title' ? 'propose_title' : 'propose_turn_status_label' }),
      maxOutputTokens: request.maxOutputTokens,
      maxRetries: 2,
      abortSignal: AbortSignal.any([context.cancellationSignal, AbortSignal.timeout(SIDE_CALL_TIMEOUT_MS)]),
      providerOptions: { script: { purpose: request.field === 'title' ? 'title' : 'turn-label', source: request.scriptSource } },
    });
    const usage = stepUsage(result.totalUsage, request.model.prices ?? {});
    await titles.recordSideUsage({ chatId: request.chatId, key: request.usageKey, modelConfigId: request.model.id, usage, apiKeyId: request.apiKeyId, text: result.text });
    let structured: unknown;
    try {
      structured = result.output;
    } catch {
      structured = undefined;
    }
    const parsed = schema.safeParse(structured);
    const field = parsed.success ? parsed.data[request.field] : undefined;
    if (field !== undefined) return field;
    return result.text;
  };

  return {
    /**
     * The automatic title after a chat's first turn starts: only while the chat has its fallback
     * title (or none), exactly one user message and no reply from an earlier turn. The title is
     * written only if it is still the one read here (a rename in between wins).
     */
    async generateChatTitle(input: { chatId: string; turn: number }): Promise<GenerateTitleResult> {
      try {
        const source = await titles.getTitleSource(input.chatId, input.turn);
        if (source === undefined || source.firstUserText === null) return { title: null, skipped: 'no user message' };
        const fallback = fallbackChatTitle(source.firstUserText);
        if (source.userMessages !== 1 || source.assistantMessages > 0) return { title: null, skipped: 'not a new chat' };
        if (source.title !== '' && source.title !== fallback) return { title: null, skipped: 'the title was set' };
        if (source.firstUserApiKeyId === null) return { title: null, skipped: 'no API key to charge' };
        const model = await chooseModel(source.ownerId, source.modelConfigId);
        if (model === undefined) return { title: null, skipped: 'no title model' };
        const proposed = await propose({
          chatId: input.chatId,
          model,
          apiKeyId: source.firstUserApiKeyId,
          usageKey: 'title:auto',
          system: TITLE_GENERATION_PROMPT,
          prompt: source.firstUserText,
          field: 'title',
          maxOutputTokens: TITLE_MAX_OUTPUT_TOKENS,
          scriptSource: source.firstUserText,
        });
        const title = normalizeGeneratedTitle(proposed);
        if (title === null) return { title: null, skipped: 'the proposed title was rejected' };
        if (title === source.title) return { title, skipped: 'unchanged' };
        const written = await titles.writeGeneratedTitle({ chatId: input.chatId, title, expected: source.title });
        return written ? { title } : { title: null, skipped: 'the title changed meanwhile' };
      } catch (error) {
        // Never the chat's problem: it keeps its fallback title.
        log.warn('title generation failed', { chatId: input.chatId, error: error instanceof Error ? error.message : String(error) });
        return { title: null, skipped: 'failed' };
      }
    },

    /**
     * `POST /chats/:id/title/regenerate`: a title from the first user turn and the last three,
     * written whatever the current title is. One at a time per chat (a lock row, stale after a
     * minute): a second one is refused with `TitleGenerationInProgress`.
     */
    async regenerateChatTitle(input: { chatId: string; apiKeyId: string | null }): Promise<{ title: string }> {
      if (!(await titles.acquireTitleLock(input.chatId))) refuse('TitleGenerationInProgress');
      try {
        const source = await titles.getTitleSource(input.chatId, 0);
        if (source === undefined) refuse('ChatNotFound');
        const apiKeyId = input.apiKeyId ?? source.firstUserApiKeyId;
        const model = await chooseModel(source.ownerId, source.modelConfigId);
        if (model === undefined || apiKeyId === null) refuse('TitleGenerationUnavailable');
        const turns = toTurns(await titles.loadConversation(input.chatId, REGENERATE_MESSAGE_WINDOW));
        if (turns.length === 0) refuse('TitleGenerationFailed');
        const info = Context.current().info;
        let proposed: string;
        try {
          proposed = await propose({
            chatId: input.chatId,
            model,
            apiKeyId,
            usageKey: `title:regenerate:${info.workflowExecution?.runId ?? ''}:${info.activityId}:${info.attempt}`,
            system: TITLE_GENERATION_PROMPT,
            prompt: regenerationInput(turns),
            field: 'title',
            maxOutputTokens: TITLE_MAX_OUTPUT_TOKENS,
            scriptSource: source.firstUserText ?? '',
          });
        } catch (error) {
          log.warn('title regeneration failed', { chatId: input.chatId, error: error instanceof Error ? error.message : String(error) });
          refuse('TitleGenerationFailed');
        }
        const title = normalizeGeneratedTitle(proposed);
        if (title === null) refuse('TitleGenerationFailed');
        await titles.writeGeneratedTitle({ chatId: input.chatId, title, expected: null });
        return { title };
      } finally {
        await titles.releaseTitleLock(input.chatId);
      }
    },

    /**
     * A 2–5 word status label for `turn`, stored unless a newer turn's label is there already.
     * An invalid or failed answer stores the fallback label for `state`.
     */
    async summarizeTurn(input: { chatId: string; turn: number; state: TurnLabelState; final: boolean }): Promise<string> {
      const fallback = FALLBACK_TURN_LABEL[input.state] ?? DEFAULT_FALLBACK_TURN_LABEL;
      let label = fallback;
      try {
        const source = await titles.getTitleSource(input.chatId, input.turn);
        if (source === undefined) return fallback;
        const apiKeyId = await titles.turnApiKeyId(input.chatId, input.turn);
        const model = apiKeyId === null ? undefined : await chooseModel(source.ownerId, source.modelConfigId);
        if (model !== undefined && apiKeyId !== null) {
          try {
            const proposed = await propose({
              chatId: input.chatId,
              model,
              apiKeyId,
              usageKey: `summary:turn:${input.turn}:${input.state}`,
              system: TURN_LABEL_PROMPT,
              prompt: turnLabelInput(input.state, source.title, await titles.latestAssistantText(input.chatId, input.turn)),
              field: 'label',
              maxOutputTokens: TURN_LABEL_MAX_OUTPUT_TOKENS,
              scriptSource: source.firstUserText ?? '',
            });
            label = normalizeTurnStatusLabel(proposed) ?? fallback;
          } catch (error) {
            log.warn('turn label generation failed', { chatId: input.chatId, turn: input.turn, error: error instanceof Error ? error.message : String(error) });
          }
        }
        await titles.writeTurnSummary({ chatId: input.chatId, turn: input.turn, final: input.final, label });
      } catch (error) {
        log.warn('turn summary failed', { chatId: input.chatId, turn: input.turn, error: error instanceof Error ? error.message : String(error) });
      }
      return label;
    },
  };
}
