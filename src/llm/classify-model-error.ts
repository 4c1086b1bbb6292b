/**
 * Turns any failure of a model call into a user-facing {@link ChatError} and decides whether
 * retrying can help. This is the single place that decides retryability for model calls: the
 * llm activity retries exactly when `classifyModelError(...).error.retryable` is true, waiting
 * {@link retryDelayMs} between attempts, at most {@link MAX_MODEL_ATTEMPTS} times.
 *
 * How it works: {@link errorFacts} reduces the error (AI SDK `APICallError`/`RetryError`, Node
 * and undici transport errors, chatd's own errors, or anything thrown) to plain facts: the HTTP
 * status, the provider's error type/code/message from the response body, Node error codes, the
 * error names along the `cause` chain, and one lowercased text of every message. Then the
 * first rule of {@link CLASSIFICATION_RULES} that matches wins. The last rule matches anything,
 * so every error gets a classification.
 *
 * Invariants:
 * - The rule order is the contract. It follows the reference order (overloaded, usage limit,
 *   auth, rate limit, provider disabled, timeout, config, generic); deviations are commented
 *   where the rule is defined, and the table test pins each precedence.
 * - Messages never contain the HTTP status (it travels in `status_code`) nor the provider's raw
 *   text (it travels in `detail`, at most {@link MAX_ERROR_DETAIL_CHARS} characters).
 * - chatd's own errors are recognised by `name`, not `instanceof`, so the check survives
 *   wrapping, serialisation and duplicate copies of this module.
 */
import { APICallError } from '@ai-sdk/provider';
import { RetryError } from 'ai';
import { z } from 'zod';
import { type ChatError, type ChatErrorKind } from '../domain/chat.js';

/** Model attempts per step (the first call plus 24 retries). */
export const MAX_MODEL_ATTEMPTS = 25;
/** Backoff before the first retry; it doubles per failed attempt. */
export const INITIAL_RETRY_DELAY_MS = 1_000;
/** Upper bound for every backoff, including a provider's Retry-After. */
export const MAX_RETRY_DELAY_MS = 60_000;
/** `detail` carries at most this many characters of the provider's message. */
export const MAX_ERROR_DETAIL_CHARS = 500;

/** Response bodies larger than this are not parsed for a provider error. */
const MAX_PARSED_BODY_CHARS = 64 * 1024;
/** How many links of a `cause` chain are inspected; guards against cycles and pathological chains. */
const MAX_CHAIN_LINKS = 16;

// ---------------------------------------------------------------------------------------------
// Errors chatd raises itself. Each has a fixed `name`, which is what the classifier matches.
// ---------------------------------------------------------------------------------------------

/** The model config points at a provider an operator has disabled. Not retryable. */
export class ProviderDisabledError extends Error {
  override readonly name = 'ProviderDisabledError';
}

/** The provider sent no first chunk within the startup window. Retryable (`startup_timeout`). */
export class StartupTimeoutError extends Error {
  override readonly name = 'StartupTimeoutError';
}

/**
 * The model stream ended without its terminal event (Anthropic without `message_stop`, a
 * stream without a `finish` part). The output is truncated, so the attempt is retried as a
 * `timeout`.
 */
export class StreamIncompleteError extends Error {
  override readonly name = 'StreamIncompleteError';
}

/** chatd itself rejected the model configuration (unknown model, preflight limits). Not retryable. */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
}

const CHATD_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ProviderDisabledError',
  'StartupTimeoutError',
  'StreamIncompleteError',
  'ModelConfigError',
]);

// ---------------------------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------------------------

/** What the classifier knows about an error, gathered once from its whole `cause` chain. */
export interface ErrorFacts {
  /** Error names along the chain (`AbortError`, `StartupTimeoutError`, `AI_APICallError`, …). */
  names: ReadonlySet<string>;
  /** Node and undici error codes along the chain (`ECONNRESET`, `UND_ERR_SOCKET`, …). */
  codes: ReadonlySet<string>;
  /** HTTP status of the outermost error that has one. */
  statusCode?: number;
  /** Response headers of the outermost `APICallError` that has them. */
  responseHeaders?: Record<string, string>;
  /** Provider error type or status from the body: `overloaded_error`, `insufficient_quota`, `RESOURCE_EXHAUSTED`. */
  providerErrorType?: string;
  /** Provider error code from the body: `context_length_exceeded`, `invalid_api_key`. */
  providerErrorCode?: string;
  /** The provider's own message, from the body or else the `APICallError` message. */
  providerMessage?: string;
  /** Every message of the chain, in order, without repeats (for `detail` when there is no provider message). */
  messages: readonly string[];
  /** Lowercased messages, provider type/code/message and error codes: what text patterns match. */
  text: string;
}

