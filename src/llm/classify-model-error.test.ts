import { APICallError, InvalidResponseDataError } from '@ai-sdk/provider';
import { RetryError } from 'ai';
import { describe, expect, it } from 'vitest';
import { type ChatErrorKind } from '../domain/chat.js';
import {
  CLASSIFICATION_RULES,
  MAX_MODEL_ATTEMPTS,
  ModelConfigError,
  ProviderDisabledError,
  StartupTimeoutError,
  StreamIncompleteError,
  classifyModelError,
  errorFacts,
  providerDisplayName,
  retryDelayMs,
} from './classify-model-error.js';

// ---------------------------------------------------------------------------------------------
// Builders: real AI SDK errors with the bodies OpenAI and Anthropic actually send
// ---------------------------------------------------------------------------------------------

function apiError(options: {
  statusCode: number;
  body?: unknown;
  message?: string;
  headers?: Record<string, string>;
  cause?: unknown;
}): APICallError {
  const responseBody = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new APICallError({
    message: options.message ?? providerMessageOf(options.body) ?? `HTTP ${options.statusCode}`,
    url: 'https://api.example.test/v1/messages',
    requestBodyValues: {},
    statusCode: options.statusCode,
    responseHeaders: { 'content-type': 'application/json', ...options.headers },
    responseBody,
    cause: options.cause,
    isRetryable: options.statusCode === 408 || options.statusCode === 409 || options.statusCode === 429 || options.statusCode >= 500,
  });
}

function providerMessageOf(body: unknown): string | undefined {
  const error = (body as { error?: { message?: string } } | undefined)?.error;
  return typeof error?.message === 'string' ? error.message : undefined;
}

const anthropicBody = (type: string, message: string) => ({ type: 'error', error: { type, message } });
const openaiBody = (type: string | null, code: string | null, message: string) => ({
  error: { message, type, param: null, code },
});

const anthropic = (statusCode: number, type: string, message: string, headers?: Record<string, string>) =>
  apiError({ statusCode, body: anthropicBody(type, message), ...(headers ? { headers } : {}) });
const openai = (statusCode: number, type: string | null, code: string | null, message: string, headers?: Record<string, string>) =>
  apiError({ statusCode, body: openaiBody(type, code, message), ...(headers ? { headers } : {}) });

function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const INSUFFICIENT_QUOTA =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.';
const MAX_CONTEXT =
  "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.";

// ---------------------------------------------------------------------------------------------
// The precedence table
// ---------------------------------------------------------------------------------------------

interface Row {
  name: string;
  error: unknown;
  provider?: string;
  kind: ChatErrorKind;
  retryable: boolean;
  message?: string;
}

