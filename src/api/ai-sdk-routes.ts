/**
 * AI SDK UI compatibility: endpoints that speak the AI SDK's UI message stream protocol, so a
 * client built with `useChat` / `DefaultChatTransport` (api = `/api/v1/ai-sdk/chats`) can send
 * a message to a chat, render the reply as it streams, and resume an in-progress turn.
 *
 * - `POST /ai-sdk/chats` with `{id, messages, trigger}`: the last user message is sent to the
 *   chat `id` (a chatd chat id you own, or any client id, mapped to a chat of yours and created
 *   on first use); the response streams that turn until the chat is idle again.
 * - `GET /ai-sdk/chats/:id/stream`: replays the turn in progress from its start (the AI SDK
 *   default, `resumeStreamIsReplay`), or 204 when the chat is idle.
 *
 * The stream is a translation of the chat's event log (chat-events), so it inherits its
 * guarantees: any API replica can serve it and nothing is skipped.
 */
import { type UsageLedger } from '../db/usage.js';
import { type Logger } from '../logger.js';
import { assertWithinSpendLimit } from './spend-limit.js';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { type ChatMessagePart } from '../domain/chat.js';
import { chatIdFor } from './chat-id.js';
import { createChatReads } from '../db/chat-reads.js';
import { type StoredChatEvent } from '../db/chat-events.js';
import { type Pool } from '../db/pool.js';
import { type EventHub } from '../stream/event-hub.js';
import { type ChatCommands } from '../temporal/chat-client.js';
import { currentUser } from './auth.js';
import { startEventStream } from './event-stream.js';
import { fallbackTitle } from './chat-routes.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

const UiChatRequest = z.looseObject({
  id: z.string().min(1).max(200),
  messages: z
    .array(z.looseObject({ id: z.string(), role: z.enum(['system', 'user', 'assistant']), parts: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })) }))
    .min(1, 'Send at least one message.'),
  trigger: z.enum(['submit-message', 'regenerate-message']).default('submit-message'),
});

/** Turns chat events into UI message stream chunks, keeping track of open text/reasoning blocks. */
class UiChunkTranslator {
  private openBlock: { type: 'text' | 'reasoning'; id: string } | undefined;
  private block = 0;
  private stepOpen = false;
  private readonly toolInputs = new Set<string>();
  done = false;

  constructor(private readonly turnStartSeq: number) {}

  translate(event: StoredChatEvent): Array<Record<string, unknown>> {
    const chunks: Array<Record<string, unknown>> = [];
    const payload = event.payload;
    const ensureStep = () => {
      if (!this.stepOpen) {
        this.stepOpen = true;
        chunks.push({ type: 'start-step' });
      }
    };
    const closeBlock = () => {
      if (this.openBlock !== undefined) chunks.push({ type: `${this.openBlock.type}-end`, id: this.openBlock.id });
      this.openBlock = undefined;
    };
    switch (event.type) {
      case 'message_part': {
        ensureStep();
        const part = payload.part as { type: string; text?: string; tool_call_id?: string; tool_name?: string; args_delta?: string };
        if (part.type === 'text' || part.type === 'reasoning') {
          if (this.openBlock?.type !== part.type) {
            closeBlock();
            this.openBlock = { type: part.type, id: `${part.type}-${this.turnStartSeq}-${this.block++}` };
            chunks.push({ type: `${part.type}-start`, id: this.openBlock.id });
          }
          chunks.push({ type: `${part.type}-delta`, id: this.openBlock.id, delta: part.text ?? '' });
        } else if (part.type === 'tool-call' && part.tool_call_id !== undefined) {
          closeBlock();
          if (!this.toolInputs.has(part.tool_call_id)) {
            this.toolInputs.add(part.tool_call_id);
            chunks.push({ type: 'tool-input-start', toolCallId: part.tool_call_id, toolName: part.tool_name ?? '' });
          }
          chunks.push({ type: 'tool-input-delta', toolCallId: part.tool_call_id, inputTextDelta: part.args_delta ?? '' });
        }
        break;
      }
      case 'message': {
        const message = payload.message as { role: string; content: ChatMessagePart[] };
        if (message.role === 'assistant') {
          ensureStep();
          closeBlock();
          for (const part of message.content) {
            if (part.type === 'tool-call') chunks.push({ type: 'tool-input-available', toolCallId: part.tool_call_id, toolName: part.tool_name, input: part.args ?? {} });
          }
          chunks.push({ type: 'finish-step' });
          this.stepOpen = false;
        } else if (message.role === 'tool') {
          for (const part of message.content) {
            if (part.type !== 'tool-result') continue;
            chunks.push(part.is_error ? { type: 'tool-output-error', toolCallId: part.tool_call_id, errorText: String(typeof part.result === 'string' ? part.result : JSON.stringify(part.result)) } : { type: 'tool-output-available', toolCallId: part.tool_call_id, output: part.result });
          }
        }
        break;
      }
      case 'error':
        closeBlock();
        chunks.push({ type: 'error', errorText: String((payload.error as { message?: string } | undefined)?.message ?? 'The chat failed.') });
        break;
      case 'status':
        if (payload.status === 'waiting' || payload.status === 'error' || payload.status === 'requires_action') {
          closeBlock();
          if (this.stepOpen) chunks.push({ type: 'finish-step' });
          this.stepOpen = false;
          chunks.push({ type: 'finish' });
          this.done = true;
        }
        break;
      default:
        break;
    }
    return chunks;
  }
}

