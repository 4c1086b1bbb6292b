/**
 * The chat API. Handlers validate input, check ownership (another user's chat is a 404), then
 * either read PostgreSQL or send a command to the chat's workflow: they never write chat state.
 */
import { Router, type Request } from 'express';
import { type ChatMessagePart } from '../domain/chat.js';
import { createChatReads } from '../db/chat-reads.js';
import { chatFromRow, chatMessageFromRow, queuedMessageFromRow, type ChatRow } from '../db/chat-rows.js';
import { type Pool } from '../db/pool.js';
import { type ChatCommands } from '../temporal/chat-client.js';
import { type UsageLedger } from '../db/usage.js';
import { createChatFiles, type ChatFiles } from '../db/chat-files.js';
import { MAX_FILES_PER_MESSAGE } from '../domain/chat-file.js';
import { fallbackChatTitle, partsText } from '../domain/chat-title.js';
import { type Logger } from '../logger.js';
import { currentUser } from './auth.js';
import { chatIdFor } from './chat-id.js';
import {
  ChatIdParams,
  CreateChatRequest,
  EditMessageRequest,
  ListChatsQuery,
  ListMessagesQuery,
  SendMessageRequest,
  SubmitToolResultsRequest,
  UpdateChatRequest,
  type InputContent,
} from './chat-schemas.js';
import { HttpError } from './http-error.js';
import { assertWithinSpendLimit } from './spend-limit.js';
import { assertWorkspaceOwned } from './workspace-routes.js';
import { assertUsableMcpServers } from './mcp-server-routes.js';
import { createMcpServerCatalogue, type McpServerCatalogue } from '../db/mcp-servers.js';
import { parseRequest } from './validate.js';

export interface ChatRoutesDependencies {
  pool: Pool;
  commands: ChatCommands;
  /** Spend limits are checked before a turn starts; absent, nothing is limited. */
  usage?: UsageLedger;
  /** Checks `mcp_server_ids`; default: the catalogue on `pool` (it only reads here). */
  mcpServers?: McpServerCatalogue;
  logger?: Logger;
}

/** Message content as stored: text parts, and file parts resolved against the sender's uploads. */
async function toParts(files: ChatFiles, ownerId: string, content: InputContent): Promise<ChatMessagePart[]> {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const fileIds = content.flatMap((part) => (part.type === 'file' ? [part.file_id] : []));
  if (fileIds.length > MAX_FILES_PER_MESSAGE) throw new HttpError(400, `A message may attach at most ${MAX_FILES_PER_MESSAGE} files.`);
  const owned = await files.ownedFiles(ownerId, fileIds);
  return content.map((part): ChatMessagePart => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    const file = owned.get(part.file_id);
    if (file === undefined) throw new HttpError(400, `File not found: ${part.file_id}.`, 'Upload it first with POST /api/v1/files; files are private to their uploader.');
    return { type: 'file', file_id: file.id, name: file.name, media_type: file.media_type };
  });
}

/** The fallback title of a chat created from `parts` (see `fallbackChatTitle`). */
export function fallbackTitle(parts: ChatMessagePart[]): string {
  return fallbackChatTitle(partsText(parts));
}

