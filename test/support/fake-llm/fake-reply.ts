/**
 * What the fake LLM server answers to one request: a {@link FakeReply}. A reply says *what*
 * the model produces (text, reasoning, tool calls, usage) and *how the wire behaves* (how
 * many deltas, how slowly, whether the connection drops or ends without its terminal
 * event); the server renders it in whichever wire format the request came in on, so one
 * script serves the OpenAI Chat Completions, OpenAI Responses and Anthropic Messages clients.
 *
 * Provider-executed web searches (`webSearches`) come out as the API's own server-side tool
 * items: a `web_search_call` output item on OpenAI Responses, a `server_tool_use` block and its
 * `web_search_tool_result` block on Anthropic. Chat Completions has no such item, so a reply
 * with searches sent there is refused as unexpected.
 *
 * Token counts follow one convention for every format: `usage.input` is the whole prompt,
 * cached tokens included, and `usage.output` is the whole completion, reasoning included.
 * The server converts to each API's own split (Anthropic reports `input_tokens` without the
 * cached part), so the AI SDK's `usage.inputTokens` equals `usage.input` on every client.
 */

/** Token counts of a reply. See the module doc for what `input` and `output` include. */
export interface FakeUsage {
  input: number;
  output: number;
  /** Part of `output` spent on reasoning. */
  reasoning?: number;
  /** Part of `input` read from the provider's prompt cache. */
  cacheRead?: number;
  /** Part of `input` written to the prompt cache (Anthropic's cache creation). */
  cacheWrite?: number;
}

export interface FakeToolCall {
  /** The provider's tool call id; the server makes one up (`call_fake_N`, `toolu_fake_N`) when absent. */
  id?: string;
  name: string;
  /** Serialized with `JSON.stringify` and streamed in fragments. */
  args: unknown;
}

export interface FakeWebSearchResult {
  url: string;
  title: string;
}

/** One search the provider runs on its own side before answering (OpenAI Responses and Anthropic only). */
export interface FakeWebSearch {
  /** The provider's item id; the server makes one up (`ws_fake_N`, `srvtoolu_fake_N`) when absent. */
  id?: string;
  query: string;
  /**
   * The pages found. Anthropic sends them all (with a made-up `encrypted_content`); OpenAI sends
   * only their URLs, as `action.sources`, and only when the request asked for
   * `include: ['web_search_call.action.sources']` (the AI SDK asks whenever the tool is declared).
   */
  results?: FakeWebSearchResult[];
}

/**
 * A successful streamed answer: reasoning first, then web searches, then text, then tool
 * calls, as real models order them.
 */
export interface FakeStreamReply {
  kind: 'stream';
  text?: string;
  reasoning?: string;
  /**
   * Provider-executed web searches, emitted after the reasoning and before the text. Each
   * search's result counts as one content delta for `dropAfterChunks` and `chunkDelayMs` (the
   * search call itself does not), so `dropAfterChunks: 0` cuts the connection after the search
   * call and before its result, on both formats.
   */
  webSearches?: FakeWebSearch[];
  toolCalls?: FakeToolCall[];
  /** Defaults to {@link DEFAULT_FAKE_USAGE}. */
  usage?: FakeUsage;
  /**
   * Splits the text (and the reasoning, each tool call's arguments and, on Anthropic, each web
   * search's input JSON) into this many deltas. Default 3.
   */
  chunks?: number;
  /** Pause before every content delta after the first, in ms. */
  chunkDelayMs?: number;
  /** Pause after the response headers are sent and before the first event, in ms. */
  firstChunkDelayMs?: number;
  /**
   * Destroys the socket after this many content deltas (reasoning, text and tool-argument
   * deltas and web search results all count), without the chunked-encoding terminator: what
   * a dropped connection looks like to the client. 0 drops before the first content delta.
   */
  dropAfterChunks?: number;
  /**
   * Ends the HTTP response cleanly but without the events that say the answer is complete:
   * Chat Completions loses the `finish_reason` chunk, the usage chunk and `[DONE]` (the SDK
   * ignores `[DONE]` itself, so leaving out only that would look like a normal finish);
   * Responses loses `response.completed`; Anthropic loses `message_stop`.
   */
  omitTerminal?: boolean;
}

/** Why an error reply failed; picks the provider's real error type and message for the body. */
export type FakeErrorReason =
  | 'invalid_request'
  | 'context_length'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'rate_limit'
  | 'overloaded'
  | 'server';

