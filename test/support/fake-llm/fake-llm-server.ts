/**
 * A scriptable fake LLM provider: a real HTTP server on 127.0.0.1 that speaks the streaming
 * wire formats of OpenAI Chat Completions (`POST /v1/chat/completions`), OpenAI Responses
 * (`POST /v1/responses`) and Anthropic Messages (`POST /v1/messages`), so the real AI SDK
 * provider clients talk to it unchanged through `baseURL`.
 *
 * Tests queue {@link FakeReply}s per model with `reply(model, …)`; each request whose JSON
 * `model` matches consumes the oldest one. A request nobody scripted fails loudly: it is
 * answered 500 (`fake LLM: no scripted reply for model "…"`) and recorded in `unexpected`, so
 * a test that ends with `expect(server.unexpected).toEqual([])` catches every surprise call.
 *
 * The event shapes follow the zod chunk schemas of `@ai-sdk/openai`, `@ai-sdk/anthropic` and
 * `@ai-sdk/openai-compatible` (the authority on what the clients accept) and the providers'
 * documented streams (provider-executed web search included), including events the clients
 * ignore (`ping`, `response.in_progress`, `response.content_part.added`,
 * `response.web_search_call.searching`) so a stricter client would see what production sends.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_FAKE_CHUNKS,
  DEFAULT_FAKE_USAGE,
  reasonForStatus,
  type FakeErrorReason,
  type FakeErrorReply,
  type FakeReply,
  type FakeStreamReply,
  type FakeUsage,
  type FakeWebSearchResult,
} from './fake-reply.js';

/** The wire format a request came in on, decided by its path. */
export type FakeLlmFormat = 'openai-chat' | 'openai-responses' | 'anthropic';

const FORMAT_BY_PATH: Record<string, FakeLlmFormat> = {
  '/v1/chat/completions': 'openai-chat',
  '/v1/responses': 'openai-responses',
  '/v1/messages': 'anthropic',
};

export interface RecordedRequest {
  format: FakeLlmFormat;
  model: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON request body, exactly as the client sent it. */
  body: any;
  receivedAt: Date;
}

export interface FakeLlmServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** What to pass as an AI SDK client's `baseURL` for `format` (`${url}/v1` for all three). */
  baseUrl(format: FakeLlmFormat): string;
  /** Queues replies for requests whose body `model` is `model`; each request consumes the oldest. */
  reply(model: string, ...replies: FakeReply[]): void;
  /** How many replies are still queued for `model`, or for all models. */
  pendingReplies(model?: string): number;
  /** Every well-formed request, scripted or not, in arrival order. */
  requests: RecordedRequest[];
  /** One line per request the script did not expect; tests assert it stays empty. */
  unexpected: string[];
  /** Stops listening and cuts open connections, streams in flight included. */
  close(): Promise<void>;
}

