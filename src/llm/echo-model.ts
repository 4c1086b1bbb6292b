/**
 * The built-in `echo` model: replies with the user's last message, streamed word by word.
 * It needs no API key, so `npm start` gives a working chat out of the box.
 */
import { type LanguageModelV3CallOptions, type LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { BuiltinStreamModel, delay, estimateTokens, lastUserText, promptText, usageOf } from './stream-model.js';

export class EchoModel extends BuiltinStreamModel {
  constructor(
    modelId = 'echo',
    private readonly wordDelayMs = 15,
  ) {
    super('echo', modelId);
  }

  protected async *parts(options: LanguageModelV3CallOptions): AsyncGenerator<LanguageModelV3StreamPart> {
    const reply = `You said: ${lastUserText(options.prompt)}`;
    yield { type: 'stream-start', warnings: [] };
    yield { type: 'text-start', id: 'text-0' };
    for (const word of reply.split(/(?<= )/)) {
      await delay(this.wordDelayMs, options.abortSignal);
      yield { type: 'text-delta', id: 'text-0', delta: word };
    }
    yield { type: 'text-end', id: 'text-0' };
    yield { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: usageOf(estimateTokens(promptText(options.prompt)), estimateTokens(reply)) };
  }
}