// OpenAI `{error:{type,code,message}}`, Anthropic `{type:'error',error:{type,message}}`,
// Google `{error:{code:429,status,message}}`, Ollama `{error:'…'}`, and bare `{message}`.
// Every field tolerates junk (`.catch`), so one odd field never hides the others.
const OptionalText = z.string().nullish().catch(null);
const ProviderErrorBody = z.object({
  error: z
    .union([
      z.string(),
      z.object({
        type: OptionalText,
        code: z.union([z.string(), z.number()]).nullish().catch(null),
        status: OptionalText,
        message: OptionalText,
      }),
    ])
    .optional()
    .catch(undefined),
  message: OptionalText,
});

interface ProviderErrorFields {
  type?: string;
  code?: string;
  message?: string;
}

function providerErrorFields(body: unknown): ProviderErrorFields | undefined {
  const parsed = ProviderErrorBody.safeParse(body);
  if (!parsed.success) return undefined;
  const { error, message } = parsed.data;
  if (typeof error === 'string') return { message: error };
  const fields: ProviderErrorFields = {};
  const type = error?.type ?? error?.status;
  if (type) fields.type = type;
  if (typeof error?.code === 'string' && error.code !== '') fields.code = error.code;
  const text = error?.message ?? message;
  if (text) fields.message = text;
  return Object.keys(fields).length > 0 ? fields : undefined;
}

function parseJsonBody(body: string | undefined): unknown {
  if (body === undefined || body.length > MAX_PARSED_BODY_CHARS) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function isHttpStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599;
}

/**
 * The error and what it wraps, outermost first: `cause`, a `RetryError`'s `lastError` (only the
 * last: earlier attempts may have failed for other reasons), and an `AggregateError`'s `errors`
 * (undici reports a failed multi-address connect that way).
 */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && chain.length < MAX_CHAIN_LINKS) {
    const link = queue.shift();
    if (link === undefined || link === null || seen.has(link)) continue;
    seen.add(link);
    chain.push(link);
    if (typeof link !== 'object') continue;
    if (RetryError.isInstance(link)) queue.push(link.lastError);
    if (link instanceof AggregateError) queue.push(...(link.errors as unknown[]));
    queue.push((link as { cause?: unknown }).cause);
  }
  return chain;
}

/** Gathers the {@link ErrorFacts} of an error and everything it wraps. */
export function errorFacts(error: unknown): ErrorFacts {
  const names = new Set<string>();
  const codes = new Set<string>();
  const messages: string[] = [];
  let statusCode: number | undefined;
  let responseHeaders: Record<string, string> | undefined;
  let provider: ProviderErrorFields | undefined;

  for (const link of causeChain(error)) {
    if (typeof link === 'string') {
      if (link.trim() !== '' && !messages.includes(link.trim())) messages.push(link.trim());
      continue;
    }
    if (typeof link !== 'object' || link === null) continue;
    const { name, message, code, statusCode: linkStatus, status } = link as Record<string, unknown>;
    if (typeof name === 'string') names.add(name);
    if (typeof code === 'string') codes.add(code);
    if (typeof message === 'string' && message.trim() !== '' && !messages.includes(message.trim())) messages.push(message.trim());
    if (APICallError.isInstance(link)) {
      statusCode ??= link.statusCode;
      responseHeaders ??= link.responseHeaders;
      provider ??= providerErrorFields(parseJsonBody(link.responseBody)) ??
        providerErrorFields(link.data) ?? { message: link.message };
    } else if (statusCode === undefined) {
      // Other SDKs and chatd's scripted errors carry `statusCode` or `status` directly.
      if (isHttpStatus(linkStatus)) statusCode = linkStatus;
      else if (isHttpStatus(status)) statusCode = status;
    }
  }

  const text = [...messages, provider?.type, provider?.code, provider?.message, ...codes]
    .filter((part): part is string => part !== undefined)
    .join('\n')
    .toLowerCase();
  return {
    names,
    codes,
    messages,
    text,
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(responseHeaders === undefined ? {} : { responseHeaders }),
    ...(provider?.type === undefined ? {} : { providerErrorType: provider.type }),
    ...(provider?.code === undefined ? {} : { providerErrorCode: provider.code }),
    ...(provider?.message === undefined ? {} : { providerMessage: provider.message }),
  };
}

