/**
 * The built-in `advisor` tool: a nested, tool-less model call that gives the agent a second
 * opinion. Offered only when the admin enabled it and the chat is a root chat (one decision,
 * `advisorEligible`, with the tool policy keeping it from plan mode); chatd's system prompt
 * carries its guidance exactly when a step offers it.
 *
 * One step, no tools, at most `max_output_tokens`; the model is the admin's advisor model or
 * else the chat's. Its usage is stored like a title call's, charged to the key that started the
 * turn. Uses per turn are counted from the tool ledger (durable across crashes), so a call over
 * the cap gets `{limit_reached: true, remaining_uses: 0}` without asking the model. The advice
 * streams into the chat as `tool-result` deltas while it is generated.
 */
import { Context } from '@temporalio/activity';
import { streamText } from 'ai';
import { z } from 'zod';
import { getAdvisorSettings } from '../../db/advisor-settings.js';
import { createChatTitles } from '../../db/chat-titles.js';
import { type Pool } from '../../db/pool.js';
import { ADVISOR_TOOL_NAME, advisorEligible, type AdvisorSettings } from '../../domain/advisor.js';
import { type ChatMessagePart } from '../../domain/chat.js';
import { partsText } from '../../domain/chat-title.js';
import { type ModelResolver } from '../../llm/model-registry.js';
import { stepUsage } from '../../llm/step-usage.js';
import { type ChatTool, type ToolContext, type ToolResult } from '../chat-tool.js';

/** Recent messages the advisor reads (text only). */
export const ADVISOR_CONVERSATION_WINDOW = 20;
/** Characters of one message the advisor reads. */
const MAX_MESSAGE_CHARS = 8_000;

export const ADVISOR_SYSTEM_PROMPT = [
  'You are an advisor to an AI coding agent working in a chat with a user.',
  'The agent asks you for a second opinion: read the conversation and its question, then answer with concise, concrete advice (a plan, a diagnosis, risks it missed).',
  'You cannot run tools or see files beyond what is quoted to you; say what the agent should check when you are unsure.',
].join(' ');

export const ADVISOR_DESCRIPTION = [
  'Ask an advisor (a separate model with no tools) for a second opinion on a plan, a hard bug or a decision.',
  'Use it sparingly, when you are stuck or before a risky change; it sees the recent conversation plus your question and optional context.',
  'Call it alone: a step that calls advisor together with any other tool runs none of them.',
].join(' ');

export const AdvisorInput = z.strictObject({
  question: z.string().min(1).describe('What you want advice on.'),
  context: z.string().optional().describe('Anything the advisor needs that is not in the conversation (code, errors, your plan).'),
});

/** Where the advice streams: the worker's part publisher (structurally; tools do not import activities). */
export interface AdvicePublisher {
  publish(event: { role: 'tool'; part: { type: 'tool-result'; tool_call_id: string; tool_name: string; result_delta: string } }): void;
  flush(): Promise<void>;
}

interface ChatFacts {
  ownerId: string;
  parentChatId: string | null;
  modelConfigId: string | null;
}

