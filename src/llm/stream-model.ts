/**
 * A base for chatd's built-in language models (`echo`, `script`): they implement the AI SDK's
 * LanguageModelV3 interface, so turns run through the same `streamText` code as real providers.
 */
import {
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3GenerateResult,
  type LanguageModelV3Prompt,
  type LanguageModelV3StreamPart,
  type LanguageModelV3StreamResult,
  type LanguageModelV3Usage,
} from '@ai-sdk/provider';

export function usageOf(inputTokens: number, outputTokens: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
  };
}

/** Rough token count: four characters a token. Enough for built-in models' usage figures. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function promptText(prompt: LanguageModelV3Prompt): string {
  return prompt
    .flatMap((message) => (typeof message.content === 'string' ? [message.content] : message.content.flatMap((part) => ('text' in part && typeof part.text === 'string' ? [part.text] : []))))
    .join('\n');
}

export function lastUserText(prompt: LanguageModelV3Prompt): string {
  for (let index = prompt.length - 1; index >= 0; index--) {
    const message = prompt[index]!;
    if (message.role === 'user') return message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  }
  return '';
}

/** Waits `ms`, rejecting early with the signal's reason when aborted. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export abstract class BuiltinStreamModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly supportedUrls = {};

  constructor(
    readonly provider: string,
    readonly modelId: string,
  ) {}

  /** Yields the stream parts of one call. */
  protected abstract parts(options: LanguageModelV3CallOptions): AsyncGenerator<LanguageModelV3StreamPart>;

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const iterator = this.parts(options);
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done === true) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return(undefined);
      },
    });
    return { stream };
  }

  /** The same parts, collected: text and tool calls, the finish reason and usage. */
  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    let text = '';
    const calls: LanguageModelV3GenerateResult['content'] = [];
    let finish: Extract<LanguageModelV3StreamPart, { type: 'finish' }> | undefined;
    for await (const part of this.parts(options)) {
      if (part.type === 'text-delta') text += part.delta;
      else if (part.type === 'tool-call') calls.push(part);
      else if (part.type === 'finish') finish = part;
    }
    return {
      content: [...(text === '' ? [] : [{ type: 'text' as const, text }]), ...calls],
      finishReason: finish?.finishReason ?? { unified: 'stop', raw: undefined },
      usage: finish?.usage ?? usageOf(0, 0),
      warnings: [],
    };
  }
}
