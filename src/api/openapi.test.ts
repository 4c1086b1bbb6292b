import { describe, expect, it } from 'vitest';
import { createOpenApiDocument } from './openapi.js';

describe('the OpenAPI document', () => {
  const document = createOpenApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, any> } };

  it('describes every chat route of the API', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/chats',
        '/api/v1/chats/{chatId}',
        '/api/v1/chats/{chatId}/messages',
        '/api/v1/chats/{chatId}/messages/{messageId}',
        '/api/v1/chats/{chatId}/interrupt',
        '/api/v1/chats/{chatId}/compact',
        '/api/v1/settings/compaction-threshold',
        '/api/v1/chats/{chatId}/queue/{queuedId}/promote',
        '/api/v1/chats/{chatId}/queue/{queuedId}',
        '/api/v1/chats/{chatId}/tool-results',
        '/api/v1/models',
        '/api/v1/chats/{chatId}/stream',
        '/api/v1/usage',
        '/api/v1/providers',
        '/api/v1/providers/{id}',
        '/api/v1/model-configs',
        '/api/v1/model-configs/{id}',
        '/api/v1/usage-limits/users/{id}',
        '/api/v1/workspaces',
        '/api/v1/workspaces/{id}',
        '/api/v1/templates',
        '/api/v1/skills',
        '/api/v1/skills/{name}',
      ]),
    );
  });

  it('derives resource schemas from the zod schemas, with the statuses of the contract', () => {
    const chat = document.components.schemas.Chat;
    expect(chat.properties.status.enum).toEqual(['waiting', 'running', 'interrupting', 'requires_action', 'error']);
    expect(chat.required).toContain('last_error');
    const send = document.components.schemas.SendMessageRequest;
    expect(send.additionalProperties).toBe(false);
    expect(send.properties.busy_behavior.enum).toEqual(['queue', 'interrupt']);
  });

  it('never lets a provider key into a response schema', () => {
    expect(document.components.schemas.Provider.properties.api_key).toBeUndefined();
    expect(document.components.schemas.Provider.properties.has_api_key.type).toBe('boolean');
    expect(document.components.schemas.CreateProviderRequest.properties.api_key.type).toBe('string');
  });

  it('documents every stream event type', () => {
    const variants = document.components.schemas.ChatStreamEvent.oneOf ?? document.components.schemas.ChatStreamEvent.anyOf;
    expect(variants.map((variant: any) => variant.properties.type.const).sort()).toEqual(
      ['action_required', 'error', 'history_reset', 'message', 'message_part', 'queue_update', 'retry', 'status', 'title_change', 'warning'].sort(),
    );
  });

  it('resolves every $ref to a component', () => {
    const refs = JSON.stringify(document).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const ref of refs) expect(document.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
  });
});
