/**
 * The built-in `script` model, a scripted test model: the user's message is a JSON script
 * (`script:{"steps":[…]}`) saying what each step of the turn streams: text, reasoning, tool
 * calls, and how slowly. It runs in any process (a worker killed mid-stream and its
 * replacement replay the same script), which a closure-based fake could not.
 * A script that is not valid JSON fails loudly instead of guessing.
 */
import { type LanguageModelV3CallOptions, type LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BuiltinStreamModel, delay, estimateTokens, lastUserText, promptText, usageOf } from './stream-model.js';

export const SCRIPT_PREFIX = 'script:';

export const ScriptStep = z.object({
  text: z.string().default(''),
  /** The text is this many copies of `text` (large replies without large requests). */
  repeat: z.number().int().min(1).max(1_000_000).default(1),
  reasoning: z.string().default(''),
  /** How many deltas the text is split into. */
  chunks: z.number().int().min(1).default(1),
  /** Pause before each delta, in ms. */
  delayMs: z.number().int().min(0).default(0),
  toolCalls: z.array(z.object({ name: z.string(), args: z.unknown().default({}) })).default([]),
  /** The first N attempts of this step fail with a retryable error after streaming `failAfterChunks` deltas. */
  failAttempts: z.number().int().min(0).default(0),
  failAfterChunks: z.number().int().min(0).default(1),
  /** The input tokens the step reports (instead of an estimate from the prompt), to reach a compaction threshold. */
  inputTokens: z.number().int().min(0).optional(),
  /** The text is the prompt the step received, as JSON `[{role, text}]` (tests read what the model saw). */
  describePrompt: z.boolean().default(false),
});
export type ScriptStep = z.infer<typeof ScriptStep>;

export const Script = z.object({
  steps: z.array(ScriptStep).min(1),
  /** What a title request answers (as `{"title": …}` when asked for JSON); absent, title requests fail. */
  title: z.string().optional(),
  /** What a turn status label request answers; absent, label requests fail. */
  summary: z.string().optional(),
  /** What an `advisor` tool call answers (streamed in `chunks` deltas); absent, advisor calls fail. */
  advice: z.string().optional(),
  /**
   * What a compaction (summary) request answers; absent, those requests fail. The summary
   * carries the script on (with `steps` as its steps, default one plain step), so the steps a
   * turn takes after it, whose prompt starts from the summary, still play a script.
   */
  compaction: z.object({ summary: z.string(), steps: z.array(ScriptStep).min(1).optional() }).optional(),
});
export type Script = z.infer<typeof Script>;

/** Builds the user message that makes the script model play `script`. */
export function scriptMessage(script: z.input<typeof Script>): string {
  return `${SCRIPT_PREFIX}${JSON.stringify(script)}`;
}