/** Streams the turn whose events follow `afterSeq` as UI message chunks, ending when the chat is idle. */
function streamTurn(request: Request, response: Response, hub: EventHub, chatId: string, afterSeq: number): void {
  const translator = new UiChunkTranslator(afterSeq);
  response.write(`data: ${JSON.stringify({ type: 'start', messageId: `chatd-${chatId}-${afterSeq}` })}\n\n`);
  const finish = () => {
    subscription.close();
    response.write('data: [DONE]\n\n');
    response.end();
  };
  const subscription = hub.subscribe(chatId, afterSeq, (events) => {
    if (translator.done) return false;
    for (const event of events) {
      for (const chunk of translator.translate(event)) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (translator.done) {
        setImmediate(finish);
        return false;
      }
    }
    return true;
  });
  request.on('close', () => subscription.close());
}

export function createAiSdkRouter(dependencies: { pool: Pool; hub: EventHub; commands: ChatCommands; usage?: UsageLedger; logger?: Logger }): Router {
  const router = Router();
  const reads = createChatReads(dependencies.pool);

  const resolveChatId = async (ownerId: string, clientChatId: string): Promise<string> => {
    if (z.uuid().safeParse(clientChatId).success) {
      const owned = await reads.getOwnedChat(clientChatId, ownerId);
      if (owned !== undefined) return owned.id;
    }
    return chatIdFor(ownerId, `ai-sdk:${clientChatId}`);
  };

  router.post('/ai-sdk/chats', async (request, response) => {
    const body = parseRequest(UiChatRequest, request.body);
    const user = currentUser(request);
    const last = [...body.messages].reverse().find((message) => message.role === 'user');
    if (last === undefined) throw new HttpError(400, 'Send at least one user message.');
    const text = last.parts.flatMap((part) => (part.type === 'text' && part.text !== undefined ? [part.text] : [])).join('');
    if (text.trim() === '') throw new HttpError(400, 'Message content must not be empty.');
    const content: ChatMessagePart[] = [{ type: 'text', text }];
    const chatId = await resolveChatId(user.id, body.id);
    const existing = await reads.getChat(chatId);
    if (existing !== undefined && existing.owner_id !== user.id) throw new HttpError(404, 'Chat not found.');
    const afterSeq = existing?.event_seq ?? 0;
    await assertWithinSpendLimit(dependencies.usage, user.id, dependencies.logger);
    if (existing === undefined) {
      await dependencies.commands.createChat(chatId, {
        ownerId: user.id,
        title: fallbackTitle(content),
        content,
        modelConfigId: null,
        systemPrompt: null,
        labels: {},
        dynamicTools: [],
        clientMessageId: last.id,
        apiKeyId: user.apiKeyId,
      });
    } else {
      await dependencies.commands.sendMessage(chatId, { content, modelConfigId: null, busyBehavior: 'queue', clientMessageId: last.id, apiKeyId: user.apiKeyId });
    }
    startEventStream(response, { 'x-vercel-ai-ui-message-stream': 'v1' });
    streamTurn(request, response, dependencies.hub, chatId, afterSeq);
  });

  router.get('/ai-sdk/chats/:id/stream', async (request, response) => {
    const user = currentUser(request);
    const chatId = await resolveChatId(user.id, String(request.params.id));
    const chat = await reads.getOwnedChat(chatId, user.id);
    if (chat === undefined) throw new HttpError(404, 'Chat not found.');
    if (chat.status !== 'running' && chat.status !== 'interrupting') {
      response.status(204).end();
      return;
    }
    // Replay from the start of the turn in progress: just before its user message was logged.
    const { rows } = await dependencies.pool.query<{ seq: number | null }>(
      `SELECT max(seq) AS seq FROM chat_events WHERE chat_id = $1 AND type = 'message' AND payload->'message'->>'role' = 'user'`,
      [chat.id],
    );
    startEventStream(response, { 'x-vercel-ai-ui-message-stream': 'v1' });
    streamTurn(request, response, dependencies.hub, chat.id, Math.max(0, (rows[0]?.seq ?? 1) - 1));
  });

  return router;
}