export function createAdvisorTool(dependencies: { pool: Pool; resolveModel: ModelResolver; createPartPublisher: (chatId: string) => AdvicePublisher }): ChatTool {
  const { pool } = dependencies;
  const titles = createChatTitles(pool);

  const readChat = async (chatId: string): Promise<ChatFacts | undefined> => {
    const { rows } = await pool.query<{ owner_id: string; parent_chat_id: string | null; last_model_config_id: string | null }>(
      'SELECT owner_id, parent_chat_id, last_model_config_id FROM chats WHERE id = $1',
      [chatId],
    );
    const row = rows[0];
    return row === undefined ? undefined : { ownerId: row.owner_id, parentChatId: row.parent_chat_id, modelConfigId: row.last_model_config_id };
  };

  /** Successful advisor calls of `turn` other than this one, from the ledger. */
  const usesThisTurn = async (context: ToolContext): Promise<number> => {
    const { rows } = await pool.query<{ uses: number }>(
      `SELECT count(*)::int AS uses FROM tool_call_ledger l
       WHERE l.chat_id = $1 AND l.tool_name = $2 AND l.status = 'completed' AND l.is_error IS NOT TRUE AND l.tool_call_id <> $3
         AND EXISTS (SELECT 1 FROM chat_messages m WHERE m.chat_id = $1 AND m.role = 'assistant' AND m.idempotency_key LIKE $4
                       AND m.content @> jsonb_build_array(jsonb_build_object('type', 'tool-call', 'tool_call_id', l.tool_call_id)))`,
      [context.chatId, ADVISOR_TOOL_NAME, context.toolCallId, `turn:${context.turn}:step:%`],
    );
    return rows[0]?.uses ?? 0;
  };

  const recentConversation = async (chatId: string): Promise<Array<{ role: string; text: string }>> => {
    const { rows } = await pool.query<{ role: string; content: ChatMessagePart[] }>(
      `SELECT role, content FROM (SELECT id, role, content FROM chat_messages
         WHERE chat_id = $1 AND role IN ('user', 'assistant') AND NOT deleted AND visibility <> 'model' ORDER BY id DESC LIMIT $2) recent ORDER BY id`,
      [chatId, ADVISOR_CONVERSATION_WINDOW],
    );
    return rows.map((row) => ({ role: row.role, text: partsText(row.content).slice(0, MAX_MESSAGE_CHARS) })).filter((message) => message.text !== '');
  };

  const ask = async (input: z.infer<typeof AdvisorInput>, context: ToolContext, chat: ChatFacts, settings: AdvisorSettings, remaining: number | null): Promise<ToolResult> => {
    const modelConfigId = settings.model_config_id ?? chat.modelConfigId;
    const model = modelConfigId === null ? undefined : await titles.getModelRecord(modelConfigId, chat.ownerId);
    if (model === undefined) return { result: 'advisor is unavailable: its model is not configured or not enabled', isError: true };
    const apiKeyId = await titles.turnApiKeyId(context.chatId, context.turn);
    if (apiKeyId === null) return { result: 'advisor is unavailable: this turn has no API key to charge', isError: true };
    const conversation = await recentConversation(context.chatId);
    const lastUser = [...conversation].reverse().find((message) => message.role === 'user')?.text ?? '';
    const transcript = conversation.map((message) => `${message.role === 'user' ? 'User' : 'Agent'}: ${message.text}`).join('\n\n');
    const prompt = [
      `<conversation>\n${transcript}\n</conversation>`,
      ...(input.context === undefined ? [] : [`<context>\n${input.context}\n</context>`]),
      `<question>\n${input.question}\n</question>`,
    ].join('\n\n');

    const publisher = dependencies.createPartPublisher(context.chatId);
    const result = streamText({
      model: dependencies.resolveModel(model),
      system: ADVISOR_SYSTEM_PROMPT,
      prompt,
      maxOutputTokens: settings.max_output_tokens,
      maxRetries: 0,
      abortSignal: context.signal,
      providerOptions: { script: { purpose: 'advisor', source: lastUser, attempt: Context.current().info.attempt } },
    });
    let advice = '';
    for await (const delta of result.textStream) {
      advice += delta;
      context.heartbeat();
      publisher.publish({ role: 'tool', part: { type: 'tool-result', tool_call_id: context.toolCallId, tool_name: ADVISOR_TOOL_NAME, result_delta: delta } });
    }
    await publisher.flush();
    const usage = stepUsage(await result.totalUsage, model.prices ?? {});
    await titles.recordSideUsage({ chatId: context.chatId, key: `advisor:${context.toolCallId}`, modelConfigId: model.id, usage, apiKeyId, text: advice });
    return { result: { advice, remaining_uses: remaining === null ? null : remaining - 1 }, isError: false };
  };

  return {
    name: ADVISOR_TOOL_NAME,
    description: ADVISOR_DESCRIPTION,
    inputSchema: AdvisorInput,
    // Asking again after a crash only costs tokens.
    idempotent: true,
    async offered(chatId) {
      // Asked on every step, alongside the reads a send's first token waits on: when the advisor
      // is off (the default) the settings alone answer, without reading the chat.
      const settings = await getAdvisorSettings(pool);
      if (!settings.enabled) return false;
      const chat = await readChat(chatId);
      return chat !== undefined && advisorEligible(settings, chat);
    },
    async execute(input, context) {
      const [chat, settings] = await Promise.all([readChat(context.chatId), getAdvisorSettings(pool)]);
      if (chat === undefined || !advisorEligible(settings, chat)) return { result: 'advisor is not available in this chat', isError: true };
      let remaining: number | null = null;
      if (settings.max_uses_per_turn > 0) {
        remaining = settings.max_uses_per_turn - (await usesThisTurn(context));
        if (remaining <= 0) return { result: { limit_reached: true, remaining_uses: 0 }, isError: true };
      }
      return ask(AdvisorInput.parse(input), context, chat, settings, remaining);
    },
  };
}
