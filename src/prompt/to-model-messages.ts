/**
 * Stored chat messages → AI SDK model messages. The only place that knows both shapes.
 * Tool results are grouped into the tool message that follows their assistant step.
 */
import { type AssistantContent, type ModelMessage, type UserContent } from 'ai';
import { type ChatMessagePart } from '../domain/chat.js';
import { repairProviderToolParts } from './provider-tool-repair.js';

export interface PromptSourceMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: ChatMessagePart[];
  /** The API key a user message was sent with. */
  apiKeyId?: string | null;
  /** For assistant steps: the model config that made it and the provider's response id. */
  modelConfigId?: string | null;
  providerResponseId?: string | null;
}

/** The API key of the turn in progress: the one its (latest) user message was sent with. */
export function turnApiKeyId(messages: readonly PromptSourceMessage[]): string | null {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role === 'user') return message.apiKeyId ?? null;
  }
  return null;
}

function textOf(parts: ChatMessagePart[]): string {
  return parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
}

function toolOutput(result: unknown, isError: boolean) {
  if (typeof result === 'string') return isError ? ({ type: 'error-text', value: result } as const) : ({ type: 'text', value: result } as const);
  return isError ? ({ type: 'error-json', value: result as never } as const) : ({ type: 'json', value: result as never } as const);
}

/** The bytes of attached files, by file id, loaded by the caller. */
export type AttachedFiles = ReadonlyMap<string, { mediaType: string; data: Uint8Array }>;

/** File ids the user messages attach, to load before `toModelMessages`. */
export function attachedFileIds(messages: readonly PromptSourceMessage[]): string[] {
  return messages.flatMap((message) => (message.role === 'user' ? message.content.flatMap((part) => (part.type === 'file' ? [part.file_id] : [])) : []));
}

function userContent(parts: ChatMessagePart[], files: AttachedFiles): Exclude<UserContent, string> {
  return parts.flatMap((part): Exclude<UserContent, string> => {
    if (part.type === 'text') return [{ type: 'text', text: part.text }];
    if (part.type !== 'file') return [];
    const file = files.get(part.file_id);
    if (file === undefined) return [{ type: 'text', text: `[attachment "${part.name}" is no longer available]` }];
    if (file.mediaType.startsWith('image/')) return [{ type: 'image', image: file.data, mediaType: file.mediaType }];
    // Plain text travels as text: every provider reads it.
    return [{ type: 'text', text: `Attached file "${part.name}":\n${Buffer.from(file.data).toString('utf8')}` }];
  });
}

export function toModelMessages(messages: readonly PromptSourceMessage[], files: AttachedFiles = new Map()): ModelMessage[] {
  const output: ModelMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        output.push({ role: 'system', content: textOf(message.content) });
        break;
      case 'user':
        output.push({ role: 'user', content: userContent(message.content, files) });
        break;
      case 'assistant':
        output.push({
          role: 'assistant',
          // Repaired again here: a history stored before repair existed must still be accepted.
          content: repairProviderToolParts(message.content).flatMap((part): Exclude<AssistantContent, string> => {
            if (part.type === 'text') return [{ type: 'text' as const, text: part.text }];
            if (part.type === 'reasoning') return [{ type: 'reasoning' as const, text: part.text }];
            if (part.type === 'tool-call') {
              return [{ type: 'tool-call' as const, toolCallId: part.tool_call_id, toolName: part.tool_name, input: part.args, ...(part.provider_executed === true ? { providerExecuted: true } : {}) }];
            }
            if (part.type === 'tool-result' && part.provider_executed === true) {
              return [{ type: 'tool-result' as const, toolCallId: part.tool_call_id, toolName: part.tool_name, output: toolOutput(part.result, part.is_error) }];
            }
            return [];
          }),
        });
        break;
      case 'tool': {
        const results = message.content.flatMap((part) =>
          part.type === 'tool-result'
            ? [{ type: 'tool-result' as const, toolCallId: part.tool_call_id, toolName: part.tool_name, output: toolOutput(part.result, part.is_error) }]
            : [],
        );
        const previous = output[output.length - 1];
        if (previous !== undefined && previous.role === 'tool') previous.content.push(...results);
        else output.push({ role: 'tool', content: results });
        break;
      }
    }
  }
  return output;
}
