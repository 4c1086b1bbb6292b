/** Helpers for chat scenarios: create chats, wait for statuses, read messages and events. */
import { expect } from 'vitest';
import { readChatEvents } from '../../src/db/chat-events.js';
import { type Pool } from '../../src/db/pool.js';
import { scriptMessage, type Script } from '../../src/llm/script-model.js';
import { type ApiClient, waitFor } from './http.js';
import { describeChatWorkflow } from './workflow-diagnostics.js';
import { type z } from 'zod';

export type ScriptInput = z.input<typeof Script>;

/** A script whose single step streams `text` in up to `chunks` deltas, `delayMs` apart. */
export function slowScript(text: string, chunks = 20, delayMs = 100): ScriptInput {
  return { steps: [{ text, chunks, delayMs }] };
}

export function script(input: ScriptInput): string {
  return scriptMessage(input);
}

export async function createChat(api: ApiClient, body: Record<string, unknown>): Promise<any> {
  const response = await api.post('/api/v1/chats', body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

export async function waitForStatus(api: ApiClient, chatId: string, status: string, timeoutMs = 45_000): Promise<any> {
  return waitFor(
    async () => {
      const response = await api.get(`/api/v1/chats/${chatId}`);
      return response.body.status === status ? response.body : undefined;
    },
    `chat ${chatId} to be ${status}`,
    timeoutMs,
  );
}

export async function listMessages(api: ApiClient, chatId: string): Promise<{ messages: any[]; queued_messages: any[] }> {
  const response = await api.get(`/api/v1/chats/${chatId}/messages?limit=200`);
  expect(response.status).toBe(200);
  return response.body;
}

/** The text of a message's text parts. */
export function textOf(message: any): string {
  return message.content
    .filter((part: any) => part.type === 'text')
    .map((part: any) => part.text)
    .join('');
}

/** Waits until the chat has streamed at least one assistant text delta. */
export async function waitForFirstDelta(pool: Pool, chatId: string): Promise<void> {
  await waitFor(async () => {
    const events = await readChatEvents(pool, chatId, 0);
    return events.some((event) => event.type === 'message_part') ? true : undefined;
  }, 'the first streamed part');
}

/** Waits until the chat's workflow has settled on `status` with nothing left to do. */
export async function waitForIdle(api: ApiClient, chatId: string): Promise<any> {
  try {
    return await waitFor(async () => {
      const response = await api.get(`/api/v1/chats/${chatId}`);
      const chat = response.body;
      return (chat.status === 'waiting' || chat.status === 'error') && chat.queued_count === 0 ? chat : undefined;
    }, `chat ${chatId} to become idle`);
  } catch (error) {
    // Say where it stopped, so a stall can be told from a slow machine.
    const chat = (await api.get(`/api/v1/chats/${chatId}`)).body;
    const { messages, queued_messages } = await listMessages(api, chatId);
    throw new Error(
      `${(error as Error).message}; last seen status=${chat.status} queued_count=${chat.queued_count} queue=${queued_messages.length} messages=${messages.map((message) => message.role[0]).join('')}; workflow: ${await describeChatWorkflow(chatId)}`,
      { cause: error },
    );
  }
}

/** The chat's tool-result parts, in order. */
export async function toolResultParts(api: ApiClient, chatId: string): Promise<any[]> {
  const { messages } = await listMessages(api, chatId);
  return messages.flatMap((message) => message.content.filter((part: any) => part.type === 'tool-result'));
}
