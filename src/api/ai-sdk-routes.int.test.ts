/**
 * AI SDK UI compatibility, tested with the `ai` package's own client code: its
 * DefaultChatTransport sends and resumes, and readUIMessageStream builds the messages.
 */
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { listMessages, script, textOf, waitForIdle } from '../../test/support/chat-helpers.js';
import { chatIdFor } from './chat-id.js';

async function lastMessage(stream: ReadableStream<UIMessageChunk>): Promise<UIMessage | undefined> {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream })) last = message;
  return last;
}

function textOfUi(message: UIMessage | undefined): string {
  return (message?.parts ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
}

describe('AI SDK UI message stream endpoints', () => {
  let harness: Harness;
  let alice: ApiClient;
  let transport: DefaultChatTransport<UIMessage>;

  beforeAll(async () => {
    harness = await startHarness();
    alice = apiClient(harness.apiUrl, harness.alice.key);
    transport = new DefaultChatTransport({ api: `${harness.apiUrl}/api/v1/ai-sdk/chats`, headers: { authorization: `Bearer ${harness.alice.key}` } });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const userMessage = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

  it('sends a message with DefaultChatTransport and renders the streamed reply', async () => {
    const stream = await transport.sendMessages({
      chatId: 'ui-chat-1',
      messages: [userMessage('u1', script({ steps: [{ text: 'streamed to useChat', chunks: 6, delayMs: 20 }] }))],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    const reply = await lastMessage(stream);
    expect(reply?.role).toBe('assistant');
    expect(textOfUi(reply)).toBe('streamed to useChat');
    const chatId = chatIdFor(harness.alice.id, 'ai-sdk:ui-chat-1');
    await waitForIdle(alice, chatId);
    const { messages } = await listMessages(alice, chatId);
    expect(textOf(messages[1])).toBe('streamed to useChat');

    // A follow-up on the same client chat id goes to the same chatd chat.
    const again = await transport.sendMessages({
      chatId: 'ui-chat-1',
      messages: [userMessage('u1', 'x'), { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: 'streamed to useChat' }] }, userMessage('u2', script({ steps: [{ text: 'second reply' }] }))],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    expect(textOfUi(await lastMessage(again))).toBe('second reply');
  });

  it('shows tool calls and their results as tool parts', async () => {
    const stream = await transport.sendMessages({
      chatId: 'ui-chat-tools',
      messages: [userMessage('t1', script({ steps: [{ text: 'looking', toolCalls: [{ name: 'missing_tool', args: { q: 1 } }] }, { text: 'done looking' }] }))],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    const reply = await lastMessage(stream);
    const toolPart = reply?.parts.find((part) => part.type.startsWith('tool-') || part.type === 'dynamic-tool') as { state?: string; errorText?: string } | undefined;
    expect(toolPart).toBeDefined();
    expect(toolPart?.state).toBe('output-error');
    expect(toolPart?.errorText).toBe('Tool not found: missing_tool');
    expect(textOfUi(reply)).toContain('done looking');
  });

  it('resumes an in-progress turn with reconnectToStream, replaying it whole', async () => {
    const text = 'a long reply that the client reconnects to halfway through';
    const controller = new AbortController();
    const first = await transport.sendMessages({
      chatId: 'ui-chat-resume',
      messages: [userMessage('r1', script({ steps: [{ text, chunks: 30, delayMs: 50 }] }))],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: controller.signal,
    });
    const reader = first.getReader();
    for (let seen = 0; seen < 5; seen++) await reader.read();
    controller.abort();
    const resumed = await transport.reconnectToStream({ chatId: 'ui-chat-resume' });
    expect(resumed).not.toBeNull();
    expect(textOfUi(await lastMessage(resumed!))).toBe(text);
    const idle = await transport.reconnectToStream({ chatId: 'ui-chat-resume' });
    expect(idle).toBeNull();
  });
});
