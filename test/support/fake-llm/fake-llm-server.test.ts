/**
 * The fake LLM server against the real AI SDK clients over real HTTP: whatever these tests
 * pin is what `streamText` does when a production provider answers the same bytes. The
 * per-client table records where the clients differ (who reads reasoning, who reads cache
 * writes, what a stream without its terminal event turns into). The web search suites pin what
 * the clients emit for a provider-executed search and what they send back when that answer
 * is replayed as history, paired or not.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import {
  APICallError,
  InvalidResponseDataError,
  MissingToolResultsError,
  NoSuchToolError,
  streamText,
  tool,
  type AssistantContent,
  type AssistantModelMessage,
  type JSONValue,
  type LanguageModel,
  type ModelMessage,
  type TextStreamPart,
  type ToolSet,
} from 'ai';
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
  fakeWebSearch,
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

// ---------------------------------------------------------------------------------------------
// Provider-executed web search: what the clients emit, and what they send when it is replayed.

/** The text part of the stored answer. */
const SUNNY = { type: 'text', text: 'Sunny.' } as const;

const SEARCH_RESULTS = [
  { url: 'https://example.com/paris', title: 'Paris weather' },
  { url: 'https://example.org/forecast', title: 'Forecast' },
];

interface SearchRun {
  parts: Array<TextStreamPart<ToolSet>>;
  thrown: unknown;
  errors: unknown[];
  /** The SDK's own `response.messages`, when the stream finished. */
  responseMessages: ModelMessage[] | undefined;
  warnings: unknown[] | undefined;
}

interface SearchCall {
  model: LanguageModel;
  tools?: ToolSet;
  messages?: ModelMessage[];
  providerOptions?: Parameters<typeof streamText>[0]['providerOptions'];
}

async function runSearch({ model, tools, messages, providerOptions }: SearchCall): Promise<SearchRun> {
  const errors: unknown[] = [];
  const result = streamText({
    model,
    ...(messages === undefined ? { prompt: 'Weather in Paris?' } : { messages }),
    ...(tools === undefined ? {} : { tools }),
    ...(providerOptions === undefined ? {} : { providerOptions }),
    maxRetries: 0,
    maxOutputTokens: 1024,
    onError: ({ error }) => void errors.push(error),
  });
  const parts: SearchRun['parts'] = [];
  let thrown: unknown;
  try {
    for await (const part of result.fullStream) parts.push(part);
  } catch (error) {
    thrown = error;
  }
  const settled = thrown === undefined && errors.length === 0;
  return {
    parts,
    thrown,
    errors,
    responseMessages: settled ? (await result.response).messages : undefined,
    warnings: settled ? await result.warnings : undefined,
  };
}

/**
 * The assistant message a caller stores for a streamed answer, built from its parts: each
 * provider-executed tool call and result, and each text with the provider metadata of its
 * `text-end` (OpenAI's `itemId`). This is what `response.messages` holds too (asserted below).
 */
function assistantMessageFrom(parts: SearchRun['parts']): AssistantModelMessage {
  const content: Exclude<AssistantContent, string> = [];
  const texts = new Map<string, string>();
  for (const part of parts) {
    const { type } = part;
    if (type === 'tool-call') {
      const { toolCallId, toolName, input, providerExecuted } = part;
      content.push({ type, toolCallId, toolName, input, providerExecuted });
    } else if (type === 'tool-result') {
      const { toolCallId, toolName, output } = part;
      content.push({ type, toolCallId, toolName, output: { type: 'json', value: output as JSONValue } });
    } else if (type === 'text-delta') {
      texts.set(part.id, (texts.get(part.id) ?? '') + part.text);
    } else if (type === 'text-end') {
      const providerOptions = part.providerMetadata === undefined ? {} : { providerOptions: part.providerMetadata };
      content.push({ type: 'text', text: texts.get(part.id) ?? '', ...providerOptions });
    }
  }
  return { role: 'assistant', content };
}

/** The conversation of a replay: the question, the stored answer, a follow-up. */
function replayOf(answer: AssistantModelMessage): ModelMessage[] {
  return [{ role: 'user', content: 'Weather in Paris?' }, answer, { role: 'user', content: 'And tomorrow?' }];
}

/** The id of the run's (first) tool call. */
function toolCallIdOf(run: SearchRun): string | undefined {
  return run.parts.find((part) => part.type === 'tool-call')?.toolCallId;
}