// ---------------------------------------------------------------------------------------------
// Signals: the predicates the rules are built from
// ---------------------------------------------------------------------------------------------

type Pattern = string | RegExp;

function mentions(facts: ErrorFacts, patterns: readonly Pattern[]): boolean {
  return patterns.some((pattern) => (typeof pattern === 'string' ? facts.text.includes(pattern) : pattern.test(facts.text)));
}

function hasStatus(facts: ErrorFacts, ...statuses: number[]): boolean {
  return facts.statusCode !== undefined && statuses.includes(facts.statusCode);
}

function raised(facts: ErrorFacts, name: string): boolean {
  return facts.names.has(name);
}

const OVERLOADED_PATTERNS: readonly Pattern[] = ['overloaded'];
/** Hard exhaustion signals: they mean usage_limit whatever the status. */
const USAGE_LIMIT_HARD_PATTERNS: readonly Pattern[] = ['insufficient_quota', 'billing_hard_limit', 'payment required'];
/** Soft signals: ignored on a 429, because per-minute limits say "quota" and "billing" too (Gemini's 429 says both). */
const USAGE_LIMIT_SOFT_PATTERNS: readonly Pattern[] = ['quota', 'billing'];
const AUTH_STRONG_PATTERNS: readonly Pattern[] = [
  'authentication',
  'unauthorized',
  'invalid api key',
  'invalid_api_key',
  'incorrect api key',
  'invalid x-api-key',
];
const AUTH_WEAK_PATTERNS: readonly Pattern[] = ['forbidden', 'permission_error'];
const RATE_LIMIT_PATTERNS: readonly Pattern[] = ['rate limit', 'rate_limit', 'rate-limit', 'too many requests'];
const CONTENT_FILTER_PATTERNS: readonly Pattern[] = [
  'content filter',
  'content_filter',
  'content management policy',
  'content_policy',
  'content policy',
  /\bsafety\b/,
];
const TIMEOUT_PATTERNS: readonly Pattern[] = [
  'deadline exceeded',
  'timed out',
  'timeout',
  'service unavailable',
  'bad gateway',
  // Transport failures: the connection died, the request may well succeed on a new one.
  'econnreset',
  'connection reset',
  'econnrefused',
  'socket hang up',
  'terminated',
  'other side closed',
  'epipe',
  'broken pipe',
  'goaway',
  'stream reset',
  'premature close',
  /\beof\b/,
  'fetch failed',
];
const TRANSPORT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const CONFIG_PATTERNS: readonly Pattern[] = [
  'invalid model',
  'model not found',
  'model_not_found',
  'unsupported model',
  /\bmodel\b.*\bdoes not exist\b/,
  'context length',
  'context_length_exceeded',
  'maximum context length',
  'prompt is too long',
  'unsupported parameter',
  'unsupported_parameter',
];
const GENERIC_RETRYABLE_PATTERNS: readonly Pattern[] = ['server error', 'server_error', 'internal error', 'api_error'];
const CANCELLATION_PATTERNS: readonly Pattern[] = [/\baborted\b/, /\bcancell?ed\b/];

/** Config signals: a model or request the provider will reject however often it is sent. */
function isConfig(facts: ErrorFacts): boolean {
  return (
    raised(facts, 'ModelConfigError') ||
    mentions(facts, CONFIG_PATTERNS) ||
    // A 404 that names a model: Anthropic `not_found_error` "model: claude-…", Ollama "model 'x' not found".
    (hasStatus(facts, 404) && /\bmodel\b/.test(facts.text))
  );
}

