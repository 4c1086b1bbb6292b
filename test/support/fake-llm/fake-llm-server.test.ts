/**
 * The fake LLM server against the real AI SDK clients over real HTTP: whatever these tests
 * pin is what `streamText` does when a production provider answers the same bytes. The
 * per-client table records where the clients differ (who reads reasoning, who reads cache
 * writes, what a stream without its terminal event turns into).
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, InvalidResponseDataError, streamText, tool, type LanguageModel, type TextStreamPart, type ToolSet } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startFakeLlmServer, type FakeLlmFormat, type FakeLlmServer } from './fake-llm-server.js';
import {
  fakeAuthError,
  fakeContextTooLong,
  fakeError,
  fakeOverloaded,
  fakeServerError,
  fakeStream,
  fakeText,
  fakeToolCall,
  type FakeErrorReply,
} from './fake-reply.js';

const API_KEY = 'sk-test-key';

interface ClientCase {
  name: string;
  format: FakeLlmFormat;
  create: (baseURL: string, model: string) => LanguageModel;
  /** Whether the client turns the format's reasoning stream into reasoning parts. */
  readsReasoning: boolean;
  /** Whether the client reports `inputTokenDetails.cacheWriteTokens`. */
  readsCacheWrite: boolean;
  /** What `omitTerminal` turns into on this client (see the omitTerminal test). */
  withoutTerminal: 'finish-other' | 'error-then-finish-error';
}

const CLIENTS: ClientCase[] = [
  {
    name: 'the OpenAI chat client',
    format: 'openai-chat',
    create: (baseURL, model) => createOpenAI({ baseURL, apiKey: API_KEY }).chat(model),
    // Its chunk schema has no `reasoning_content`: zod strips the field.
    readsReasoning: false,
    readsCacheWrite: true,
    withoutTerminal: 'finish-other',
  },
  {
    name: 'the OpenAI responses client',
    format: 'openai-responses',
    create: (baseURL, model) => createOpenAI({ baseURL, apiKey: API_KEY }).responses(model),
    readsReasoning: true,
    readsCacheWrite: true,
    withoutTerminal: 'finish-other',
  },
  {
    name: 'the Anthropic client',
    format: 'anthropic',
    create: (baseURL, model) => createAnthropic({ baseURL, apiKey: API_KEY })(model),
    readsReasoning: true,
    readsCacheWrite: true,
    withoutTerminal: 'finish-other',
  },
  {
    name: 'the openai-compatible (ollama) client',
    format: 'openai-chat',
    // Without `includeUsage` it sends no `stream_options` and the server sends no usage (pinned below).
    create: (baseURL, model) => createOpenAICompatible({ name: 'ollama', baseURL, apiKey: API_KEY, includeUsage: true })(model),
    readsReasoning: true,
    // Its usage schema has no `cache_write_tokens`.
    readsCacheWrite: false,
    withoutTerminal: 'error-then-finish-error',
  },
];

const tools = {
  add: tool({ description: 'Adds numbers.', inputSchema: z.object({ numbers: z.array(z.number()) }) }),
} satisfies ToolSet;

interface Run {
  parts: Array<TextStreamPart<typeof tools>>;
  /** What iterating `fullStream` threw, if it did (a dropped connection does this, see below). */
  thrown: unknown;
  textDeltas: string[];
  reasoning: string;
  errors: unknown[];
  finish: Extract<TextStreamPart<typeof tools>, { type: 'finish' }> | undefined;
}

async function run(model: LanguageModel): Promise<Run> {
  // maxOutputTokens keeps the Anthropic client from warning about an unknown model's limit.
  const result = streamText({ model, prompt: 'Add 1 and 2.', tools, maxRetries: 0, maxOutputTokens: 1024, onError: () => {} });
  const parts: Run['parts'] = [];
  let thrown: unknown;
  try {
    for await (const part of result.fullStream) parts.push(part);
  } catch (error) {
    thrown = error;
  }
  return {
    parts,
    thrown,
    textDeltas: parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])),
    reasoning: parts.flatMap((part) => (part.type === 'reasoning-delta' ? [part.text] : [])).join(''),
    errors: parts.flatMap((part) => (part.type === 'error' ? [part.error] : [])),
    finish: parts.find((part) => part.type === 'finish'),
  };
}

function onlyApiCallError(outcome: Run): APICallError {
  expect(outcome.errors).toHaveLength(1);
  const [error] = outcome.errors;
  if (!APICallError.isInstance(error)) throw new Error(`expected an APICallError, got ${String(error)}`);
  return error;
}

let server: FakeLlmServer;

beforeEach(async () => {
  server = await startFakeLlmServer();
});

afterEach(async () => {
  await server.close();
});