const rows: Row[] = [
  // 1. overloaded
  {
    name: 'an Anthropic 529 overloaded_error is overloaded and retryable',
    error: anthropic(529, 'overloaded_error', 'Overloaded'),
    provider: 'anthropic',
    kind: 'overloaded',
    retryable: true,
    message: 'Anthropic is temporarily overloaded.',
  },
  {
    name: 'a 529 whose body mentions a rate limit is overloaded, because overloaded beats rate limit',
    error: anthropic(529, 'overloaded_error', 'Overloaded: the rate limit for this model is shared across all users'),
    kind: 'overloaded',
    retryable: true,
  },
  {
    name: 'a 503 that says overloaded is overloaded, because overloaded beats timeout',
    error: openai(503, 'server_error', null, 'The engine is currently overloaded, please try again later'),
    kind: 'overloaded',
    retryable: true,
  },
  // 2. usage_limit
  {
    name: 'a 429 with insufficient_quota is a usage limit, because a hard quota code beats rate limit',
    error: openai(429, 'insufficient_quota', 'insufficient_quota', INSUFFICIENT_QUOTA),
    kind: 'usage_limit',
    retryable: false,
  },
  {
    name: 'a 401 mentioning quota is a usage limit, because usage limit beats strong auth',
    error: apiError({ statusCode: 401, body: { error: { message: 'Unauthorized: monthly quota exhausted for this key' } } }),
    kind: 'usage_limit',
    retryable: false,
  },
  {
    name: 'an Anthropic credit-balance rejection mentioning billing is a usage limit',
    error: anthropic(
      400,
      'invalid_request_error',
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    ),
    kind: 'usage_limit',
    retryable: false,
  },
  {
    name: 'a 402 is a usage limit',
    error: apiError({ statusCode: 402, body: { error: 'Payment Required' } }),
    kind: 'usage_limit',
    retryable: false,
  },
  {
    name: 'a 429 that only says quota and billing is a rate limit, because soft usage text is ignored on a 429',
    error: apiError({
      statusCode: 429,
      body: {
        error: {
          code: 429,
          status: 'RESOURCE_EXHAUSTED',
          message: 'You exceeded your current quota, please check your plan and billing details.',
        },
      },
    }),
    provider: 'google',
    kind: 'rate_limit',
    retryable: true,
    message: 'Google is rate limiting requests.',
  },
  // 3. auth (strong)
  {
    name: 'an Anthropic 401 invalid x-api-key is an auth failure with the fixed message',
    error: anthropic(401, 'authentication_error', 'invalid x-api-key'),
    provider: 'anthropic',
    kind: 'auth',
    retryable: false,
    message: 'Authentication with Anthropic failed. Check the API key and permissions.',
  },
  {
    name: 'an OpenAI invalid_api_key is an auth failure',
    error: openai(401, 'invalid_request_error', 'invalid_api_key', 'Incorrect API key provided: sk-abc***xyz.'),
    provider: 'openai',
    kind: 'auth',
    retryable: false,
    message: 'Authentication with OpenAI failed. Check the API key and permissions.',
  },
  {
    name: 'a 401 that also says invalid model is an auth failure, because strong auth beats config',
    error: apiError({ statusCode: 401, body: { error: { message: 'invalid model or unauthorized key' } } }),
    kind: 'auth',
    retryable: false,
  },
  {
    name: 'a 429 that says unauthorized is an auth failure, because strong auth beats rate limit',
    error: apiError({ statusCode: 429, body: { error: { message: 'Unauthorized: too many failed attempts' } } }),
    kind: 'auth',
    retryable: false,
  },
  // 4. auth (weak)
  {
    name: 'an Anthropic 403 permission_error is an auth failure',
    error: anthropic(403, 'permission_error', 'Your API key does not have permission to use the specified resource.'),
    kind: 'auth',
    retryable: false,
  },
  {
    name: 'a 403 saying model not found is a config error, because weak auth yields to config',
    error: apiError({ statusCode: 403, body: { error: { message: 'Forbidden: model not found for this project' } } }),
    kind: 'config',
    retryable: false,
  },
  // 5. rate_limit
  {
    name: 'an Anthropic 429 rate_limit_error is a rate limit and retryable',
    error: anthropic(429, 'rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute.'),
    provider: 'anthropic',
    kind: 'rate_limit',
    retryable: true,
    message: 'Anthropic is rate limiting requests.',
  },
  {
    name: 'an OpenAI 429 rate_limit_exceeded is a rate limit',
    error: openai(
      429,
      'tokens',
      'rate_limit_exceeded',
      'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000.',
    ),
    kind: 'rate_limit',
    retryable: true,
  },
  {
    name: 'a 429 that says maximum context length is a config error, because rate limit does not beat config',
    error: openai(429, 'invalid_request_error', null, MAX_CONTEXT),
    kind: 'config',
    retryable: false,
  },
  // 6. provider_disabled
  {
    name: 'a chatd ProviderDisabledError is not retryable',
    error: new ProviderDisabledError('The openai provider is disabled in this deployment.'),
    provider: 'openai',
    kind: 'provider_disabled',
    retryable: false,
    message: 'OpenAI has been disabled by an administrator.',
  },
  {
    name: 'a ProviderDisabledError over a gateway 503 is provider_disabled, because provider disabled beats timeout',
    error: new ProviderDisabledError('provider disabled', { cause: apiError({ statusCode: 503, message: 'Service Unavailable' }) }),
    kind: 'provider_disabled',
    retryable: false,
  },
  // content_filter (placed before the timeout rules)
  {
    name: 'an Azure content_filter rejection is a content filter error',
    error: apiError({
      statusCode: 400,
      body: {
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
        },
      },
    }),
    provider: 'azure',
    kind: 'content_filter',
    retryable: false,
    message: 'Azure refused the request under its content policy.',
  },
  {
    name: 'a 503 carrying a content_policy_violation is a content filter error, because content filter beats timeout',
    error: openai(503, null, 'content_policy_violation', 'Your request was rejected as a result of our safety system.'),
    kind: 'content_filter',
    retryable: false,
  },
  // 7. startup_timeout and stream_incomplete (chatd-raised), then timeout
  {
    name: 'a StartupTimeoutError is a retryable startup timeout even though its message says timed out',
    error: new StartupTimeoutError('The model timed out before its first chunk (30 s).'),
    provider: 'anthropic',
    kind: 'startup_timeout',
    retryable: true,
    message: 'Anthropic did not start responding in time.',
  },
  {
    name: 'a StartupTimeoutError that aborted the request is a startup timeout, not a cancellation',
    error: new StartupTimeoutError('no first chunk within 30 s', {
      cause: new DOMException('This operation was aborted', 'AbortError'),
    }),
    kind: 'startup_timeout',
    retryable: true,
  },
  {
    name: 'a StreamIncompleteError is a retryable timeout with its own message',
    error: new StreamIncompleteError('anthropic stream closed before message_stop (EOF)'),
    kind: 'timeout',
    retryable: true,
    message: 'The model stream ended before it finished.',
  },
  {
    name: 'the openai-compatible client’s stream without a finish reason is a retryable timeout',
    error: new InvalidResponseDataError({ data: {}, message: 'Response stream ended without a finish reason.' }),
    kind: 'timeout',
    retryable: true,
    message: 'The model stream ended before it finished.',
  },
  {
    name: 'a 503 is a retryable timeout',
    error: openai(503, 'server_error', null, 'Service Unavailable'),
    provider: 'openai',
    kind: 'timeout',
    retryable: true,
    message: 'OpenAI is temporarily unavailable.',
  },
  ...[408, 502, 504].map(
    (statusCode): Row => ({
      name: `a ${statusCode} is a retryable timeout`,
      error: apiError({ statusCode, message: 'upstream trouble' }),
      kind: 'timeout',
      retryable: true,
    }),
  ),
  {
    name: 'a node ECONNRESET is a retryable timeout',
    error: nodeError('ECONNRESET', 'read ECONNRESET'),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'a fetch failed TypeError caused by a socket reset is a retryable timeout',
    error: new TypeError('fetch failed', { cause: nodeError('ECONNRESET', 'read ECONNRESET') }),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'an undici terminated stream (other side closed) is a retryable timeout',
    error: new TypeError('terminated', { cause: nodeError('UND_ERR_SOCKET', 'other side closed') }),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'a premature close is a retryable timeout',
    error: nodeError('ERR_STREAM_PREMATURE_CLOSE', 'Premature close'),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'an HTTP/2 GOAWAY is a retryable timeout',
    error: new Error('New streams cannot be created after receiving a GOAWAY'),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'an unexpected EOF is a retryable timeout',
    error: new Error('unexpected EOF'),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'an AbortSignal.timeout() TimeoutError is a timeout, not a cancellation',
    error: new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'a RetryError is classified by its last error',
    error: new RetryError({
      message: 'Failed after 3 attempts. Last error: Service Unavailable',
      reason: 'maxRetriesExceeded',
      errors: [openai(400, 'invalid_request_error', 'context_length_exceeded', MAX_CONTEXT), apiError({ statusCode: 503, message: 'Service Unavailable' })],
    }),
    kind: 'timeout',
    retryable: true,
  },
  {
    name: 'a 503 saying invalid model is a config error, because timeout does not beat config',
    error: apiError({ statusCode: 503, body: { error: { message: 'invalid model: gpt-9' } } }),
    kind: 'config',
    retryable: false,
  },
  // 8. config
  {
    name: 'an OpenAI context_length_exceeded is a config error',
    error: openai(400, 'invalid_request_error', 'context_length_exceeded', MAX_CONTEXT),
    provider: 'openai',
    kind: 'config',
    retryable: false,
    message: 'OpenAI rejected the model configuration. Check the selected model and provider settings.',
  },
  {
    name: 'an OpenAI model that does not exist is a config error',
    error: openai(404, 'invalid_request_error', 'model_not_found', 'The model `gpt-9` does not exist or you do not have access to it.'),
    kind: 'config',
    retryable: false,
  },
  {
    name: 'an Anthropic 404 for a model is a config error',
    error: anthropic(404, 'not_found_error', 'model: claude-nonexistent-1'),
    kind: 'config',
    retryable: false,
  },
  {
    name: 'an Anthropic prompt that is too long is a config error',
    error: anthropic(400, 'invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'),
    kind: 'config',
    retryable: false,
  },
  {
    name: 'an OpenAI unsupported parameter is a config error',
    error: openai(
      400,
      'invalid_request_error',
      'unsupported_parameter',
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    ),
    kind: 'config',
    retryable: false,
  },
  {
    name: 'a chatd ModelConfigError is a config error even when it mentions a timeout',
    error: new ModelConfigError('startup timeout must be positive'),
    kind: 'config',
    retryable: false,
  },
  {
    name: 'a 500 mentioning context length is a config error, because config beats generic',
    error: apiError({ statusCode: 500, body: { error: { message: 'context length exceeded while tokenizing' } } }),
    kind: 'config',
    retryable: false,
  },
  // 9. generic
  {
    name: 'an OpenAI 500 server_error is a retryable generic error',
    error: openai(500, 'server_error', null, 'The server had an error while processing your request. Sorry about that!'),
    provider: 'openai',
    kind: 'generic',
    retryable: true,
    message: 'OpenAI returned an unexpected error.',
  },
  {
    name: 'an Anthropic api_error is a retryable generic error',
    error: anthropic(500, 'api_error', 'Internal server error'),
    kind: 'generic',
    retryable: true,
  },
  {
    name: 'an unrecognised 400 is a non-retryable generic error',
    error: anthropic(400, 'invalid_request_error', 'messages: roles must alternate between "user" and "assistant"'),
    kind: 'generic',
    retryable: false,
    message: 'The chat request failed unexpectedly.',
  },
  {
    name: 'a 409 is not retried even though the AI SDK marks it retryable',
    error: apiError({ statusCode: 409, message: 'Conflict' }),
    kind: 'generic',
    retryable: false,
  },
  {
    name: 'a thrown string is a non-retryable generic error',
    error: 'something odd',
    kind: 'generic',
    retryable: false,
    message: 'The chat request failed unexpectedly.',
  },
  // Cancellation, checked before the rules
  {
    name: 'an AbortError is a non-retryable cancellation',
    error: new DOMException('This operation was aborted', 'AbortError'),
    kind: 'generic',
    retryable: false,
    message: 'The request was canceled before it completed.',
  },
  {
    name: 'a fetch failed caused by an abort is a cancellation, because cancellation is checked before timeout',
    error: new TypeError('fetch failed', { cause: new DOMException('This operation was aborted', 'AbortError') }),
    kind: 'generic',
    retryable: false,
    message: 'The request was canceled before it completed.',
  },
  {
    name: 'a plain error saying the request was canceled is a cancellation',
    error: new Error('Request was canceled by the caller.'),
    kind: 'generic',
    retryable: false,
    message: 'The request was canceled before it completed.',
  },
  {
    name: 'a 503 whose body says canceled is a timeout, because a provider status is not our cancellation',
    error: apiError({ statusCode: 503, body: { error: { message: 'upstream request canceled' } } }),
    kind: 'timeout',
    retryable: true,
  },
];