/** A non-2xx answer with the API's own error JSON (`{error:{…}}` for OpenAI, `{type:'error',error:{…}}` for Anthropic). */
export interface FakeErrorReply {
  kind: 'error';
  status: number;
  /** Defaults to the reason that matches `status` (see {@link reasonForStatus}). */
  reason?: FakeErrorReason;
  /** Overrides the provider's usual message for the reason. */
  message?: string;
  /** Overrides the provider's error type for the reason (`rate_limit_error`, `invalid_request_error`, …). */
  errorType?: string;
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
}

export type FakeReply = FakeStreamReply | FakeErrorReply;

export const DEFAULT_FAKE_USAGE: FakeUsage = { input: 10, output: 20 };
export const DEFAULT_FAKE_CHUNKS = 3;

type StreamOptions = Omit<FakeStreamReply, 'kind'>;

/** A streamed answer with any mix of reasoning, web searches, text and tool calls. */
export function fakeStream(options: StreamOptions): FakeStreamReply {
  return { kind: 'stream', ...options };
}

/** A streamed text answer, e.g. `fakeText('hi', { chunks: 2, usage: { input: 5, output: 1 } })`. */
export function fakeText(text: string, options: Omit<StreamOptions, 'text'> = {}): FakeStreamReply {
  return { kind: 'stream', ...options, text };
}

/** A streamed answer that calls one tool, e.g. `fakeToolCall('add', { numbers: [1, 2] })`. */
export function fakeToolCall(name: string, args: unknown, options: Omit<StreamOptions, 'toolCalls'> = {}): FakeStreamReply {
  return { kind: 'stream', ...options, toolCalls: [{ name, args }] };
}

/**
 * A streamed answer that searches the web, then answers, e.g.
 * `fakeWebSearch('weather in Paris', [{ url: 'https://example.com', title: 'Paris' }], 'Sunny.')`.
 */
export function fakeWebSearch(
  query: string,
  results: FakeWebSearchResult[],
  text: string,
  options: Omit<StreamOptions, 'webSearches' | 'text'> = {},
): FakeStreamReply {
  return { kind: 'stream', ...options, webSearches: [{ query, results }], text };
}

/** The reason a bare status code stands for, the way the providers use their codes. */
export function reasonForStatus(status: number): FakeErrorReason {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return 'invalid_request';
    case 401:
      return 'authentication';
    case 403:
      return 'permission';
    case 404:
      return 'not_found';
    case 429:
      return 'rate_limit';
    case 529:
      return 'overloaded';
    default:
      return 'server';
  }
}

export interface FakeErrorOptions {
  reason?: FakeErrorReason;
  message?: string;
  errorType?: string;
  /** Sets the `retry-after` header (seconds, as the providers send it). */
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
}

/** An error answer, e.g. `fakeError(429, { retryAfterSeconds: 1 })`. */
export function fakeError(status: number, options: FakeErrorOptions = {}): FakeErrorReply {
  const headers = { ...options.headers };
  if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
  return {
    kind: 'error',
    status,
    reason: options.reason ?? reasonForStatus(status),
    ...(options.message === undefined ? {} : { message: options.message }),
    ...(options.errorType === undefined ? {} : { errorType: options.errorType }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
  };
}

/** Anthropic's 529 `overloaded_error` (OpenAI formats get the same status with a `server_error` body). */
export function fakeOverloaded(options: Omit<FakeErrorOptions, 'reason'> = {}): FakeErrorReply {
  return fakeError(529, { ...options, reason: 'overloaded' });
}

/** 401 with the provider's invalid-API-key error. */
export function fakeAuthError(options: Omit<FakeErrorOptions, 'reason'> = {}): FakeErrorReply {
  return fakeError(401, { ...options, reason: 'authentication' });
}

/** 400 with the provider's real context-window message ("maximum context length", "prompt is too long"). */
export function fakeContextTooLong(options: Omit<FakeErrorOptions, 'reason'> = {}): FakeErrorReply {
  return fakeError(400, { ...options, reason: 'context_length' });
}

/** 500 or 503 with the provider's internal-error body. */
export function fakeServerError(status: 500 | 503 = 500, options: Omit<FakeErrorOptions, 'reason'> = {}): FakeErrorReply {
  return fakeError(status, { ...options, reason: 'server' });
}