describe.each(CLIENTS)('$name', (client) => {
  const model = (name: string): LanguageModel => client.create(server.baseUrl(client.format), name);

  it('streams reasoning, text deltas, a tool call with parsed input, and usage', async () => {
    server.reply(
      'model-a',
      fakeStream({
        reasoning: 'add them up',
        text: 'Hello world',
        toolCalls: [{ name: 'add', args: { numbers: [1, 2] } }],
        usage: { input: 100, output: 50, reasoning: 20, cacheRead: 40, cacheWrite: 10 },
      }),
    );

    const outcome = await run(model('model-a'));

    expect(outcome.thrown).toBeUndefined();
    expect(outcome.errors).toEqual([]);
    expect(outcome.textDeltas).toEqual(['Hel', 'lo w', 'orld']);
    expect(outcome.reasoning).toBe(client.readsReasoning ? 'add them up' : '');
    const toolCalls = outcome.parts.filter((part) => part.type === 'tool-call');
    expect(toolCalls.map(({ toolName, input }) => ({ toolName, input }))).toEqual([{ toolName: 'add', input: { numbers: [1, 2] } }]);
    expect(outcome.finish?.finishReason).toBe('tool-calls');
    expect(outcome.finish?.totalUsage).toMatchObject({
      inputTokens: 100,
      outputTokens: 50,
      inputTokenDetails: { cacheReadTokens: 40, cacheWriteTokens: client.readsCacheWrite ? 10 : undefined },
      outputTokenDetails: { reasoningTokens: 20 },
    });
    expect(server.requests.map(({ format, model }) => ({ format, model }))).toEqual([{ format: client.format, model: 'model-a' }]);
    expect(server.unexpected).toEqual([]);
  });

  it('finishes a text-only reply with reason stop and the default usage', async () => {
    server.reply('model-a', fakeText('Just text.'));

    const outcome = await run(model('model-a'));

    expect(outcome.textDeltas.join('')).toBe('Just text.');
    expect(outcome.parts.some((part) => part.type === 'tool-call')).toBe(false);
    expect(outcome.finish?.finishReason).toBe('stop');
    expect(outcome.finish?.totalUsage).toMatchObject({ inputTokens: 10, outputTokens: 20 });
  });

  const errorCases: Array<{ label: string; reply: FakeErrorReply; status: number; retryable: boolean; message: RegExp }> = [
    { label: 'a 429 rate limit', reply: fakeError(429, { retryAfterSeconds: 1 }), status: 429, retryable: true, message: /rate limit/i },
    { label: 'a 529 overload', reply: fakeOverloaded(), status: 529, retryable: true, message: /overloaded/i },
    { label: 'a 500 server error', reply: fakeServerError(500), status: 500, retryable: true, message: /error/i },
    { label: 'a 503 server error', reply: fakeServerError(503), status: 503, retryable: true, message: /error/i },
    { label: 'a 401 auth error', reply: fakeAuthError(), status: 401, retryable: false, message: /api key|x-api-key/i },
    {
      label: 'a 400 context-too-long error',
      reply: fakeContextTooLong(),
      status: 400,
      retryable: false,
      message: /maximum context length|context window|prompt is too long/,
    },
  ];

  it.each(errorCases)('surfaces $label as an APICallError part with its status and retryability', async ({ reply, status, retryable, message }) => {
    server.reply('model-a', reply);

    const outcome = await run(model('model-a'));

    expect(outcome.thrown).toBeUndefined();
    const error = onlyApiCallError(outcome);
    expect(error.statusCode).toBe(status);
    expect(error.isRetryable).toBe(retryable);
    expect(error.message).toMatch(message);
    expect(error.responseHeaders?.['retry-after']).toBe(reply.headers?.['retry-after']);
    expect(outcome.parts.some((part) => part.type === 'text-delta')).toBe(false);
  });

  it('makes fullStream throw a retryable APICallError when the connection drops mid-stream', async () => {
    server.reply('model-a', fakeText('Hello world', { dropAfterChunks: 2 }));

    const outcome = await run(model('model-a'));

    // The deltas sent before the drop arrive; then iterating fullStream rejects. No error part,
    // no finish part, and streamText's onError is not called: the consumer must catch.
    expect(outcome.textDeltas).toEqual(['Hel', 'lo w']);
    expect(outcome.errors).toEqual([]);
    expect(outcome.finish).toBeUndefined();
    if (!APICallError.isInstance(outcome.thrown)) throw new Error(`expected an APICallError to be thrown, got ${String(outcome.thrown)}`);
    expect(outcome.thrown.message).toBe('Failed to process successful response');
    expect(outcome.thrown.statusCode).toBe(200);
    expect(outcome.thrown.isRetryable).toBe(true);
    expect(String(outcome.thrown.cause)).toBe('TypeError: terminated');
  });

  it('ends without a normal finish when the terminal event is missing', async () => {
    server.reply('model-a', fakeText('Hello world', { omitTerminal: true }));

    const outcome = await run(model('model-a'));

    expect(outcome.thrown).toBeUndefined();
    expect(outcome.textDeltas.join('')).toBe('Hello world');
    if (client.withoutTerminal === 'finish-other') {
      // OpenAI chat, OpenAI responses and Anthropic: no error at all. The step finishes with
      // finishReason 'other', no raw finish reason, and every usage count undefined.
      expect(outcome.errors).toEqual([]);
      expect(outcome.finish?.finishReason).toBe('other');
      expect(outcome.finish?.rawFinishReason).toBeUndefined();
    } else {
      // openai-compatible: an error part (InvalidResponseDataError "Response stream ended without
      // a finish reason.", no status code, isRetryable absent), then a finish with reason 'error'.
      expect(outcome.errors).toHaveLength(1);
      const [error] = outcome.errors;
      expect(InvalidResponseDataError.isInstance(error)).toBe(true);
      expect((error as Error).message).toBe('Response stream ended without a finish reason.');
      expect(outcome.finish?.finishReason).toBe('error');
    }
    expect(outcome.finish?.totalUsage.inputTokens).toBeUndefined();
    expect(outcome.finish?.totalUsage.outputTokens).toBeUndefined();
  });

  it('answers an unscripted model with a 500 and records it as unexpected', async () => {
    const outcome = await run(model('nobody-scripted-me'));

    const error = onlyApiCallError(outcome);
    expect(error.statusCode).toBe(500);
    expect(error.message).toBe('fake LLM: no scripted reply for model "nobody-scripted-me"');
    expect(server.unexpected).toEqual([`fake LLM: no scripted reply for model "nobody-scripted-me" (${client.format})`]);
  });
});