/** The first tool call of a run, with the fields an invalid (unparseable or unknown) call carries. */
function firstToolCall(run: SearchRun): { error?: unknown } | undefined {
  return run.parts.find((part) => part.type === 'tool-call');
}

/** The parts of a run that are not bookkeeping (no start/step/finish markers). */
function contentParts(run: SearchRun): Array<TextStreamPart<ToolSet>> {
  const bookkeeping = new Set(['start', 'start-step', 'finish-step', 'finish', 'text-start', 'text-end']);
  return run.parts.filter((part) => !bookkeeping.has(part.type));
}

describe('provider-executed web search on the OpenAI responses client', () => {
  const openai = () => createOpenAI({ baseURL: server.baseUrl('openai-responses'), apiKey: API_KEY });
  const model = (): LanguageModel => openai().responses('gpt-search');
  const searchTools = (): ToolSet => ({ web_search: openai().tools.webSearch({}) });

  const searchCall = { type: 'tool-call', toolCallId: 'ws_search_1', toolName: 'web_search', input: {}, providerExecuted: true } as const;
  const searchOutput = {
    action: { type: 'search', query: 'weather paris' },
    sources: SEARCH_RESULTS.map(({ url }) => ({ type: 'url', url })),
  };
  const searchResult = {
    type: 'tool-result',
    toolCallId: 'ws_search_1',
    toolName: 'web_search',
    output: { type: 'json', value: searchOutput },
  } as const;
  const referenceItem = { type: 'item_reference', id: 'ws_search_1' };
  const searchItem = {
    type: 'web_search_call',
    id: 'ws_search_1',
    status: 'completed',
    action: { type: 'search', query: 'weather paris', sources: searchOutput.sources },
  };
  const question = { role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] };
  const followUp = { role: 'user', content: [{ type: 'input_text', text: 'And tomorrow?' }] };
  const answerText = { role: 'assistant', content: [{ type: 'output_text', text: 'Sunny.' }] };

  it('emits the search as a provider-executed web_search call whose input is empty, then its result, then the text', async () => {
    server.reply('gpt-search', fakeStream({ webSearches: [{ query: 'weather paris', results: SEARCH_RESULTS }], text: 'Sunny.', chunks: 1 }));

    const outcome = await runSearch({ model: model(), tools: searchTools() });

    expect(outcome.thrown).toBeUndefined();
    expect(outcome.errors).toEqual([]);
    // The SDK asks for the sources itself once the tool is declared, and the fake honours it.
    expect(server.requests[0]?.body).toMatchObject({ tools: [{ type: 'web_search' }], include: ['web_search_call.action.sources'] });
    // The call id is the output item's id (`ws_…`; the fake's `ws_fake_N`), not a `call_…` id.
    // The call comes at `output_item.added`, so its input is always {}: the query is only in the result.
    const callId = toolCallIdOf(outcome);
    expect(callId).toMatch(/^ws_fake_\d+$/);
    expect(outcome.parts.map((part) => part.type)).toEqual([
      'start',
      'start-step',
      'tool-input-start',
      'tool-input-end',
      'tool-call',
      'tool-result',
      'text-start',
      'text-delta',
      'text-end',
      'finish-step',
      'finish',
    ]);
    expect(contentParts(outcome)).toEqual([
      { type: 'tool-input-start', id: callId, toolName: 'web_search', providerExecuted: true, dynamic: false },
      { type: 'tool-input-end', id: callId },
      { type: 'tool-call', toolCallId: callId, toolName: 'web_search', input: {}, providerExecuted: true },
      { type: 'tool-result', toolCallId: callId, toolName: 'web_search', input: {}, output: searchOutput, providerExecuted: true },
      { type: 'text-delta', id: expect.stringMatching(/^msg_fake_\d+$/), text: 'Sunny.' },
    ]);
    // No providerMetadata on the tool parts; the text carries its message item id.
    const textEnd = outcome.parts.find((part) => part.type === 'text-end');
    expect(textEnd?.providerMetadata).toEqual({ openai: { itemId: expect.stringMatching(/^msg_fake_\d+$/) } });
    expect(outcome.parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('replays the answer as item references by default (store on): the call is dropped, the result becomes a reference', async () => {
    server.reply('gpt-search', fakeWebSearch('weather paris', SEARCH_RESULTS, 'Sunny.', { chunks: 1 }), fakeText('ok'));
    const first = await runSearch({ model: model(), tools: searchTools() });
    const answer = assistantMessageFrom(first.parts);
    const callId = toolCallIdOf(first);
    const messageId = first.parts.find((part) => part.type === 'text-end')?.providerMetadata?.openai?.itemId;
    expect(messageId).toMatch(/^msg_fake_\d+$/);

    expect(first.responseMessages).toEqual([answer]);
    expect(answer.content).toEqual([
      { type: 'tool-call', toolCallId: callId, toolName: 'web_search', input: {}, providerExecuted: true },
      { type: 'tool-result', toolCallId: callId, toolName: 'web_search', output: { type: 'json', value: searchOutput } },
      { type: 'text', text: 'Sunny.', providerOptions: { openai: { itemId: messageId } } },
    ]);

    const second = await runSearch({ model: model(), tools: searchTools(), messages: replayOf(answer) });

    expect(second.errors).toEqual([]);
    expect(server.requests[1]?.body.input).toEqual([
      question,
      { type: 'item_reference', id: callId },
      { type: 'item_reference', id: messageId },
      followUp,
    ]);
  });

  it('replays the answer as a web_search_call item and a message when store is false', async () => {
    server.reply('gpt-search', fakeWebSearch('weather paris', SEARCH_RESULTS, 'Sunny.', { chunks: 1 }), fakeText('ok'));
    const storeOff = { openai: { store: false } };
    const first = await runSearch({ model: model(), tools: searchTools(), providerOptions: storeOff });
    const answer = assistantMessageFrom(first.parts);
    const callId = toolCallIdOf(first);

    await runSearch({ model: model(), tools: searchTools(), messages: replayOf(answer), providerOptions: storeOff });

    expect(server.requests[0]?.body.store).toBe(false);
    expect(server.requests[1]?.body.input).toEqual([
      question,
      { ...searchItem, id: callId },
      // The message keeps its item id even with store off.
      { ...answerText, id: expect.stringMatching(/^msg_fake_\d+$/) },
      followUp,
    ]);
  });

  // Requirements for history repair: the client never throws for provider-executed parts. It
  // sends a result whatever its partner or position, and silently drops a call (even paired).
  const unpaired: Array<{ label: string; content: AssistantContent; store: boolean; sent: unknown[] }> = [
    { label: 'a call without its result (store on)', content: [searchCall, SUNNY], store: true, sent: [] },
    { label: 'a result without its call (store on)', content: [searchResult, SUNNY], store: true, sent: [referenceItem] },
    { label: 'a result before its call (store on)', content: [searchResult, searchCall, SUNNY], store: true, sent: [referenceItem] },
    { label: 'a call without its result (store off)', content: [searchCall, SUNNY], store: false, sent: [] },
    { label: 'a result without its call (store off)', content: [searchResult, SUNNY], store: false, sent: [searchItem] },
    { label: 'a result before its call (store off)', content: [searchResult, searchCall, SUNNY], store: false, sent: [searchItem] },
  ];

  it.each(unpaired)('sends $label without an error or warning', async ({ content, store, sent }) => {
    server.reply('gpt-search', fakeText('ok'));

    const outcome = await runSearch({
      model: model(),
      tools: searchTools(),
      messages: replayOf({ role: 'assistant', content }),
      ...(store ? {} : { providerOptions: { openai: { store: false } } }),
    });

    expect(outcome.thrown).toBeUndefined();
    expect(outcome.errors).toEqual([]);
    expect(outcome.warnings).toEqual([]);
    // A text part without an itemId is sent as a plain assistant message.
    expect(server.requests[0]?.body.input).toEqual([question, ...sent, answerText, followUp]);
  });

  it('still sends a replayed search when the tool is no longer declared, unless its key was renamed and store is off', async () => {
    server.reply('gpt-search', fakeText('ok'), fakeText('ok'), fakeText('ok'));
    const renamed: AssistantContent = [
      { ...searchCall, toolName: 'webSearch' },
      { ...searchResult, toolName: 'webSearch' },
      SUNNY,
    ];

    await runSearch({ model: model(), messages: replayOf({ role: 'assistant', content: [searchCall, searchResult, SUNNY] }) });
    await runSearch({ model: model(), messages: replayOf({ role: 'assistant', content: renamed }) });
    const renamedStoreOff = await runSearch({
      model: model(),
      messages: replayOf({ role: 'assistant', content: renamed }),
      providerOptions: { openai: { store: false } },
    });

    expect(server.requests[0]?.body.input).toEqual([question, referenceItem, answerText, followUp]);
    expect(server.requests[1]?.body.input).toEqual([question, referenceItem, answerText, followUp]);
    // The client knows a web search result only by its provider name: `webSearch` maps to
    // `web_search` only while declared, so with store off the result is dropped with a warning.
    expect(server.requests[2]?.body.input).toEqual([question, answerText, followUp]);
    expect(renamedStoreOff.warnings).toEqual([
      { type: 'other', message: 'Results for OpenAI tool webSearch are not sent to the API when store is false' },
    ]);
  });

  it('emits an undeclared search as an invalid dynamic call (NoSuchToolError) and still its result, without sources', async () => {
    server.reply('gpt-search', fakeStream({ webSearches: [{ id: 'ws_search_1', query: 'weather paris', results: SEARCH_RESULTS }], text: 'Sunny.' }));

    const outcome = await runSearch({ model: model() });

    expect(outcome.errors).toEqual([]);
    expect(server.requests[0]?.body.include).toBeUndefined();
    const call = firstToolCall(outcome);
    expect(call).toMatchObject({ toolCallId: 'ws_search_1', toolName: 'web_search', providerExecuted: true, dynamic: true, invalid: true });
    expect(NoSuchToolError.isInstance(call?.error)).toBe(true);
    expect(outcome.parts.find((part) => part.type === 'tool-result')).toMatchObject({
      toolCallId: 'ws_search_1',
      output: { action: { type: 'search', query: 'weather paris' } },
      providerExecuted: true,
    });
    expect(outcome.parts.find((part) => part.type === 'tool-result')).not.toHaveProperty('output.sources');
  });
});

describe('provider-executed web search on the Anthropic client', () => {
  let sourceCount = 0;
  const anthropic = () =>
    createAnthropic({ baseURL: server.baseUrl('anthropic'), apiKey: API_KEY, generateId: () => `source-${++sourceCount}` });
  const model = (): LanguageModel => anthropic()('claude-search');
  const searchTools = (): ToolSet => ({ web_search: anthropic().tools.webSearch_20250305({}) });
  const encrypted = (url: string): string => Buffer.from(`fake-page-${url}`).toString('base64');
  const searchOutput = SEARCH_RESULTS.map(({ url, title }) => ({
    url,
    title,
    pageAge: null,
    encryptedContent: encrypted(url),
    type: 'web_search_result',
  }));
  const query = { query: 'weather paris' };

  const searchCall = { type: 'tool-call', toolCallId: 'srvtoolu_search_1', toolName: 'web_search', input: query, providerExecuted: true } as const;
  const searchResult = {
    type: 'tool-result',
    toolCallId: 'srvtoolu_search_1',
    toolName: 'web_search',
    output: { type: 'json', value: searchOutput },
  } as const;
  const serverToolUse = { type: 'server_tool_use', id: 'srvtoolu_search_1', name: 'web_search', input: { query: 'weather paris' } };
  const searchToolResult = {
    type: 'web_search_tool_result',
    tool_use_id: 'srvtoolu_search_1',
    content: SEARCH_RESULTS.map(({ url, title }) => ({ url, title, page_age: null, encrypted_content: encrypted(url), type: 'web_search_result' })),
  };
  const textBlock = { type: 'text', text: 'Sunny.' };

  beforeEach(() => {
    sourceCount = 0;
  });

  it('emits the search as a provider-executed web_search call with its query, its result, a source per page, then the text', async () => {
    server.reply('claude-search', fakeStream({ webSearches: [{ query: 'weather paris', results: SEARCH_RESULTS }], text: 'Sunny.', chunks: 2 }));

    const outcome = await runSearch({ model: model(), tools: searchTools() });

    expect(outcome.thrown).toBeUndefined();
    expect(outcome.errors).toEqual([]);
    expect(server.requests[0]?.body.tools).toEqual([{ type: 'web_search_20250305', name: 'web_search' }]);
    // The call id is the server_tool_use block's id (`srvtoolu_…`; the fake's `srvtoolu_fake_N`).
    const callId = toolCallIdOf(outcome);
    expect(callId).toMatch(/^srvtoolu_fake_\d+$/);
    expect(contentParts(outcome)).toEqual([
      { type: 'tool-input-start', id: callId, toolName: 'web_search', providerExecuted: true, dynamic: false },
      { type: 'tool-input-delta', id: callId, delta: '{"query":"we' },
      { type: 'tool-input-delta', id: callId, delta: 'ather paris"}' },
      { type: 'tool-input-end', id: callId },
      { type: 'tool-call', toolCallId: callId, toolName: 'web_search', input: query, providerExecuted: true },
      { type: 'tool-result', toolCallId: callId, toolName: 'web_search', input: query, output: searchOutput, providerExecuted: true },
      // One source per page, ids from the client's generateId; `encryptedContent` is only in the result.
      ...SEARCH_RESULTS.map(({ url, title }, index) => ({
        type: 'source',
        sourceType: 'url',
        id: `source-${index + 1}`,
        url,
        title,
        providerMetadata: { anthropic: { pageAge: null } },
      })),
      { type: 'text-delta', id: '2', text: 'Sun' },
      { type: 'text-delta', id: '2', text: 'ny.' },
    ]);
    const finish = outcome.parts.at(-1);
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'stop', rawFinishReason: 'end_turn' });
    const finishStep = outcome.parts.find((part) => part.type === 'finish-step');
    expect(finishStep?.providerMetadata?.anthropic?.usage).toMatchObject({ server_tool_use: { web_search_requests: 1 } });
  });

  it('replays the answer as server_tool_use and web_search_tool_result blocks before the text', async () => {
    server.reply(
      'claude-search',
      fakeStream({ webSearches: [{ id: 'srvtoolu_search_1', query: 'weather paris', results: SEARCH_RESULTS }], text: 'Sunny.' }),
      fakeText('ok'),
    );
    const first = await runSearch({ model: model(), tools: searchTools() });
    const answer = assistantMessageFrom(first.parts);

    expect(first.responseMessages).toEqual([answer]);
    expect(answer.content).toEqual([searchCall, searchResult, SUNNY]);

    const second = await runSearch({ model: model(), tools: searchTools(), messages: replayOf(answer) });

    expect(second.errors).toEqual([]);
    expect(server.requests[1]?.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [serverToolUse, searchToolResult, textBlock] },
      { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
    ]);
  });

  // Requirements for history repair: the client passes provider-executed parts through as
  // blocks, in the order given, whatever their pairing. The real API checks pairing (its
  // advisor tool answers 400 "Each `advisor_tool_result` block must have a corresponding
  // `server_tool_use` block before it."); the fake does not.
  const unpaired: Array<{ label: string; content: AssistantContent; sent: unknown[] }> = [
    { label: 'a call without its result', content: [searchCall, SUNNY], sent: [serverToolUse, textBlock] },
    { label: 'a result without its call', content: [searchResult, SUNNY], sent: [searchToolResult, textBlock] },
    { label: 'a result before its call', content: [searchResult, searchCall, SUNNY], sent: [searchToolResult, serverToolUse, textBlock] },
    { label: 'a call without its result ending the turn', content: [searchCall], sent: [serverToolUse] },
  ];

  it.each(unpaired)('sends $label as is, without an error or warning', async ({ content, sent }) => {
    server.reply('claude-search', fakeText('ok'));

    const outcome = await runSearch({ model: model(), tools: searchTools(), messages: replayOf({ role: 'assistant', content }) });

    expect(outcome.thrown).toBeUndefined();
    expect(outcome.errors).toEqual([]);
    expect(outcome.warnings).toEqual([]);
    expect(server.requests[0]?.body.messages[1]).toEqual({ role: 'assistant', content: sent });
  });

  it('drops a replayed search with a warning when its renamed tool key is not declared', async () => {
    server.reply('claude-search', fakeText('ok'), fakeText('ok'), fakeText('ok'));
    const renamed: AssistantContent = [
      { ...searchCall, toolName: 'webSearch' },
      { ...searchResult, toolName: 'webSearch' },
      SUNNY,
    ];

    await runSearch({ model: model(), messages: replayOf({ role: 'assistant', content: [searchCall, searchResult, SUNNY] }) });
    const undeclared = await runSearch({ model: model(), messages: replayOf({ role: 'assistant', content: renamed }) });
    const renamedTools = { webSearch: anthropic().tools.webSearch_20250305({}) };
    await runSearch({ model: model(), tools: renamedTools, messages: replayOf({ role: 'assistant', content: renamed }) });

    // The name `web_search` needs no declaration; `webSearch` maps to it only while declared.
    expect(server.requests[0]?.body.messages[1].content).toEqual([serverToolUse, searchToolResult, textBlock]);
    expect(server.requests[1]?.body.messages[1].content).toEqual([textBlock]);
    expect(undeclared.warnings).toEqual([
      { type: 'other', message: 'provider executed tool call for tool webSearch is not supported' },
      { type: 'other', message: 'provider executed tool result for tool webSearch is not supported' },
    ]);
    expect(server.requests[2]?.body.messages[1].content).toEqual([serverToolUse, searchToolResult, textBlock]);
  });

  it('emits an undeclared search as an invalid dynamic call (NoSuchToolError) and still its result', async () => {
    const webSearches = [{ id: 'srvtoolu_search_1', query: 'weather paris', results: SEARCH_RESULTS }];
    server.reply('claude-search', fakeStream({ webSearches, text: 'Sunny.' }));

    const outcome = await runSearch({ model: model() });

    expect(outcome.errors).toEqual([]);
    const call = firstToolCall(outcome);
    expect(call).toMatchObject({ toolCallId: 'srvtoolu_search_1', input: query, providerExecuted: true, dynamic: true, invalid: true });
    expect(NoSuchToolError.isInstance(call?.error)).toBe(true);
    const result = outcome.parts.find((part) => part.type === 'tool-result');
    expect(result).toMatchObject({ toolCallId: 'srvtoolu_search_1', output: searchOutput, providerExecuted: true });
  });
});