/**
 * Our own abort (user interrupt, activity cancellation), as opposed to a provider or network
 * failure. Not when the provider answered with a status (then the provider is the source, and
 * its text is a fact about the provider), not for `AbortSignal.timeout()` (`TimeoutError`, a
 * timeout), and not when a chatd-raised error is in the chain: a startup timeout aborts the
 * request, and its `AbortError` must not hide the timeout.
 */
function isCancellation(facts: ErrorFacts): boolean {
  if (facts.statusCode !== undefined || facts.names.has('TimeoutError')) return false;
  if ([...facts.names].some((name) => CHATD_ERROR_NAMES.has(name))) return false;
  return facts.names.has('AbortError') || facts.codes.has('ABORT_ERR') || mentions(facts, CANCELLATION_PATTERNS);
}

// ---------------------------------------------------------------------------------------------
// Rules: first match wins
// ---------------------------------------------------------------------------------------------

/** One row of the classification table. */
export interface ClassificationRule {
  /** Stable name for tests and logs; several rules may share a kind. */
  readonly id: string;
  readonly kind: ChatErrorKind;
  readonly retryable: boolean;
  matches(facts: ErrorFacts): boolean;
  /** The user-facing message, given the provider's display name. */
  message(provider: string): string;
}

/**
 * The last rule: anything else, including statuses the AI SDK would retry (409, 501…). An
 * unrecognised failure is not retried, so it surfaces instead of spending 25 attempts.
 */
const GENERIC_RULE: ClassificationRule = {
  id: 'generic',
  kind: 'generic',
  retryable: false,
  matches: () => true,
  message: () => 'The chat request failed unexpectedly.',
};

/**
 * The classification table, in precedence order. Deviations from the bare reference list:
 * - usage_limit ignores soft "quota"/"billing" text on a 429 (see USAGE_LIMIT_SOFT_PATTERNS).
 * - rate_limit and timeout yield to config, like weak auth does: a "503 model not found" or a
 *   429 "context length exceeded" would fail identically on every retry, so config signals
 *   beat these ambiguous wrapper statuses and fail fast.
 * - content_filter (a kind without a reference rule) sits after the account-level rules and
 *   before the timeout rules: a filtered request fails the same way every time, so it must beat
 *   wrapper statuses (503, 500), but an account problem is the root cause if both appear.
 * - startup_timeout and stream_incomplete sit directly before timeout: their messages read like
 *   timeouts ("timed out", "EOF"), so they must come first to keep their own kind and message;
 *   they stay behind the provider-stated rules because a provider status in the chain is the
 *   more specific fact.
 */