describe('classifyModelError', () => {
  it.each(rows)('$name', ({ error, provider, kind, retryable, message }) => {
    const classified = classifyModelError(error, { provider: provider ?? 'openai' });
    expect(classified.error.kind).toBe(kind);
    expect(classified.error.retryable).toBe(retryable);
    if (message !== undefined) expect(classified.error.message).toBe(message);
  });

  it('keeps the rules in the reference order, with the documented insertions', () => {
    expect(CLASSIFICATION_RULES.map((rule) => rule.id)).toEqual([
      'overloaded',
      'usage_limit',
      'auth_strong',
      'auth_weak',
      'rate_limit',
      'provider_disabled',
      'content_filter',
      'startup_timeout',
      'stream_incomplete',
      'timeout',
      'config',
      'generic_retryable',
      'generic',
    ]);
  });

  it('ends with a rule that matches anything, so every error is classified', () => {
    expect(CLASSIFICATION_RULES.at(-1)?.matches(errorFacts(undefined))).toBe(true);
    expect(classifyModelError(undefined, { provider: 'openai' }).error).toEqual({
      message: 'The chat request failed unexpectedly.',
      kind: 'generic',
      retryable: false,
      provider: 'OpenAI',
    });
  });

  it('fills provider, status code and the provider’s own message as detail', () => {
    const classified = classifyModelError(anthropic(529, 'overloaded_error', 'Overloaded'), { provider: 'anthropic' });
    expect(classified.error).toEqual({
      message: 'Anthropic is temporarily overloaded.',
      kind: 'overloaded',
      retryable: true,
      provider: 'Anthropic',
      status_code: 529,
      detail: 'Overloaded',
    });
  });

  it('uses the chain of messages as detail when no provider answered', () => {
    const error = new TypeError('fetch failed', { cause: nodeError('ECONNRESET', 'read ECONNRESET') });
    expect(classifyModelError(error, { provider: 'ollama' }).error.detail).toBe('fetch failed: read ECONNRESET');
  });

  it('truncates the detail to 500 characters', () => {
    const error = apiError({ statusCode: 400, body: { error: { message: 'x'.repeat(2_000) } } });
    const detail = classifyModelError(error, { provider: 'openai' }).error.detail ?? '';
    expect(Array.from(detail)).toHaveLength(500);
    expect(detail.endsWith('…')).toBe(true);
  });

  it('names an openai-compatible provider by its configured name', () => {
    const classified = classifyModelError(apiError({ statusCode: 529, message: 'busy' }), {
      provider: 'openai-compatible',
      providerName: 'Fireworks',
    });
    expect(classified.error.message).toBe('Fireworks is temporarily overloaded.');
    expect(classified.error.provider).toBe('Fireworks');
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-08-01T12:00:00Z');
  const rateLimited = (headers: Record<string, string>) => anthropic(429, 'rate_limit_error', 'Rate limited', headers);

  it('reads retry-after in seconds', () => {
    expect(classifyModelError(rateLimited({ 'retry-after': '17' }), { provider: 'anthropic' }).retryAfterMs).toBe(17_000);
  });

  it('reads retry-after as an HTTP-date against the injected clock', () => {
    const classified = classifyModelError(rateLimited({ 'retry-after': 'Sat, 01 Aug 2026 12:00:30 GMT' }), {
      provider: 'anthropic',
      now: () => now,
    });
    expect(classified.retryAfterMs).toBe(30_000);
  });

  it('prefers retry-after-ms over retry-after', () => {
    const classified = classifyModelError(rateLimited({ 'retry-after-ms': '1500', 'retry-after': '2' }), { provider: 'openai' });
    expect(classified.retryAfterMs).toBe(1_500);
  });

  it('ignores an HTTP-date in the past and an unparseable value', () => {
    const past = classifyModelError(rateLimited({ 'retry-after': 'Sat, 01 Aug 2026 11:59:00 GMT' }), { provider: 'anthropic', now: () => now });
    expect(past.retryAfterMs).toBeUndefined();
    expect(classifyModelError(rateLimited({ 'retry-after': 'soon' }), { provider: 'anthropic' }).retryAfterMs).toBeUndefined();
  });

  it('passes the hint on for any retryable error, such as an overload', () => {
    const overloaded = anthropic(529, 'overloaded_error', 'Overloaded', { 'retry-after': '5' });
    expect(classifyModelError(overloaded, { provider: 'anthropic' }).retryAfterMs).toBe(5_000);
  });

  it('drops the hint when the error is not retryable', () => {
    const quota = openai(429, 'insufficient_quota', 'insufficient_quota', INSUFFICIENT_QUOTA, { 'retry-after': '20' });
    expect(classifyModelError(quota, { provider: 'openai' }).retryAfterMs).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('doubles from 1 s and caps at 60 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => retryDelayMs(attempt));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(retryDelayMs(MAX_MODEL_ATTEMPTS)).toBe(60_000);
  });

  it('honours a Retry-After hint, clamped to between 0 and 60 s', () => {
    expect(retryDelayMs(6, 2_500)).toBe(2_500);
    expect(retryDelayMs(1, 90_000)).toBe(60_000);
    expect(retryDelayMs(1, -5)).toBe(0);
  });

  it('allows 25 model attempts', () => {
    expect(MAX_MODEL_ATTEMPTS).toBe(25);
  });
});

describe('providerDisplayName', () => {
  it.each([
    ['openai', undefined, 'OpenAI'],
    ['anthropic', undefined, 'Anthropic'],
    ['openai-compatible', 'Together AI', 'Together AI'],
    ['openai-compatible', undefined, 'OpenAI-compatible provider'],
    ['ollama', undefined, 'Ollama'],
    ['openrouter', undefined, 'OpenRouter'],
    ['google', undefined, 'Google'],
    ['azure', undefined, 'Azure'],
    ['bedrock', undefined, 'Bedrock'],
    ['mistral', undefined, 'Mistral'],
  ])('shows %s (configured name %s) as %s', (id, configuredName, expected) => {
    expect(providerDisplayName(id, configuredName)).toBe(expected);
  });
});

describe('errorFacts', () => {
  it('reads the Anthropic error type and message from the response body', () => {
    const facts = errorFacts(anthropic(529, 'overloaded_error', 'Overloaded'));
    expect(facts).toMatchObject({ statusCode: 529, providerErrorType: 'overloaded_error', providerMessage: 'Overloaded' });
  });

  it('reads the OpenAI error type and code from the response body', () => {
    const facts = errorFacts(openai(429, 'insufficient_quota', 'insufficient_quota', INSUFFICIENT_QUOTA));
    expect(facts).toMatchObject({ statusCode: 429, providerErrorType: 'insufficient_quota', providerErrorCode: 'insufficient_quota' });
  });

  it('collects node error codes along the cause chain', () => {
    const facts = errorFacts(new TypeError('fetch failed', { cause: nodeError('ECONNRESET', 'read ECONNRESET') }));
    expect([...facts.codes]).toEqual(['ECONNRESET']);
    expect(facts.text).toContain('fetch failed');
  });

  it('survives a cause cycle', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    Object.assign(first, { cause: second });
    expect(errorFacts(first).messages).toEqual(['first', 'second']);
  });
});