function splitInto(text: string, chunks: number): string[] {
  if (text === '') return [];
  const size = Math.ceil(text.length / chunks);
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

/** A scripted provider failure (like a 529 overload): retrying fixes it. */
export class ScriptedProviderError extends Error {
  override readonly name = 'ScriptedProviderError';
  readonly isRetryable = true;
  readonly statusCode = 529;
}

/** A malformed script: retrying cannot fix it. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  readonly isRetryable = false;
}

export class ScriptModel extends BuiltinStreamModel {
  constructor(modelId = 'script') {
    super('script', modelId);
  }

  protected async *parts(options: LanguageModelV3CallOptions): AsyncGenerator<LanguageModelV3StreamPart> {
    // chatd passes side requests (titles, turn labels) the chat's script and their purpose.
    const side = options.providerOptions?.script as { purpose?: string; source?: string } | undefined;
    if (side?.purpose === 'compaction') {
      yield* this.compactionAnswer(side.source ?? '', options);
      return;
    }
    if (side?.purpose === 'title' || side?.purpose === 'turn-label' || side?.purpose === 'advisor') {
      yield* this.sideAnswer(side.purpose, side.source ?? '', options);
      return;
    }
    const source = scriptSource(lastUserText(options.prompt));
    if (!source.startsWith(SCRIPT_PREFIX)) throw new ScriptError(`script model: the user message must start with "${SCRIPT_PREFIX}"`);
    let script: Script;
    try {
      script = Script.parse(JSON.parse(source.slice(SCRIPT_PREFIX.length)));
    } catch (error) {
      throw new ScriptError(`script model: invalid script: ${error instanceof Error ? error.message : String(error)}`);
    }
    const lastUser = options.prompt.map((message) => message.role).lastIndexOf('user');
    const stepIndex = options.prompt.slice(lastUser + 1).filter((message) => message.role === 'assistant').length;
    const step = script.steps[stepIndex] ?? { text: 'Script finished.', repeat: 1, reasoning: '', chunks: 1, delayMs: 0, toolCalls: [], failAttempts: 0, failAfterChunks: 0, describePrompt: false };
    const text = step.describePrompt ? describePrompt(options.prompt) : step.text.repeat(step.repeat);
    // chatd passes the activity attempt to built-in models only (real providers never see it).
    const attempt = Number((options.providerOptions?.script as { attempt?: number } | undefined)?.attempt ?? 1);
    const failing = attempt <= step.failAttempts;
    yield { type: 'stream-start', warnings: [] };
    if (step.reasoning !== '') {
      yield { type: 'reasoning-start', id: 'reasoning-0' };
      yield { type: 'reasoning-delta', id: 'reasoning-0', delta: step.reasoning };
      yield { type: 'reasoning-end', id: 'reasoning-0' };
    }
    const pieces = splitInto(text, step.chunks);
    if (pieces.length > 0) yield { type: 'text-start', id: 'text-0' };
    let sent = 0;
    for (const piece of pieces) {
      if (failing && sent >= step.failAfterChunks) throw new ScriptedProviderError(`scripted overload on attempt ${attempt}`);
      if (step.delayMs > 0) await delay(step.delayMs, options.abortSignal);
      yield { type: 'text-delta', id: 'text-0', delta: piece };
      sent++;
    }
    if (failing) throw new ScriptedProviderError(`scripted overload on attempt ${attempt}`);
    if (pieces.length > 0) yield { type: 'text-end', id: 'text-0' };
    for (const call of step.toolCalls) {
      const toolCallId = `call_${randomUUID()}`;
      const input = JSON.stringify(call.args);
      yield { type: 'tool-input-start', id: toolCallId, toolName: call.name };
      yield { type: 'tool-input-delta', id: toolCallId, delta: input };
      yield { type: 'tool-input-end', id: toolCallId };
      yield { type: 'tool-call', toolCallId, toolName: call.name, input };
    }
    yield {
      type: 'finish',
      finishReason: { unified: step.toolCalls.length > 0 ? 'tool-calls' : 'stop', raw: undefined },
      usage: usageOf(step.inputTokens ?? estimateTokens(promptText(options.prompt)), estimateTokens(text + step.reasoning)),
    };
  }

  /** A summary request: the script's `compaction.summary`, then the script the turn goes on with. */
  private async *compactionAnswer(source: string, options: LanguageModelV3CallOptions): AsyncGenerator<LanguageModelV3StreamPart> {
    const text = scriptSource(source);
    const parsed = text.startsWith(SCRIPT_PREFIX) ? Script.safeParse(safeJson(text.slice(SCRIPT_PREFIX.length))) : undefined;
    const compaction = parsed?.success === true ? parsed.data.compaction : undefined;
    if (parsed?.success !== true || compaction === undefined) throw new ScriptError('script model: the script has no compaction');
    const carried = { ...parsed.data, steps: compaction.steps ?? [{ text: 'Continued from the summary.' }] };
    const answer = compaction.summary === '' ? '' : `${compaction.summary}\n\n${SCRIPT_PREFIX}${JSON.stringify(carried)}`;
    yield { type: 'stream-start', warnings: [] };
    if (answer !== '') {
      yield { type: 'text-start', id: 'text-0' };
      yield { type: 'text-delta', id: 'text-0', delta: answer };
      yield { type: 'text-end', id: 'text-0' };
    }
    yield { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage: usageOf(estimateTokens(promptText(options.prompt)), estimateTokens(answer)) };
  }

  /**
   * A side request: the script's `title`, `summary` or `advice` (titles and labels as JSON when
   * asked for JSON; advice in three deltas, so it streams).
   */
  private async *sideAnswer(purpose: 'title' | 'turn-label' | 'advisor', source: string, options: LanguageModelV3CallOptions): AsyncGenerator<LanguageModelV3StreamPart> {
    const parsed = source.startsWith(SCRIPT_PREFIX) ? Script.safeParse(safeJson(source.slice(SCRIPT_PREFIX.length))) : undefined;
    const field = purpose === 'title' ? 'title' : purpose === 'turn-label' ? 'summary' : 'advice';
    const answer = parsed?.success === true ? parsed.data[field] : undefined;
    if (answer === undefined) throw new ScriptError(`script model: the script has no ${field}`);
    const text = purpose !== 'advisor' && options.responseFormat?.type === 'json' ? JSON.stringify(purpose === 'title' ? { title: answer } : { label: answer }) : answer;
    yield { type: 'stream-start', warnings: [] };
    yield { type: 'text-start', id: 'text-0' };
    for (const piece of purpose === 'advisor' ? splitInto(text, 3) : [text]) yield { type: 'text-delta', id: 'text-0', delta: piece };
    yield { type: 'text-end', id: 'text-0' };
    yield { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage: usageOf(estimateTokens(promptText(options.prompt)), estimateTokens(text)) };
  }
}

/**
 * The script in a user message: the message itself, or, in a summary that carried a script on,
 * the script that starts its last line.
 */
function scriptSource(text: string): string {
  if (text.startsWith(SCRIPT_PREFIX)) return text;
  const carried = text.lastIndexOf(`\n${SCRIPT_PREFIX}`);
  return carried === -1 ? text : text.slice(carried + 1);
}

/** The prompt as `[{role, text}]` JSON: what a `describePrompt` step answers. */
function describePrompt(prompt: LanguageModelV3CallOptions['prompt']): string {
  return JSON.stringify(
    prompt.map((message) => ({
      role: message.role,
      text: typeof message.content === 'string' ? message.content : message.content.flatMap((part) => ('text' in part && typeof part.text === 'string' ? [part.text] : [])).join(''),
    })),
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