export const CLASSIFICATION_RULES: readonly ClassificationRule[] = [
  {
    id: 'overloaded',
    kind: 'overloaded',
    retryable: true,
    matches: (facts) => hasStatus(facts, 529) || mentions(facts, OVERLOADED_PATTERNS),
    message: (provider) => `${provider} is temporarily overloaded.`,
  },
  {
    // Before auth: quota/billing text wins over whatever status the provider chose for it.
    id: 'usage_limit',
    kind: 'usage_limit',
    retryable: false,
    matches: (facts) =>
      hasStatus(facts, 402) ||
      mentions(facts, USAGE_LIMIT_HARD_PATTERNS) ||
      (!hasStatus(facts, 429) && mentions(facts, USAGE_LIMIT_SOFT_PATTERNS)),
    message: (provider) =>
      `The usage quota for ${provider} has been exceeded. Check the billing and quota settings for the provider account.`,
  },
  {
    // Before config: bad credentials are the root cause when both signals appear.
    id: 'auth_strong',
    kind: 'auth',
    retryable: false,
    matches: (facts) => hasStatus(facts, 401) || mentions(facts, AUTH_STRONG_PATTERNS),
    message: (provider) => `Authentication with ${provider} failed. Check the API key and permissions.`,
  },
  {
    // Providers answer 403 for "no access to this model" too; that is a config problem.
    id: 'auth_weak',
    kind: 'auth',
    retryable: false,
    matches: (facts) => (hasStatus(facts, 403) || mentions(facts, AUTH_WEAK_PATTERNS)) && !isConfig(facts),
    message: (provider) => `Authentication with ${provider} failed. Check the API key and permissions.`,
  },
  {
    id: 'rate_limit',
    kind: 'rate_limit',
    retryable: true,
    matches: (facts) => (hasStatus(facts, 429) || mentions(facts, RATE_LIMIT_PATTERNS)) && !isConfig(facts),
    message: (provider) => `${provider} is rate limiting requests.`,
  },
  {
    // Before timeout: a disabled provider behind a gateway answers 503.
    id: 'provider_disabled',
    kind: 'provider_disabled',
    retryable: false,
    matches: (facts) => raised(facts, 'ProviderDisabledError'),
    message: (provider) => `${provider} has been disabled by an administrator.`,
  },
  {
    id: 'content_filter',
    kind: 'content_filter',
    retryable: false,
    matches: (facts) => mentions(facts, CONTENT_FILTER_PATTERNS),
    message: (provider) => `${provider} refused the request under its content policy.`,
  },
  {
    id: 'startup_timeout',
    kind: 'startup_timeout',
    retryable: true,
    matches: (facts) => raised(facts, 'StartupTimeoutError'),
    message: (provider) => `${provider} did not start responding in time.`,
  },
  {
    id: 'stream_incomplete',
    kind: 'timeout',
    retryable: true,
    // The openai-compatible client reports a stream that lost its finish chunk itself.
    matches: (facts) => raised(facts, 'StreamIncompleteError') || (facts.names.has('AI_InvalidResponseDataError') && /stream ended without a finish reason/.test(facts.text)),
    message: () => 'The model stream ended before it finished.',
  },
  {
    id: 'timeout',
    kind: 'timeout',
    retryable: true,
    matches: (facts) =>
      (hasStatus(facts, 408, 502, 503, 504) ||
        facts.names.has('TimeoutError') ||
        [...facts.codes].some((code) => TRANSPORT_ERROR_CODES.has(code)) ||
        mentions(facts, TIMEOUT_PATTERNS)) &&
      !isConfig(facts),
    message: (provider) => `${provider} is temporarily unavailable.`,
  },
  {
    id: 'config',
    kind: 'config',
    retryable: false,
    matches: isConfig,
    message: (provider) => `${provider} rejected the model configuration. Check the selected model and provider settings.`,
  },
  {
    id: 'generic_retryable',
    kind: 'generic',
    retryable: true,
    matches: (facts) => hasStatus(facts, 500) || mentions(facts, GENERIC_RETRYABLE_PATTERNS),
    message: (provider) => `${provider} returned an unexpected error.`,
  },
  GENERIC_RULE,
];

const CANCELED_MESSAGE = 'The request was canceled before it completed.';

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------

export interface ClassifyModelErrorContext {
  /** Provider id from the model config: `openai`, `anthropic`, `openai-compatible`, … */
  provider: string;
  /** The configured display name; used for `openai-compatible` providers. */
  providerName?: string;
  /** Clock for HTTP-date Retry-After headers, in epoch milliseconds. Defaults to `Date.now`. */
  now?: () => number;
}

export interface ClassifiedModelError {
  error: ChatError;
  /** The provider's Retry-After hint, for retryable errors only. Pass it to {@link retryDelayMs}. */
  retryAfterMs?: number;
}

/**
 * Classifies a failed model call.
 *
 * @param error - whatever the model call threw, or the error part of its stream.
 * @param context - the provider the call went to (for the message) and an optional clock.
 * @returns the chat error to store and stream, and the provider's Retry-After hint if retrying.
 * @example
 * ```ts
 * const { error, retryAfterMs } = classifyModelError(thrown, { provider: 'anthropic' });
 * if (error.retryable && attempt < MAX_MODEL_ATTEMPTS) delay = retryDelayMs(attempt, retryAfterMs);
 * ```
 */