/** Starts a fake LLM server on an ephemeral port of 127.0.0.1. */
export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  const queues = new Map<string, FakeReply[]>();
  const requests: RecordedRequest[] = [];
  const unexpected: string[] = [];
  let idCounter = 0;
  const nextId = (prefix: string): string => `${prefix}_fake_${++idCounter}`;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const format = FORMAT_BY_PATH[path];
    const rawBody = await readBody(request);
    if (request.method !== 'POST' || format === undefined) {
      return refuse(response, 404, `fake LLM: no route for ${request.method} ${request.url}`, unexpected);
    }
    let body: any;
    try {
      body = JSON.parse(rawBody);
    } catch {
      return refuse(response, 400, `fake LLM: ${path} body is not JSON: ${rawBody.slice(0, 200)}`, unexpected);
    }
    if (typeof body?.model !== 'string') {
      return refuse(response, 400, `fake LLM: ${path} body has no string "model"`, unexpected);
    }
    const model: string = body.model;
    requests.push({ format, model, headers: request.headers, body, receivedAt: new Date() });

    const reply = queues.get(model)?.shift();
    if (reply === undefined) {
      const message = `fake LLM: no scripted reply for model "${model}"`;
      unexpected.push(`${message} (${format})`);
      return sendError(response, format, { kind: 'error', status: 500, reason: 'server', message }, model, nextId);
    }
    if (reply.kind === 'error') return sendError(response, format, reply, model, nextId);
    if (format === 'openai-chat' && (reply.webSearches ?? []).length > 0) {
      // Chat Completions has no server-side tool items: a script that expects one is wrong.
      const message = `fake LLM: webSearches need OpenAI Responses or Anthropic, not Chat Completions (model "${model}")`;
      unexpected.push(message);
      return sendError(response, format, { kind: 'error', status: 500, reason: 'server', message }, model, nextId);
    }
    if (body.stream !== true) {
      // Only streaming is modelled; a non-streaming call means the code under test changed shape.
      const message = `fake LLM: only streaming requests are supported (model "${model}", ${format})`;
      unexpected.push(message);
      return sendError(response, format, { kind: 'error', status: 500, reason: 'server', message }, model, nextId);
    }
    const context: EncodeContext = {
      model,
      includeUsage: body.stream_options?.include_usage === true,
      includeWebSearchSources: Array.isArray(body.include) && body.include.includes('web_search_call.action.sources'),
      createdAtSeconds: Math.floor(Date.now() / 1000),
      nextId,
    };
    await playStream(response, format, encodeStream(format, reply, context), reply);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      unexpected.push(`fake LLM: handler failed: ${error instanceof Error ? error.stack : String(error)}`);
      response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseUrl: () => `${url}/v1`,
    reply(model, ...replies) {
      const queue = queues.get(model) ?? [];
      queue.push(...replies);
      queues.set(model, queue);
    },
    pendingReplies(model) {
      if (model !== undefined) return queues.get(model)?.length ?? 0;
      return [...queues.values()].reduce((total, queue) => total + queue.length, 0);
    },
    requests,
    unexpected,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function refuse(response: ServerResponse, status: number, message: string, unexpected: string[]): void {
  unexpected.push(message);
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }));
}

// ---------------------------------------------------------------------------------------------
// Errors: each API's real error JSON and typical message for the reason.

interface ProviderError {
  type: string;
  message: string;
  /** OpenAI only. */
  param?: string | null;
  code?: string | null;
}

