import { APICallError } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { isBrokenChainError, planResponseChain } from './response-chain.js';
import { type PromptSourceMessage } from './to-model-messages.js';

const text = (value: string) => [{ type: 'text' as const, text: value }];
const system: PromptSourceMessage = { role: 'system', content: text('be brief') };
const user = (value: string): PromptSourceMessage => ({ role: 'user', content: text(value) });
const assistant = (responseId: string | null, modelConfigId = 'model-a'): PromptSourceMessage => ({ role: 'assistant', content: text('answer'), providerResponseId: responseId, modelConfigId });
const toolResult: PromptSourceMessage = { role: 'tool', content: [{ type: 'tool-result', tool_call_id: 'c1', tool_name: 'add', result: 5, is_error: false }] };

describe('planResponseChain', () => {
  it('chains from the newest assistant step, sending the system prompt and what followed it', () => {
    const chain = planResponseChain([system, user('hi'), assistant('resp_1'), toolResult], 'model-a');
    expect(chain).toEqual({ previousResponseId: 'resp_1', messages: [system, toolResult] });
  });

  it('sends full history for a first step', () => {
    expect(planResponseChain([system, user('hi')], 'model-a')).toBeUndefined();
  });

  it('sends full history when the newest step has no response id (e.g. it was interrupted)', () => {
    expect(planResponseChain([user('hi'), assistant('resp_1'), user('more'), assistant(null), user('again')], 'model-a')).toBeUndefined();
  });

  it('sends full history when the newest step came from another model', () => {
    expect(planResponseChain([user('hi'), assistant('resp_1', 'model-b'), user('again')], 'model-a')).toBeUndefined();
  });
});

describe('isBrokenChainError', () => {
  it('recognises OpenAI’s answer for a previous response it no longer has', () => {
    const error = new APICallError({
      message: "Previous response with id 'resp_1' not found.",
      url: 'https://api.openai.com/v1/responses',
      requestBodyValues: {},
      statusCode: 400,
      responseBody: JSON.stringify({ error: { message: "Previous response with id 'resp_1' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' } }),
    });
    expect(isBrokenChainError(error)).toBe(true);
    expect(isBrokenChainError(new Error('rate limited'))).toBe(false);
  });
});