describe('provider-executed web search on either client', () => {
  const searchClients = [
    {
      format: 'openai-responses' as const,
      create: (): { model: LanguageModel; tools: ToolSet } => {
        const openai = createOpenAI({ baseURL: server.baseUrl('openai-responses'), apiKey: API_KEY });
        return { model: openai.responses('search-model'), tools: { web_search: openai.tools.webSearch({}) } };
      },
    },
    {
      format: 'anthropic' as const,
      create: (): { model: LanguageModel; tools: ToolSet } => {
        const anthropic = createAnthropic({ baseURL: server.baseUrl('anthropic'), apiKey: API_KEY });
        return { model: anthropic('search-model'), tools: { web_search: anthropic.tools.webSearch_20250305({}) } };
      },
    },
  ];

  it.each(searchClients)('leaves a $format call without its result when the connection drops mid-search', async ({ create }) => {
    server.reply('search-model', fakeWebSearch('weather paris', SEARCH_RESULTS, 'Sunny.', { dropAfterChunks: 0 }));
    const { model, tools } = create();

    const outcome = await runSearch({ model, tools });

    expect(outcome.parts.filter((part) => part.type === 'tool-call')).toMatchObject([{ toolName: 'web_search', providerExecuted: true }]);
    expect(outcome.parts.some((part) => part.type === 'tool-result' || part.type === 'text-delta')).toBe(false);
    if (!APICallError.isInstance(outcome.thrown)) throw new Error(`expected an APICallError to be thrown, got ${String(outcome.thrown)}`);
    expect(outcome.thrown.isRetryable).toBe(true);
  });

  it('fails with MissingToolResultsError, before any request, for an unpaired call NOT marked providerExecuted', async () => {
    const anthropic = createAnthropic({ baseURL: server.baseUrl('anthropic'), apiKey: API_KEY });
    const tools = { web_search: anthropic.tools.webSearch_20250305({}) };
    const clientSideCall = { type: 'tool-call', toolCallId: 'srvtoolu_search_1', toolName: 'web_search', input: { query: 'weather paris' } } as const;

    const outcome = await runSearch({ model: anthropic('search-model'), tools, messages: replayOf({ role: 'assistant', content: [clientSideCall] }) });

    // Only calls without `providerExecuted: true` are checked for results (by `ai` itself, as
    // an error part, not a throw); the provider-executed tables above never fail.
    expect(outcome.thrown).toBeUndefined();
    expect(outcome.errors).toHaveLength(1);
    expect(MissingToolResultsError.isInstance(outcome.errors[0])).toBe(true);
    expect(server.requests).toEqual([]);
  });

  it('refuses a reply with web searches on Chat Completions, which has no server-side tool items', async () => {
    server.reply('search-model', fakeWebSearch('weather paris', SEARCH_RESULTS, 'Sunny.'));

    const outcome = await run(createOpenAI({ baseURL: server.baseUrl('openai-chat'), apiKey: API_KEY }).chat('search-model'));

    expect(onlyApiCallError(outcome).statusCode).toBe(500);
    expect(server.unexpected).toEqual(['fake LLM: webSearches need OpenAI Responses or Anthropic, not Chat Completions (model "search-model")']);
  });
});