function openAiError(reason: FakeErrorReason, format: FakeLlmFormat, model: string): ProviderError {
  switch (reason) {
    case 'context_length':
      return format === 'openai-responses'
        ? {
            type: 'invalid_request_error',
            param: 'input',
            code: 'context_length_exceeded',
            message: 'Your input exceeds the context window of this model. Please adjust your input and try again.',
          }
        : {
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
            message:
              "This model's maximum context length is 128000 tokens. However, your messages resulted in 130017 tokens. Please reduce the length of the messages.",
          };
    case 'invalid_request':
      return { type: 'invalid_request_error', param: null, code: null, message: "Invalid request: the fake LLM was scripted to reject it." };
    case 'authentication':
      return {
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
        message: 'Incorrect API key provided: sk-fake*****1234. You can find your API key at https://platform.openai.com/account/api-keys.',
      };
    case 'permission':
      return { type: 'invalid_request_error', param: null, code: 'model_not_found', message: `Project does not have access to model \`${model}\`.` };
    case 'not_found':
      return {
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
      };
    case 'rate_limit':
      return {
        type: 'tokens',
        param: null,
        code: 'rate_limit_exceeded',
        message: `Rate limit reached for ${model} in organization org-fake on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      };
    case 'overloaded':
      return { type: 'server_error', param: null, code: null, message: 'The server is overloaded or not ready yet.' };
    case 'server':
      return { type: 'server_error', param: null, code: null, message: 'The server had an error while processing your request. Sorry about that!' };
  }
}

function anthropicError(reason: FakeErrorReason, model: string): ProviderError {
  switch (reason) {
    case 'context_length':
      return { type: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' };
    case 'invalid_request':
      return { type: 'invalid_request_error', message: 'messages: the fake LLM was scripted to reject this request' };
    case 'authentication':
      return { type: 'authentication_error', message: 'invalid x-api-key' };
    case 'permission':
      return { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' };
    case 'not_found':
      return { type: 'not_found_error', message: `model: ${model}` };
    case 'rate_limit':
      return {
        type: 'rate_limit_error',
        message:
          'This request would exceed the rate limit for your organization of 30,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.',
      };
    case 'overloaded':
      return { type: 'overloaded_error', message: 'Overloaded' };
    case 'server':
      return { type: 'api_error', message: 'Internal server error' };
  }
}

function sendError(response: ServerResponse, format: FakeLlmFormat, reply: FakeErrorReply, model: string, nextId: (prefix: string) => string): void {
  const reason = reply.reason ?? reasonForStatus(reply.status);
  const requestId = nextId('req');
  let body: unknown;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (format === 'anthropic') {
    const error = anthropicError(reason, model);
    body = { type: 'error', error: { type: reply.errorType ?? error.type, message: reply.message ?? error.message }, request_id: requestId };
    headers['request-id'] = requestId;
  } else {
    const error = openAiError(reason, format, model);
    body = { error: { message: reply.message ?? error.message, type: reply.errorType ?? error.type, param: error.param ?? null, code: error.code ?? null } };
    headers['x-request-id'] = requestId;
  }
  response.writeHead(reply.status, { ...headers, ...reply.headers });
  response.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------------------------
// Streams: each format is encoded to a list of SSE frames up front, then played out with the
// reply's timing, drop and truncation rules.

interface SseFrame {
  event?: string;
  /** JSON text, or `[DONE]`. */
  data: string;
  /**
   * Carries reasoning, text or tool-argument bytes, or ends a web search: counted for
   * `dropAfterChunks`, paced by `chunkDelayMs`.
   */
  content?: boolean;
  /** Says the answer is complete: left out under `omitTerminal`. */
  terminal?: boolean;
}

interface EncodeContext {
  model: string;
  /** Chat Completions sends usage only when the request asked with `stream_options.include_usage`. */
  includeUsage: boolean;
  /** Responses sends a web search's `action.sources` only when the request's `include` asks for them. */
  includeWebSearchSources: boolean;
  createdAtSeconds: number;
  nextId: (prefix: string) => string;
}

/** A reply's content with the defaults applied and every string already cut into deltas. */
interface PlannedReply {
  reasoning: string;
  reasoningParts: string[];
  text: string;
  textParts: string[];
  webSearches: Array<{ id: string | undefined; query: string; results: FakeWebSearchResult[]; input: string; inputParts: string[] }>;
  toolCalls: Array<{ id: string | undefined; name: string; args: string; argParts: string[] }>;
  usage: FakeUsage;
}

function plan(reply: FakeStreamReply): PlannedReply {
  const chunks = reply.chunks ?? DEFAULT_FAKE_CHUNKS;
  const reasoning = reply.reasoning ?? '';
  const text = reply.text ?? '';
  return {
    reasoning,
    reasoningParts: splitInto(reasoning, chunks),
    text,
    textParts: splitInto(text, chunks),
    webSearches: (reply.webSearches ?? []).map((search) => {
      const input = JSON.stringify({ query: search.query });
      return { id: search.id, query: search.query, results: search.results ?? [], input, inputParts: splitInto(input, chunks) };
    }),
    toolCalls: (reply.toolCalls ?? []).map((call) => {
      const args = JSON.stringify(call.args ?? {});
      return { id: call.id, name: call.name, args, argParts: splitInto(args, chunks) };
    }),
    usage: reply.usage ?? DEFAULT_FAKE_USAGE,
  };
}

/** Cuts `text` into at most `count` non-empty parts of near-equal length (none for ''). */
function splitInto(text: string, count: number): string[] {
  const characters = Array.from(text); // code points, so a delta never splits a surrogate pair
  const partCount = Math.max(1, Math.min(Math.floor(count), characters.length));
  const parts: string[] = [];
  for (let index = 0; index < partCount; index++) {
    const start = Math.floor((index * characters.length) / partCount);
    const end = Math.floor(((index + 1) * characters.length) / partCount);
    if (end > start) parts.push(characters.slice(start, end).join(''));
  }
  return parts;
}

function encodeStream(format: FakeLlmFormat, reply: FakeStreamReply, context: EncodeContext): SseFrame[] {
  const planned = plan(reply);
  switch (format) {
    case 'openai-chat':
      return encodeChatCompletions(planned, context);
    case 'openai-responses':
      return encodeResponses(planned, context);
    case 'anthropic':
      return encodeAnthropic(planned, context);
  }
}

/**
 * Chat Completions: `data: {chat.completion.chunk}` lines. Reasoning goes out as
 * `delta.reasoning_content` (what DeepSeek, vLLM and Ollama send and openai-compatible reads;
 * the official OpenAI chat client drops it). The finish chunk, the `choices: []` usage chunk
 * and `[DONE]` are the terminal tail.
 */
function encodeChatCompletions(planned: PlannedReply, context: EncodeContext): SseFrame[] {
  const id = context.nextId('chatcmpl');
  const chunk = (choices: unknown[], usage: unknown = null): string =>
    JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created: context.createdAtSeconds,
      model: context.model,
      system_fingerprint: 'fp_fake',
      choices,
      ...(context.includeUsage ? { usage } : {}),
    });
  const choice = (delta: Record<string, unknown>, finishReason: string | null = null): unknown => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });

  const frames: SseFrame[] = [{ data: chunk([choice({ role: 'assistant', content: planned.text === '' ? null : '', refusal: null })]) }];
  for (const part of planned.reasoningParts) frames.push({ data: chunk([choice({ reasoning_content: part })]), content: true });
  for (const part of planned.textParts) frames.push({ data: chunk([choice({ content: part })]), content: true });
  planned.toolCalls.forEach((call, index) => {
    const opening = { index, id: call.id ?? context.nextId('call'), type: 'function', function: { name: call.name, arguments: '' } };
    frames.push({ data: chunk([choice({ tool_calls: [opening] })]) });
    for (const part of call.argParts) {
      frames.push({ data: chunk([choice({ tool_calls: [{ index, function: { arguments: part } }] })]), content: true });
    }
  });
  const finishReason = planned.toolCalls.length > 0 ? 'tool_calls' : 'stop';
  frames.push({ data: chunk([choice({}, finishReason)]), terminal: true });
  if (context.includeUsage) frames.push({ data: chunk([], chatUsage(planned.usage)), terminal: true });
  frames.push({ data: '[DONE]', terminal: true });
  return frames;
}

function chatUsage(usage: FakeUsage): unknown {
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: {
      cached_tokens: usage.cacheRead ?? 0,
      audio_tokens: 0,
      ...(usage.cacheWrite === undefined ? {} : { cache_write_tokens: usage.cacheWrite }),
    },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/**
 * Responses: `event: <type>` + `data: {type, sequence_number, …}`. Reasoning is a `reasoning`
 * output item whose summary streams as `response.reasoning_summary_text.delta`; each web search
 * is a `web_search_call` item (added `in_progress`, then `response.web_search_call.in_progress`,
 * `.searching`, `.completed`, then done `completed` with its `action`); text is a `message`
 * item; each tool call is a `function_call` item. `response.completed` (with the
 * full output and usage) is the only terminal event.
 */
function encodeResponses(planned: PlannedReply, context: EncodeContext): SseFrame[] {
  const frames: SseFrame[] = [];
  let sequence = 0;
  const push = (type: string, payload: Record<string, unknown>, flags: Omit<SseFrame, 'event' | 'data'> = {}): void => {
    frames.push({ event: type, data: JSON.stringify({ type, sequence_number: sequence++, ...payload }), ...flags });
  };
  const responseId = context.nextId('resp');
  const responseObject = (status: string, output: unknown[], usage: unknown): Record<string, unknown> => ({
    id: responseId,
    object: 'response',
    created_at: context.createdAtSeconds,
    status,
    error: null,
    incomplete_details: null,
    model: context.model,
    output,
    parallel_tool_calls: true,
    service_tier: 'default',
    usage,
  });
  const output: unknown[] = [];

  push('response.created', { response: responseObject('in_progress', [], null) });
  push('response.in_progress', { response: responseObject('in_progress', [], null) });

  if (planned.reasoning !== '') {
    const itemId = context.nextId('rs');
    const outputIndex = output.length;
    const location = { item_id: itemId, output_index: outputIndex, summary_index: 0 };
    push('response.output_item.added', { output_index: outputIndex, item: { id: itemId, type: 'reasoning', summary: [] } });
    push('response.reasoning_summary_part.added', { ...location, part: { type: 'summary_text', text: '' } });
    for (const delta of planned.reasoningParts) push('response.reasoning_summary_text.delta', { ...location, delta }, { content: true });
    push('response.reasoning_summary_text.done', { ...location, text: planned.reasoning });
    push('response.reasoning_summary_part.done', { ...location, part: { type: 'summary_text', text: planned.reasoning } });
    const item = { id: itemId, type: 'reasoning', summary: [{ type: 'summary_text', text: planned.reasoning }] };
    push('response.output_item.done', { output_index: outputIndex, item });
    output.push(item);
  }

  for (const search of planned.webSearches) {
    const itemId = search.id ?? context.nextId('ws');
    const outputIndex = output.length;
    const location = { output_index: outputIndex, item_id: itemId };
    push('response.output_item.added', { output_index: outputIndex, item: { id: itemId, type: 'web_search_call', status: 'in_progress' } });
    push('response.web_search_call.in_progress', location);
    push('response.web_search_call.searching', location);
    // The search itself: paced and droppable like a content delta, so a drop lands between call and result.
    push('response.web_search_call.completed', location, { content: true });
    const sources = context.includeWebSearchSources ? { sources: search.results.map(({ url }) => ({ type: 'url', url })) } : {};
    const item = { id: itemId, type: 'web_search_call', status: 'completed', action: { type: 'search', query: search.query, ...sources } };
    push('response.output_item.done', { output_index: outputIndex, item });
    output.push(item);
  }

  if (planned.text !== '') {
    const itemId = context.nextId('msg');
    const outputIndex = output.length;
    const location = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    push('response.output_item.added', {
      output_index: outputIndex,
      item: { id: itemId, type: 'message', status: 'in_progress', content: [], role: 'assistant' },
    });
    push('response.content_part.added', { ...location, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
    for (const delta of planned.textParts) push('response.output_text.delta', { ...location, delta, logprobs: [] }, { content: true });
    push('response.output_text.done', { ...location, text: planned.text, logprobs: [] });
    const part = { type: 'output_text', annotations: [], logprobs: [], text: planned.text };
    push('response.content_part.done', { ...location, part });
    const item = { id: itemId, type: 'message', status: 'completed', content: [part], role: 'assistant' };
    push('response.output_item.done', { output_index: outputIndex, item });
    output.push(item);
  }

  for (const call of planned.toolCalls) {
    const itemId = context.nextId('fc');
    const outputIndex = output.length;
    const callId = call.id ?? context.nextId('call');
    const item = { id: itemId, type: 'function_call', status: 'in_progress', arguments: '', call_id: callId, name: call.name };
    push('response.output_item.added', { output_index: outputIndex, item });
    for (const delta of call.argParts) {
      push('response.function_call_arguments.delta', { item_id: itemId, output_index: outputIndex, delta }, { content: true });
    }
    push('response.function_call_arguments.done', { item_id: itemId, output_index: outputIndex, arguments: call.args });
    const doneItem = { ...item, status: 'completed', arguments: call.args };
    push('response.output_item.done', { output_index: outputIndex, item: doneItem });
    output.push(doneItem);
  }

  const usage = planned.usage;
  push(
    'response.completed',
    {
      response: responseObject('completed', output, {
        input_tokens: usage.input,
        input_tokens_details: {
          cached_tokens: usage.cacheRead ?? 0,
          ...(usage.cacheWrite === undefined ? {} : { cache_write_tokens: usage.cacheWrite }),
        },
        output_tokens: usage.output,
        output_tokens_details: { reasoning_tokens: usage.reasoning ?? 0 },
        total_tokens: usage.input + usage.output,
      }),
    },
    { terminal: true },
  );
  return frames;
}

/**
 * Anthropic Messages: `event: <type>` + `data: {type, …}`. `message_start` carries the input
 * usage (Anthropic's `input_tokens` excludes cache reads and writes, which have their own
 * fields), then one content block per thinking / text / tool_use, then `message_delta` with
 * `stop_reason` and the output usage, then the terminal `message_stop`. A web search is two
 * blocks: `server_tool_use` (name `web_search`, its `{query}` input streamed as
 * `input_json_delta`) and then `web_search_tool_result` carrying every result whole; the
 * searches are counted in `message_delta`'s `usage.server_tool_use.web_search_requests`.
 */
function encodeAnthropic(planned: PlannedReply, context: EncodeContext): SseFrame[] {
  const frames: SseFrame[] = [];
  const push = (type: string, payload: Record<string, unknown>, flags: Omit<SseFrame, 'event' | 'data'> = {}): void => {
    frames.push({ event: type, data: JSON.stringify({ type, ...payload }), ...flags });
  };
  const usage = planned.usage;
  const cacheRead = usage.cacheRead ?? 0;
  const cacheWrite = usage.cacheWrite ?? 0;
  const inputUsage = {
    input_tokens: usage.input - cacheRead - cacheWrite,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };

  push('message_start', {
    message: {
      id: context.nextId('msg'),
      type: 'message',
      role: 'assistant',
      model: context.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...inputUsage, output_tokens: 1, service_tier: 'standard' },
    },
  });
  push('ping', {});

  let index = 0;
  if (planned.reasoning !== '') {
    push('content_block_start', { index, content_block: { type: 'thinking', thinking: '' } });
    for (const thinking of planned.reasoningParts) {
      push('content_block_delta', { index, delta: { type: 'thinking_delta', thinking } }, { content: true });
    }
    const signature = Buffer.from(`fake-signature-${context.nextId('sig')}`).toString('base64');
    push('content_block_delta', { index, delta: { type: 'signature_delta', signature } });
    push('content_block_stop', { index });
    index++;
  }
  for (const search of planned.webSearches) {
    const id = search.id ?? context.nextId('srvtoolu');
    push('content_block_start', { index, content_block: { type: 'server_tool_use', id, name: 'web_search', input: {} } });
    push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const partialJson of search.inputParts) {
      push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partialJson } });
    }
    push('content_block_stop', { index });
    index++;
    const content = search.results.map(({ url, title }) => ({
      type: 'web_search_result',
      title,
      url,
      encrypted_content: Buffer.from(`fake-page-${url}`).toString('base64'),
      page_age: null,
    }));
    // The search itself: paced and droppable like a content delta, so a drop lands between call and result.
    push('content_block_start', { index, content_block: { type: 'web_search_tool_result', tool_use_id: id, content } }, { content: true });
    push('content_block_stop', { index });
    index++;
  }
  if (planned.text !== '') {
    push('content_block_start', { index, content_block: { type: 'text', text: '' } });
    for (const text of planned.textParts) push('content_block_delta', { index, delta: { type: 'text_delta', text } }, { content: true });
    push('content_block_stop', { index });
    index++;
  }
  for (const call of planned.toolCalls) {
    const id = call.id ?? context.nextId('toolu');
    push('content_block_start', { index, content_block: { type: 'tool_use', id, name: call.name, input: {} } });
    push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const partialJson of call.argParts) {
      push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partialJson } }, { content: true });
    }
    push('content_block_stop', { index });
    index++;
  }

  push('message_delta', {
    delta: { stop_reason: planned.toolCalls.length > 0 ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: {
      ...inputUsage,
      output_tokens: usage.output,
      ...(usage.reasoning === undefined ? {} : { output_tokens_details: { thinking_tokens: usage.reasoning } }),
      ...(planned.webSearches.length === 0 ? {} : { server_tool_use: { web_search_requests: planned.webSearches.length } }),
    },
  });
  push('message_stop', {}, { terminal: true });
  return frames;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

async function playStream(response: ServerResponse, format: FakeLlmFormat, frames: SseFrame[], reply: FakeStreamReply): Promise<void> {
  // Aborted when the client goes away or `close()` cuts the connection, so no pause outlives it.
  const clientGone = new AbortController();
  response.on('close', () => clientGone.abort());
  const pause = async (ms: number | undefined): Promise<void> => {
    if (ms === undefined || ms <= 0) return;
    await sleep(ms, undefined, { signal: clientGone.signal }).catch(() => undefined);
  };

  response.writeHead(200, { ...SSE_HEADERS, [format === 'anthropic' ? 'request-id' : 'x-request-id']: 'req_fake_stream' });
  response.flushHeaders();
  await pause(reply.firstChunkDelayMs);

  let contentSent = 0;
  for (const frame of frames) {
    if (clientGone.signal.aborted) return;
    if (reply.omitTerminal === true && frame.terminal === true) continue;
    if (frame.content === true) {
      if (reply.dropAfterChunks !== undefined && contentSent >= reply.dropAfterChunks) {
        // No chunked-encoding terminator: the client sees the connection die mid-body.
        response.destroy();
        return;
      }
      if (contentSent > 0) await pause(reply.chunkDelayMs);
      if (clientGone.signal.aborted) return;
      contentSent++;
    }
    const text = `${frame.event === undefined ? '' : `event: ${frame.event}\n`}data: ${frame.data}\n\n`;
    // Waiting for the flush makes a later `destroy` land after these bytes reached the socket.
    await new Promise<void>((resolve) => response.write(text, () => resolve()));
  }
  response.end();
}