describe('the fake LLM server', () => {
  const chatModel = (name: string): LanguageModel => createOpenAI({ baseURL: server.baseUrl('openai-chat'), apiKey: API_KEY }).chat(name);

  it('hands out replies first in, first out per model and records every request', async () => {
    server.reply('model-a', fakeText('first'), fakeText('second'));
    server.reply('model-b', fakeToolCall('add', { numbers: [3] }));
    expect(server.pendingReplies()).toBe(3);

    const first = await run(chatModel('model-a'));
    const other = await run(chatModel('model-b'));
    const second = await run(chatModel('model-a'));

    expect(first.textDeltas.join('')).toBe('first');
    expect(second.textDeltas.join('')).toBe('second');
    expect(other.parts.filter((part) => part.type === 'tool-call').map((part) => part.input)).toEqual([{ numbers: [3] }]);
    expect(server.pendingReplies()).toBe(0);
    expect(server.requests.map((request) => request.model)).toEqual(['model-a', 'model-b', 'model-a']);
    const [request] = server.requests;
    expect(request?.format).toBe('openai-chat');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toMatchObject({ model: 'model-a', stream: true, stream_options: { include_usage: true } });
    expect(request?.body.messages).toEqual([{ role: 'user', content: 'Add 1 and 2.' }]);
    expect(request?.receivedAt).toBeInstanceOf(Date);
    expect(server.unexpected).toEqual([]);
  });

  it('sends Chat Completions usage only when the request asks for it, as OpenAI does', async () => {
    server.reply('model-a', fakeText('hi', { usage: { input: 7, output: 3 } }));
    const withoutIncludeUsage = createOpenAICompatible({ name: 'ollama', baseURL: server.baseUrl('openai-chat'), apiKey: API_KEY })('model-a');

    const outcome = await run(withoutIncludeUsage);

    expect(server.requests[0]?.body.stream_options).toBeUndefined();
    expect(outcome.finish?.finishReason).toBe('stop');
    expect(outcome.finish?.totalUsage.inputTokens).toBeUndefined();
  });

  it('reports a drop before any content to the OpenAI chat client as an error part, not a throw', async () => {
    // The chat client reads ahead for an early error frame before returning the stream, so a
    // connection lost before the first delta fails doStream itself, which streamText turns into a part.
    server.reply('model-a', fakeText('Hello', { dropAfterChunks: 0 }));

    const outcome = await run(chatModel('model-a'));

    expect(outcome.thrown).toBeUndefined();
    const error = onlyApiCallError(outcome);
    expect(error.message).toBe('Failed to process successful response');
    expect(error.isRetryable).toBe(true);
  });

  it('signs Anthropic thinking so the client can send the reasoning back on the next turn', async () => {
    server.reply('claude-a', fakeStream({ reasoning: 'let me think', text: 'done' }));
    const anthropic = createAnthropic({ baseURL: server.baseUrl('anthropic'), apiKey: API_KEY })('claude-a');

    const outcome = await run(anthropic);

    expect(outcome.reasoning).toBe('let me think');
    const signatures = outcome.parts.flatMap((part) => (part.type === 'reasoning-delta' ? [part.providerMetadata?.anthropic?.signature] : []));
    expect(signatures.filter((signature) => typeof signature === 'string' && signature.length > 0)).toHaveLength(1);
  });

  it('stops a slow stream and frees the port when closed mid-stream', async () => {
    server.reply('model-a', fakeText('slow', { chunks: 4, chunkDelayMs: 10_000 }));
    const result = streamText({ model: chatModel('model-a'), prompt: 'hi', maxRetries: 0, onError: () => {} });
    const reader = result.fullStream.getReader();
    let first = await reader.read();
    while (!first.done && first.value.type !== 'text-delta') first = await reader.read();
    expect(first.value).toMatchObject({ type: 'text-delta', text: 's' });

    const closing = performance.now();
    await server.close();
    const rest = await reader.read().then(
      (next) => `read ${JSON.stringify(next)}`,
      (error: unknown) => `rejected: ${error instanceof Error ? error.message : String(error)}`,
    );

    // The connection is cut, not drained: the client sees the same failure as dropAfterChunks.
    expect(rest).toBe('rejected: Failed to process successful response');
    expect(performance.now() - closing).toBeLessThan(1_000);
    await expect(fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' })).rejects.toThrow();
    server = await startFakeLlmServer(); // afterEach closes whatever `server` holds
  });

  it('waits firstChunkDelayMs before the first event and chunkDelayMs between deltas', async () => {
    server.reply('model-a', fakeText('abcd', { chunks: 4, firstChunkDelayMs: 150, chunkDelayMs: 60 }));
    const started = performance.now();
    const seen: number[] = [];
    const result = streamText({ model: chatModel('model-a'), prompt: 'hi', maxRetries: 0 });

    for await (const part of result.fullStream) if (part.type === 'text-delta') seen.push(performance.now());

    expect(seen).toHaveLength(4);
    expect((seen[0] ?? 0) - started).toBeGreaterThanOrEqual(145);
    for (let index = 1; index < seen.length; index++) expect((seen[index] ?? 0) - (seen[index - 1] ?? 0)).toBeGreaterThanOrEqual(55);
  });

  it('writes the real Chat Completions SSE frames, ending with [DONE] unless omitTerminal', async () => {
    server.reply('model-a', fakeText('hi', { chunks: 1 }), fakeText('hi', { chunks: 1, omitTerminal: true }));
    const post = () =>
      fetch(`${server.baseUrl('openai-chat')}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'model-a', stream: true, stream_options: { include_usage: true }, messages: [] }),
      });

    const complete = await post();
    const completeText = await complete.text();
    const truncatedText = await (await post()).text();

    expect(complete.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = completeText.split('\n\n').filter(Boolean);
    expect(data.at(-1)).toBe('data: [DONE]');
    const chunks = data.slice(0, -1).map((frame) => JSON.parse(frame.replace(/^data: /, '')));
    expect(chunks.map((chunk) => chunk.object)).toEqual(Array(chunks.length).fill('chat.completion.chunk'));
    expect(chunks.at(-2).choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 } });
    expect(truncatedText).not.toContain('[DONE]');
    expect(truncatedText).not.toContain('finish_reason":"stop');
    expect(truncatedText).toContain('"content":"hi"');
  });

  it("writes each API's real error JSON shape", async () => {
    server.reply('model-a', fakeOverloaded(), fakeContextTooLong(), fakeContextTooLong());
    const post = (path: string) => fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify({ model: 'model-a', stream: true }) });

    const anthropic = await post('/v1/messages');
    const chat = await post('/v1/chat/completions');
    const responses = await post('/v1/responses');

    expect(anthropic.status).toBe(529);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(chat.status).toBe(400);
    expect(await chat.json()).toEqual({
      error: { message: expect.stringContaining("maximum context length"), type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' },
    });
    expect(await responses.json()).toEqual({
      error: { message: expect.stringContaining('context window'), type: 'invalid_request_error', param: 'input', code: 'context_length_exceeded' },
    });
  });

  it('refuses unknown routes with a 404 and records them as unexpected', async () => {
    const response = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(404);
    expect(server.unexpected).toEqual(['fake LLM: no route for POST /v1/embeddings']);
    expect(server.requests).toEqual([]);
  });
});