export function classifyModelError(error: unknown, context: ClassifyModelErrorContext): ClassifiedModelError {
  const facts = errorFacts(error);
  const provider = providerDisplayName(context.provider, context.providerName);
  const base = {
    provider,
    ...(facts.statusCode === undefined ? {} : { status_code: facts.statusCode }),
    ...detailOf(facts),
  };
  if (isCancellation(facts)) {
    return { error: { message: CANCELED_MESSAGE, kind: 'generic', retryable: false, ...base } };
  }
  const rule = CLASSIFICATION_RULES.find((candidate) => candidate.matches(facts)) ?? GENERIC_RULE;
  const classified: ClassifiedModelError = {
    error: { message: rule.message(provider), kind: rule.kind, retryable: rule.retryable, ...base },
  };
  if (rule.retryable) {
    const retryAfterMs = parseRetryAfterMs(facts.responseHeaders, (context.now ?? Date.now)());
    if (retryAfterMs !== undefined) classified.retryAfterMs = retryAfterMs;
  }
  return classified;
}

/** The provider's own message if it sent one, else the chain's messages; at most 500 characters. */
function detailOf(facts: ErrorFacts): { detail?: string } {
  const detail = (facts.providerMessage ?? facts.messages.join(': ')).trim();
  if (detail === '') return {};
  const characters = Array.from(detail); // code points, so an emoji is never cut in half
  if (characters.length <= MAX_ERROR_DETAIL_CHARS) return { detail };
  return { detail: characters.slice(0, MAX_ERROR_DETAIL_CHARS - 1).join('') + '…' };
}

/**
 * Reads a provider's retry hint: `retry-after-ms` (OpenAI, milliseconds) first, then
 * `retry-after` as seconds or an HTTP-date. A hint that is zero, negative, in the past or
 * unparseable counts as absent, so the caller falls back to exponential backoff.
 */
export function parseRetryAfterMs(headers: Record<string, string> | undefined, nowMs: number): number | undefined {
  if (headers === undefined) return undefined;
  const header = (name: string): string | undefined =>
    Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1]?.trim();

  const milliseconds = Number(header('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds > 0) return Math.round(milliseconds);

  const retryAfter = header('retry-after');
  if (retryAfter === undefined || retryAfter === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) {
    const seconds = Number(retryAfter);
    return seconds > 0 ? Math.round(seconds * 1_000) : undefined;
  }
  const at = Date.parse(retryAfter);
  if (Number.isNaN(at) || at <= nowMs) return undefined;
  return at - nowMs;
}

// ---------------------------------------------------------------------------------------------
// Retry policy and display names
// ---------------------------------------------------------------------------------------------

/**
 * How long to wait after the `failedAttempt`-th attempt (1-based) before the next one.
 *
 * Without a hint: 1 s · 2^(n−1), capped at 60 s (1, 2, 4, 8, 16, 32, 60, 60… s).
 * With a provider's Retry-After hint: the hint itself, clamped to [0, 60 s]. The provider knows
 * when its limit resets, so we neither wait longer than it asks (which `max` with the backoff
 * would do late in the sequence) nor hammer it sooner; the 60 s cap keeps a far-off reset from
 * stalling the turn, and {@link MAX_MODEL_ATTEMPTS} still bounds the total.
 */
export function retryDelayMs(failedAttempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) {
    return Math.min(Math.max(retryAfterMs, 0), MAX_RETRY_DELAY_MS);
  }
  const exponent = Math.max(Math.floor(failedAttempt), 1) - 1;
  return Math.min(INITIAL_RETRY_DELAY_MS * 2 ** exponent, MAX_RETRY_DELAY_MS);
}

const PROVIDER_DISPLAY_NAMES: Readonly<Record<string, string>> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  'openai-compatible': 'OpenAI-compatible provider',
  ollama: 'Ollama',
  openrouter: 'OpenRouter',
  google: 'Google',
  azure: 'Azure',
  bedrock: 'Bedrock',
};

/**
 * The name users see for a provider id. An `openai-compatible` provider shows its configured
 * name when it has one; unknown ids are capitalised (`mistral` → `Mistral`).
 */
export function providerDisplayName(id: string, configuredName?: string): string {
  const normalized = id.trim().toLowerCase();
  if (normalized === 'openai-compatible' && configuredName?.trim()) return configuredName.trim();
  const known = PROVIDER_DISPLAY_NAMES[normalized];
  if (known !== undefined) return known;
  if (normalized === '') return 'The model provider';
  return normalized.charAt(0).toUpperCase() + normalized.slice(1);
}