function encodeCursor(row: ChatRow): string {
  return Buffer.from(`${row.updated_at.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { updatedAt: string; id: string } {
  const [updatedAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (updatedAt === undefined || id === undefined || Number.isNaN(Date.parse(updatedAt))) throw new HttpError(400, 'Invalid cursor.', 'Pass the next_cursor of a previous page unchanged.');
  return { updatedAt, id };
}

function parseLabelFilters(label: string | string[] | undefined): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const entry of label === undefined ? [] : Array.isArray(label) ? label : [label]) {
    const separator = entry.indexOf(':');
    if (separator <= 0) throw new HttpError(400, 'Invalid label filter.', 'Use label=key:value.');
    filters[entry.slice(0, separator)] = entry.slice(separator + 1);
  }
  return filters;
}

export function createChatRouter(dependencies: ChatRoutesDependencies): Router {
  const router = Router();
  const reads = createChatReads(dependencies.pool);
  const files = createChatFiles(dependencies.pool);
  const { commands } = dependencies;
  const mcpServers = dependencies.mcpServers ?? createMcpServerCatalogue(dependencies.pool, undefined);

  const ownedChat = async (request: Request): Promise<ChatRow> => {
    const params = ChatIdParams.safeParse(request.params);
    if (!params.success) throw new HttpError(404, 'Chat not found.');
    const chat = await reads.getOwnedChat(params.data.chatId, currentUser(request).id);
    if (chat === undefined) throw new HttpError(404, 'Chat not found.');
    return chat;
  };

  const checkSpend = (request: Request): Promise<void> => assertWithinSpendLimit(dependencies.usage, currentUser(request).id, dependencies.logger);

  const checkModel = async (modelConfigId: string | undefined): Promise<string | null> => {
    if (modelConfigId === undefined) return null;
    if (!(await reads.isUsableModelConfig(modelConfigId))) throw new HttpError(400, 'Invalid model config ID.');
    return modelConfigId;
  };

  const numericParam = (value: unknown, message: string): number => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new HttpError(400, message);
    return parsed;
  };

  router.post('/chats', async (request, response) => {
    const body = parseRequest(CreateChatRequest, request.body);
    const user = currentUser(request);
    const content = await toParts(files, user.id, body.content);
    const modelConfigId = await checkModel(body.model_config_id);
    if (body.workspace_id !== undefined) await assertWorkspaceOwned(dependencies.pool, user.id, body.workspace_id);
    if (body.mcp_server_ids !== undefined) await assertUsableMcpServers(mcpServers, body.mcp_server_ids);
    const chatId = chatIdFor(user.id, body.client_message_id);
    const existing = await reads.getChat(chatId);
    if (existing !== undefined && existing.owner_id === user.id) {
      response.status(201).json(chatFromRow(existing));
      return;
    }
    await checkSpend(request);
    await commands.createChat(chatId, {
      ownerId: user.id,
      title: body.title ?? fallbackTitle(content),
      content,
      modelConfigId,
      systemPrompt: body.system_prompt ?? null,
      labels: body.labels ?? {},
      dynamicTools: body.dynamic_tools ?? [],
      clientMessageId: body.client_message_id ?? null,
      apiKeyId: currentUser(request).apiKeyId,
      workspaceId: body.workspace_id ?? null,
      mcpServerIds: body.mcp_server_ids ?? [],
      ...(body.plan_mode === undefined ? {} : { planMode: body.plan_mode }),
    });
    const created = await reads.getChat(chatId);
    if (created === undefined) throw new Error(`chat ${chatId} was created but cannot be read`);
    response.status(201).json(chatFromRow(created));
  });

  router.get('/chats', async (request, response) => {
    const query = parseRequest(ListChatsQuery, request.query, 'query');
    const rows = await reads.listChats({
      ownerId: currentUser(request).id,
      ...(query.archived === undefined ? {} : { archived: query.archived }),
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.parent_chat_id === undefined ? {} : { parentChatId: query.parent_chat_id }),
      labels: parseLabelFilters(query.label),
      ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor) }),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    response.json({ chats: page.map(chatFromRow), next_cursor: rows.length > query.limit && last !== undefined ? encodeCursor(last) : null });
  });

  router.get('/chats/:chatId', async (request, response) => {
    response.json(chatFromRow(await ownedChat(request)));
  });

  router.patch('/chats/:chatId', async (request, response) => {
    const chat = await ownedChat(request);
    const body = parseRequest(UpdateChatRequest, request.body);
    if (body.archived === true && chat.archived) throw new HttpError(400, 'Chat is already archived.');
    if (body.archived === false && !chat.archived) throw new HttpError(400, 'Chat is not archived.');
    if (body.archived === false && chat.parent_chat_id !== null && (await reads.getChat(chat.parent_chat_id))?.archived === true) {
      throw new HttpError(400, 'Cannot unarchive a sub-agent chat while its parent chat is archived.', 'Unarchive the parent chat first.');
    }
    if (typeof body.workspace_id === 'string') await assertWorkspaceOwned(dependencies.pool, currentUser(request).id, body.workspace_id);
    if (body.mcp_server_ids !== undefined) await assertUsableMcpServers(mcpServers, body.mcp_server_ids);
    const { workspace_id: workspaceId, mcp_server_ids: mcpServerIds, plan_mode: planMode, ...fields } = body;
    await commands.updateChat(chat.id, {
      ...fields,
      ...(workspaceId === undefined ? {} : { workspaceId }),
      ...(mcpServerIds === undefined ? {} : { mcpServerIds }),
      ...(planMode === undefined ? {} : { planMode }),
    });
    response.json(chatFromRow((await reads.getChat(chat.id))!));
  });

  // Runs as the chat workflow's Update (the model call is an activity on a worker); the API
  // only checks ownership and spend. 409 while another regeneration of this chat runs.
  router.post('/chats/:chatId/title/regenerate', async (request, response) => {
    const chat = await ownedChat(request);
    await checkSpend(request);
    await commands.regenerateTitle(chat.id, currentUser(request).apiKeyId);
    response.json(chatFromRow((await reads.getChat(chat.id))!));
  });

  // Summarises the conversation now, through the chat workflow (the only writer of its
  // messages). 409 while a turn runs (it compacts by itself at the threshold) or when nothing
  // is new since the last summary.
  router.post('/chats/:chatId/compact', async (request, response) => {
    const chat = await ownedChat(request);
    await checkSpend(request);
    response.json(await commands.compact(chat.id, currentUser(request).apiKeyId));
  });

  router.get('/chats/:chatId/messages', async (request, response) => {
    const chat = await ownedChat(request);
    const query = parseRequest(ListMessagesQuery, request.query, 'query');
    const page = await reads.listMessages(chat.id, { ...(query.before_id === undefined ? {} : { beforeId: query.before_id }), limit: query.limit });
    // Queued messages belong to the newest page only.
    const queued = query.before_id === undefined ? await reads.listQueued(chat.id) : [];
    response.json({ messages: page.messages.map(chatMessageFromRow), queued_messages: queued.map(queuedMessageFromRow), has_more: page.hasMore });
  });

  router.post('/chats/:chatId/messages', async (request, response) => {
    // The spend check runs alongside the ownership read (a send's first token waits on both);
    // its verdict still comes after every 404 and 400.
    const spend = checkSpend(request);
    spend.catch(() => undefined);
    const chat = await ownedChat(request);
    const raw = request.body as { busy_behavior?: unknown } | undefined;
    if (raw?.busy_behavior !== undefined && raw.busy_behavior !== 'queue' && raw.busy_behavior !== 'interrupt') throw new HttpError(400, 'Invalid busy_behavior value.', 'Use "queue" or "interrupt".');
    const body = parseRequest(SendMessageRequest, request.body);
    if (chat.archived) throw new HttpError(400, 'Cannot send messages to an archived chat.');
    await spend;
    const result = await commands.sendMessage(chat.id, {
      content: await toParts(files, currentUser(request).id, body.content),
      modelConfigId: await checkModel(body.model_config_id),
      busyBehavior: body.busy_behavior ?? 'queue',
      clientMessageId: body.client_message_id ?? null,
      apiKeyId: currentUser(request).apiKeyId,
      ...(body.plan_mode === undefined ? {} : { planMode: body.plan_mode }),
    });
    const message = result.messageId === null ? undefined : await reads.getMessage(chat.id, result.messageId);
    const queued = result.queuedMessageId === null ? undefined : await reads.getQueued(chat.id, result.queuedMessageId);
    response.json({
      queued: result.queued,
      ...(message === undefined ? {} : { message: chatMessageFromRow(message) }),
      ...(queued === undefined ? {} : { queued_message: queuedMessageFromRow(queued) }),
    });
  });

  router.patch('/chats/:chatId/messages/:messageId', async (request, response) => {
    const chat = await ownedChat(request);
    const messageId = numericParam(request.params.messageId, 'Invalid chat message ID.');
    const body = parseRequest(EditMessageRequest, request.body);
    const modelConfigId = await checkModel(body.model_config_id);
    const original = await reads.getMessage(chat.id, messageId);
    // Model-only messages (a compaction's summary) are not the user's to see, nor to edit.
    if (original === undefined || original.visibility === 'model') throw new HttpError(404, 'Chat message not found.');
    if (original.role !== 'user') throw new HttpError(400, 'Only user messages can be edited.');
    await checkSpend(request);
    const result = await commands.editMessage(chat.id, { messageId, content: await toParts(files, currentUser(request).id, body.content), modelConfigId, clientMessageId: body.client_message_id ?? null, apiKeyId: currentUser(request).apiKeyId });
    const replacement = await reads.getMessage(chat.id, result.messageId);
    if (replacement === undefined) throw new HttpError(409, 'The edited message was replaced again.', 'Reload the chat.');
    response.json(chatMessageFromRow(replacement));
  });

  router.post('/chats/:chatId/interrupt', async (request, response) => {
    const chat = await ownedChat(request);
    await commands.interrupt(chat.id);
    response.json(chatFromRow((await reads.getChat(chat.id))!));
  });

  router.post('/chats/:chatId/queue/:queuedId/promote', async (request, response) => {
    const chat = await ownedChat(request);
    await checkSpend(request);
    await commands.promoteQueued(chat.id, numericParam(request.params.queuedId, 'Invalid queued message ID.'));
    response.status(202).json({ message: 'Queued message promotion accepted.' });
  });

  router.delete('/chats/:chatId/queue/:queuedId', async (request, response) => {
    const chat = await ownedChat(request);
    await commands.deleteQueued(chat.id, numericParam(request.params.queuedId, 'Invalid queued message ID.'));
    response.status(204).end();
  });

  router.post('/chats/:chatId/tool-results', async (request, response) => {
    const chat = await ownedChat(request);
    const body = parseRequest(SubmitToolResultsRequest, request.body);
    await commands.submitToolResults(chat.id, body.results);
    response.status(204).end();
  });

  router.get('/models', async (_request, response) => {
    const models = await reads.listEnabledModels();
    response.json({
      models: models.map((model) => ({
        id: model.id,
        provider: model.provider,
        model: model.model,
        display_name: model.display_name,
        is_default: model.is_default,
        context_limit: model.context_limit,
      })),
    });
  });

  return router;
}
