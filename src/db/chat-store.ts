/**
 * Chat writes, each one transaction that also appends the stream events describing it.
 * Called only from activities of the chat's workflow (the single writer). Turn-scoped writes
 * are fenced: they lock the chat row and write nothing when `turn_count` has moved past the
 * caller's turn, so a superseded turn can never append to a history that was edited.
 * Every write is idempotent (keys on messages and queue rows), because activities retry.
 *
 * Idempotent is not enough on its own: the workflow runs these as local activities inside its
 * workflow tasks, and Temporal can discard a workflow task after its local activities committed
 * (a speculative task carrying Updates can be lost; a worker can die mid-task). The workflow then
 * reruns from its last recorded point and may receive the Updates in another order, so a key can
 * stand for another message in the rerun than the one the discarded run wrote under it (say
 * `turn:2:user`). So the writes that carry the workflow's state converge on what the workflow says
 * now instead of keeping the first writer's row: the queue mirror is rewritten from the workflow's
 * queue (`matchQueue`), and a turn's user message retires any other row written for that turn or a
 * later one (`claimTurnUserMessage`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { type ChatError, type ChatMessagePart, type ChatStatus, type PendingToolCall, type Usage } from '../domain/chat.js';
import { CHAT_COMMAND_ERRORS, type ChatCommandErrorKind } from '../domain/chat-command-error.js';
import { type CreateChatInput } from '../workflows/definitions.js';
import { appendChatEvents, CHAT_EVENTS_CHANNEL, loggedEvents, type NewChatEvent } from './chat-events.js';
import { CHAT_COLUMNS, chatMessageFromRow, queuedMessageFromRow, type ChatRow, type MessageRow, type QueuedRow } from './chat-rows.js';
import { executeAndCommit, prepared, sqlLiteral, type Pool, type PoolClient, withTransaction } from './pool.js';
import { appendWatchEvent, WATCH_EVENTS_CHANNEL, watchAppend, watchAppendSql } from './watch-events.js';

function refuse(kind: ChatCommandErrorKind): never {
  throw ApplicationFailure.create({ type: kind, message: CHAT_COMMAND_ERRORS[kind].message, nonRetryable: true });
}

interface LockedChat {
  turn_count: number;
  status: ChatStatus;
  last_model_config_id: string | null;
}

async function lockChat(client: PoolClient, chatId: string): Promise<LockedChat> {
  const { rows } = await client.query<LockedChat>('SELECT turn_count, status, last_model_config_id FROM chats WHERE id = $1 FOR UPDATE', [chatId]);
  const chat = rows[0];
  if (chat === undefined) refuse('ChatNotFound');
  return chat;
}

type LockedChatWithModel = ChatRow & { model_config_id: string | null; tx_now: Date };

/**
 * `lockChat` and `resolveModelConfigId` in one statement, for the write a send's first token
 * waits on; it opens the transaction (see `withTransaction`), so its values are literals.
 * `queued_count` lets the write skip rewriting an empty queue mirror.
 */
function lockChatResolvingModelSql(chatId: string, requested: string | null): string {
  return `SELECT ${CHAT_COLUMNS.split(',').map((column) => `c.${column.trim()}`).join(', ')}, now() AS tx_now,
       (SELECT m.id FROM model_configs m WHERE m.enabled AND (m.id = ${sqlLiteral(requested)}::uuid OR m.id = c.last_model_config_id OR m.is_default)
        ORDER BY (m.id = ${sqlLiteral(requested)}::uuid) DESC NULLS LAST, (m.id = c.last_model_config_id) DESC NULLS LAST, m.is_default DESC LIMIT 1) AS model_config_id
     FROM chats c WHERE c.id = ${sqlLiteral(chatId)}::uuid FOR UPDATE`;
}

function lockedWithModel(rows: LockedChatWithModel[]): LockedChatWithModel & { model_config_id: string } {
  const chat = rows[0];
  if (chat === undefined) refuse('ChatNotFound');
  const modelConfigId = chat.model_config_id;
  if (modelConfigId === null) refuse('NoDefaultModel');
  return { ...chat, model_config_id: modelConfigId };
}

/** The requested model when usable, else the chat's last model, else the default. */
async function resolveModelConfigId(client: PoolClient, requested: string | null, chatLast: string | null): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM model_configs WHERE enabled AND (id = $1 OR id = $2 OR is_default)
     ORDER BY (id = $1) DESC NULLS LAST, (id = $2) DESC NULLS LAST, is_default DESC LIMIT 1`,
    [requested, chatLast],
  );
  const id = rows[0]?.id;
  if (id === undefined) refuse('NoDefaultModel');
  return id;
}

async function insertMessage(
  client: PoolClient,
  chatId: string,
  message: {
    role: string;
    content: ChatMessagePart[];
    modelConfigId: string | null;
    key: string;
    visibility?: string;
    usage?: Usage | null;
    apiKeyId?: string | null;
    providerResponseId?: string | null;
  },
): Promise<MessageRow> {
  const inserted = await client.query<MessageRow>(
    `INSERT INTO chat_messages (chat_id, role, content, model_config_id, idempotency_key, visibility, usage, api_key_id, provider_response_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (chat_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING *`,
    [
      chatId,
      message.role,
      JSON.stringify(message.content),
      message.modelConfigId,
      message.key,
      message.visibility ?? 'both',
      message.usage === undefined || message.usage === null ? null : JSON.stringify(message.usage),
      message.apiKeyId ?? null,
      message.providerResponseId ?? null,
    ],
  );
  if (inserted.rows[0] !== undefined) return inserted.rows[0];
  const existing = await client.query<MessageRow>('SELECT * FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2', [chatId, message.key]);
  return existing.rows[0]!;
}

function messageEvent(row: MessageRow): NewChatEvent {
  return { type: 'message', payload: { message: chatMessageFromRow(row) } };
}

function statusEvent(status: ChatStatus): NewChatEvent {
  return { type: 'status', payload: { status } };
}

async function queueEvent(client: PoolClient, chatId: string): Promise<NewChatEvent> {
  const { rows } = await client.query<QueuedRow>(`SELECT * FROM chat_queued_messages WHERE chat_id = $1 AND state = 'queued' ORDER BY position, id`, [chatId]);
  return { type: 'queue_update', payload: { queued_messages: rows.map(queuedMessageFromRow) } };
}

/**
 * Starts `turn`; a message sent with a plan mode sets the chat's from this turn on. Callers make
 * no further change to the chat row but its event sequence, so the watch event carries the
 * row as returned here.
 */
async function setRunning(client: PoolClient, chatId: string, turn: number, modelConfigId: string, previousStatus: ChatStatus, planMode: boolean | null): Promise<ChatRow> {
  const { rows } = await client.query<ChatRow>(`UPDATE chats SET ${RUNNING_ASSIGNMENTS} WHERE id = $1 RETURNING *`, [chatId, turn, modelConfigId, planMode]);
  if (previousStatus !== 'running') await appendWatchEvent(client, chatId, 'status_change', rows[0]);
  return rows[0]!;
}

/** What starting a turn sets on the chat row: $1 chat id, $2 turn, $3 model config id, $4 plan mode or null. */
const RUNNING_ASSIGNMENTS = `status = 'running', turn_count = $2, last_model_config_id = $3, last_error = NULL,
  pending_tool_calls = '[]'::jsonb, last_progress_at = now(), updated_at = now(), plan_mode = COALESCE($4, plan_mode),
  queued_count = (SELECT count(*) FROM chat_queued_messages WHERE chat_id = chats.id AND state = 'queued')`;

/**
 * The chat row as RUNNING_ASSIGNMENTS leaves it, from the row locked at the transaction's start
 * (`now` is the transaction's time, which `now()` in the statement also gives). Only for a turn
 * start with nothing queued. Kept in step with RUNNING_ASSIGNMENTS: `chat-store.int.test.ts`
 * compares the watch event built from it with the committed row.
 */
function runningRow(locked: ChatRow, turn: number, modelConfigId: string, planMode: boolean | null, now: Date): ChatRow {
  return {
    ...locked,
    status: 'running',
    turn_count: turn,
    last_model_config_id: modelConfigId,
    last_error: null,
    pending_tool_calls: [],
    last_progress_at: now,
    updated_at: now,
    plan_mode: planMode ?? locked.plan_mode,
    queued_count: 0,
  };
}

/**
 * A send's turn start in one statement, for the usual case where nothing is queued and no row
 * of `turn` or later is stored (no earlier attempt to honour, nothing a discarded run left to
 * retire): inserts the user message, sets the chat running and appends its events (and the
 * watch event when the status changes), returning the message's id. The events are built here
 * from the locked row; the statement fills in the message's id. Writes nothing and returns
 * undefined otherwise, and the caller takes the general path (`startTurnGenerally`) in a new
 * transaction. Either way it commits the transaction, in the statement's round trip
 * (`executeAndCommit`). Runs after the chat's lock, so its snapshot holds every committed write
 * of the chat. The first token of a send waits on this transaction: every round trip counts.
 */
async function startTurnWhenClear(
  client: PoolClient,
  locked: LockedChatWithModel,
  turn: number,
  message: { content: ChatMessagePart[]; modelConfigId: string; apiKeyId: string | null },
  planMode: boolean | null,
): Promise<{ messageId: number; planMode: boolean } | undefined> {
  const chatId = locked.id;
  const key = turnKey(turn, 'user');
  const template: MessageRow = {
    id: 0,
    chat_id: chatId,
    role: 'user',
    content: message.content,
    model_config_id: message.modelConfigId,
    usage: null,
    visibility: 'both',
    deleted: false,
    idempotency_key: key,
    api_key_id: message.apiKeyId,
    provider_response_id: null,
    created_at: locked.tx_now,
  };
  const events = [messageEvent(template), ...(locked.status !== 'running' || locked.turn_count !== turn ? [statusEvent('running')] : [])];
  const logged = loggedEvents(events);
  const running = runningRow(locked, turn, message.modelConfigId, planMode, locked.tx_now);
  const watch = locked.status === 'running' ? undefined : watchAppend('status_change', running);
  const watchSql = watchAppendSql({ owner: 13, chat: 1, kind: 14, payload: 15, channel: 16 });
  const rows = await executeAndCommit<{ id: number }>(
    client,
    prepared(
      watch === undefined ? 'start-turn-with-events' : 'start-turn-with-events-and-watch',
      `WITH clear AS (
         SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $5)
           AND NOT EXISTS (SELECT 1 FROM chat_messages WHERE ${rowsOfTurnOrLater({ previousUserKey: 8, turn: 2 })})
           AND NOT EXISTS (SELECT 1 FROM chat_queued_messages WHERE chat_id = $1 AND state = 'queued')
       ), inserted AS (
         INSERT INTO chat_messages (chat_id, role, content, model_config_id, idempotency_key, visibility, api_key_id)
         SELECT $1, 'user', $6::jsonb, $3, $5, 'both', $7 FROM clear
         RETURNING id
       ), running AS (
         UPDATE chats SET ${RUNNING_ASSIGNMENTS}, event_seq = event_seq + $9 WHERE id = $1 AND EXISTS (SELECT 1 FROM inserted) RETURNING event_seq
       ), logged AS (
         SELECT jsonb_set($10::jsonb, '{0,payload,message,id}', to_jsonb(inserted.id)) AS events FROM inserted
       ), events_inserted AS (
         INSERT INTO chat_events (chat_id, seq, type, payload)
         SELECT $1, running.event_seq - $9 + e.ordinality, e.event->>'type', e.event->'payload'
         FROM running, logged, jsonb_array_elements(logged.events) WITH ORDINALITY AS e(event, ordinality)
       )${watch === undefined ? '' : `, ${watchSql.ctes}`}
       SELECT inserted.id, pg_notify($11, $1 || ':' || running.event_seq || CASE WHEN $12::boolean THEN ':' || logged.events::text ELSE '' END)${watch === undefined ? '' : `, ${watchSql.notify} AS watch_notified`}
       FROM inserted, running, logged`,
      [
        chatId,
        turn,
        message.modelConfigId,
        planMode,
        key,
        JSON.stringify(message.content),
        message.apiKeyId,
        turnKey(turn - 1, 'user'),
        events.length,
        logged.json,
        CHAT_EVENTS_CHANNEL,
        logged.inline,
        ...(watch === undefined ? [] : [watch.ownerId, watch.kind, watch.payload, WATCH_EVENTS_CHANNEL]),
      ],
    ),
  );
  const row = rows[0];
  return row === undefined ? undefined : { messageId: row.id, planMode: running.plan_mode };
}

/** What a send's write is asked to store: the turn's user message and, optionally, a plan mode. */
interface SendWrite {
  chatId: string;
  turn: number;
  content: ChatMessagePart[];
  modelConfigId: string | null;
  apiKeyId?: string | null;
  planMode?: boolean;
}

/** The locked chat of a send, refusing a model the send asked for that is not the one resolved. */
function lockedForSend(rows: LockedChatWithModel[], requested: string | null): LockedChatWithModel & { model_config_id: string } {
  const chat = lockedWithModel(rows);
  if (requested !== null && chat.model_config_id !== requested) refuse('InvalidModelConfig');
  return chat;
}

function userMessage(chat: { model_config_id: string }, input: SendWrite): { content: ChatMessagePart[]; modelConfigId: string; apiKeyId: string | null } {
  return { content: input.content, modelConfigId: chat.model_config_id, apiKeyId: input.apiKeyId ?? null };
}

/**
 * A send's turn start whatever the chat holds: claims the turn's user message (keeping an earlier
 * attempt's, retiring what a discarded run left), empties a stale queue mirror and sets the chat
 * running, with the events of each. The workflow's queue is empty when it sends directly.
 */
async function startTurnGenerally(client: PoolClient, chat: LockedChatWithModel & { model_config_id: string }, input: SendWrite): Promise<{ messageId: number; modelConfigId: string; planMode: boolean }> {
  const modelConfigId = chat.model_config_id;
  const claim = await claimTurnUserMessage(client, input.chatId, input.turn, userMessage(chat, input));
  const queueChanged = chat.queued_count > 0 && (await matchQueue(client, input.chatId, []));
  const running = await setRunning(client, input.chatId, input.turn, modelConfigId, chat.status, input.planMode ?? null);
  const events = await claimEvents(client, input.chatId, claim);
  if (queueChanged) events.push(await queueEvent(client, input.chatId));
  if (chat.status !== 'running' || chat.turn_count !== input.turn) events.push(statusEvent('running'));
  await appendChatEvents(client, input.chatId, events);
  return { messageId: claim.message.id, modelConfigId, planMode: running.plan_mode };
}

/**
 * The chat's message rows of a turn or later (by key) written after the previous turn's user
 * message: those only a discarded run can have written. `$1` is the chat id; the others are
 * the `$n` numbers of the previous turn's user-message key and of the turn.
 */
function rowsOfTurnOrLater(parameter: { previousUserKey: number; turn: number }): string {
  return `chat_id = $1
    AND id > COALESCE((SELECT id FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $${parameter.previousUserKey}), 0)
    AND (CASE WHEN idempotency_key ~ '^turn:[0-9]+:' THEN split_part(idempotency_key, ':', 2)::int END) >= $${parameter.turn}`;
}

function turnKey(turn: number, suffix: string): string {
  return `turn:${turn}:${suffix}`;
}

/**
 * Makes the queue mirror match the workflow's queue, `queuedIds` in order: those rows are queued
 * at their positions (even one a discarded run promoted or dropped), any other queued row is
 * dropped, and `queued_count` is recounted. Returns whether any row changed.
 */
async function matchQueue(client: PoolClient, chatId: string, queuedIds: number[]): Promise<boolean> {
  const listed = await client.query(
    `UPDATE chat_queued_messages q SET state = 'queued', position = wanted.position - 1, promoted_message_id = NULL
     FROM unnest($2::bigint[]) WITH ORDINALITY AS wanted(id, position)
     WHERE q.chat_id = $1 AND q.id = wanted.id AND (q.state <> 'queued' OR q.position <> wanted.position - 1)`,
    [chatId, queuedIds],
  );
  const dropped = await client.query(`UPDATE chat_queued_messages SET state = 'deleted' WHERE chat_id = $1 AND state = 'queued' AND NOT (id = ANY($2::bigint[]))`, [
    chatId,
    queuedIds,
  ]);
  await client.query(`UPDATE chats SET queued_count = (SELECT count(*) FROM chat_queued_messages WHERE chat_id = $1 AND state = 'queued') WHERE id = $1`, [chatId]);
  return (listed.rowCount ?? 0) + (dropped.rowCount ?? 0) > 0;
}

/**
 * Retires every message of turn `fromTurn` or later except `keepId`: the workflow has not reached
 * those turns, so only a discarded run can have written them. Retired rows are soft-deleted and
 * their keys released. Returns the lowest retired id, or null.
 */
async function retireTurnsFrom(client: PoolClient, chatId: string, fromTurn: number, keepId: number | null): Promise<number | null> {
  const { rows } = await client.query<{ id: number }>(
    `UPDATE chat_messages SET deleted = true, idempotency_key = 'discarded:' || id || ':' || idempotency_key
     WHERE ${rowsOfTurnOrLater({ previousUserKey: 2, turn: 3 })}
       AND id IS DISTINCT FROM $4::bigint
     RETURNING id`,
    [chatId, turnKey(fromTurn - 1, 'user'), fromTurn, keepId],
  );
  return rows.length === 0 ? null : Math.min(...rows.map((row) => row.id));
}

interface TurnClaim {
  message: MessageRow;
  /** Whether this call wrote the message (false when an earlier attempt already had). */
  written: boolean;
  /** The lowest id of the rows a discarded run left and this call retired, or null. */
  retiredFrom: number | null;
}

/**
 * Writes the user message that starts `turn`. A row already under `turn:<turn>:user` with the same
 * content is kept (an activity retry); one with other content, and any row of a later turn, came
 * from a discarded run and is retired, and the message is inserted after everything else.
 */
async function claimTurnUserMessage(
  client: PoolClient,
  chatId: string,
  turn: number,
  message: { content: ChatMessagePart[]; modelConfigId: string; apiKeyId: string | null },
): Promise<TurnClaim> {
  const key = turnKey(turn, 'user');
  // One round trip for the usual case (nothing kept, nothing to retire): the first token of a
  // send waits on this transaction. The statement's parts share one snapshot, as the separate
  // read-then-retire did.
  const { rows } = await client.query<{ kept_id: number | null; retired_from: number | null }>(
    `WITH kept AS (
       SELECT id FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2 AND NOT deleted
         AND content = $3::jsonb AND model_config_id IS NOT DISTINCT FROM $4::uuid AND api_key_id IS NOT DISTINCT FROM $5::uuid
     ), retired AS (
       UPDATE chat_messages SET deleted = true, idempotency_key = 'discarded:' || id || ':' || idempotency_key
       WHERE ${rowsOfTurnOrLater({ previousUserKey: 6, turn: 7 })}
         AND id IS DISTINCT FROM (SELECT id FROM kept)
       RETURNING id
     )
     SELECT (SELECT id FROM kept) AS kept_id, (SELECT min(id) FROM retired) AS retired_from`,
    [chatId, key, JSON.stringify(message.content), message.modelConfigId, message.apiKeyId, turnKey(turn - 1, 'user'), turn],
  );
  const keptId = rows[0]?.kept_id ?? null;
  const retiredFrom = rows[0]?.retired_from === null || rows[0]?.retired_from === undefined ? null : Number(rows[0].retired_from);
  if (keptId !== null) {
    const kept = (await client.query<MessageRow>('SELECT * FROM chat_messages WHERE chat_id = $1 AND id = $2', [chatId, keptId])).rows[0]!;
    return { message: kept, written: false, retiredFrom };
  }
  const inserted = await insertMessage(client, chatId, { role: 'user', content: message.content, modelConfigId: message.modelConfigId, key, apiKeyId: message.apiKeyId });
  return { message: inserted, written: true, retiredFrom };
}

/**
 * Tells subscribers about retired rows: a `history_reset` from the first one, then every visible
 * message after it again (a claimed message among them). Empty when nothing was retired.
 */
async function retiredEvents(client: PoolClient, chatId: string, retiredFrom: number | null): Promise<NewChatEvent[]> {
  if (retiredFrom === null) return [];
  const { rows } = await client.query<MessageRow>(`SELECT * FROM chat_messages WHERE chat_id = $1 AND id > $2 AND NOT deleted AND visibility <> 'model' ORDER BY id`, [
    chatId,
    retiredFrom,
  ]);
  return [{ type: 'history_reset', payload: { from_message_id: retiredFrom } }, ...rows.map(messageEvent)];
}

/** The message events for a claim: the message when this call wrote it, or the retired tail. */
async function claimEvents(client: PoolClient, chatId: string, claim: TurnClaim): Promise<NewChatEvent[]> {
  if (claim.retiredFrom !== null) return retiredEvents(client, chatId, claim.retiredFrom);
  return claim.written ? [messageEvent(claim.message)] : [];
}

export function createChatStore(pool: Pool) {
  const store = {
    /** Inserts the chat, its system prompt and first user message, running turn 1. Idempotent by chat id. */
    async createChat(input: { chatId: string; turn: number; create: CreateChatInput }): Promise<{ messageId: number; modelConfigId: string }> {
      return withTransaction(pool, async (client) => {
        const { create, chatId, turn } = input;
        const modelConfigId = await resolveModelConfigId(client, create.modelConfigId, null);
        if (create.modelConfigId !== null && modelConfigId !== create.modelConfigId) refuse('InvalidModelConfig');
        const created = await client.query(
          `INSERT INTO chats (id, owner_id, title, status, root_chat_id, last_model_config_id, labels, dynamic_tools, turn_count, workspace_id, mcp_server_ids,
             plan_mode, parent_chat_id, agent_type)
           VALUES ($1, $2, $3, 'running', COALESCE((SELECT root_chat_id FROM chats WHERE id = $11), $1), $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
          [
            chatId,
            create.ownerId,
            create.title,
            modelConfigId,
            JSON.stringify(create.labels),
            JSON.stringify(create.dynamicTools),
            turn,
            create.workspaceId ?? null,
            create.mcpServerIds ?? [],
            create.planMode ?? false,
            create.parentChatId ?? null,
            create.agentType ?? null,
          ],
        );
        const events: NewChatEvent[] = [];
        if (create.systemPrompt !== null && create.systemPrompt !== '') {
          await insertMessage(client, chatId, { role: 'system', content: [{ type: 'text', text: create.systemPrompt }], modelConfigId: null, key: 'system-prompt', visibility: 'model' });
        }
        const message = await insertMessage(client, chatId, { role: 'user', content: create.content, modelConfigId, key: turnKey(turn, 'user'), apiKeyId: create.apiKeyId ?? null });
        if (created.rowCount === 1) events.push(statusEvent('running'), messageEvent(message));
        await appendChatEvents(client, chatId, events);
        if (created.rowCount === 1) await appendWatchEvent(client, chatId, 'created');
        return { messageId: message.id, modelConfigId };
      });
    },

    /** Inserts a user message and starts `turn` with it. The workflow sends directly only when its queue is empty. */
    async insertUserMessage(input: SendWrite): Promise<{ messageId: number; modelConfigId: string; planMode: boolean }> {
      type Started = { messageId: number; modelConfigId: string; planMode: boolean };
      const lockSql = lockChatResolvingModelSql(input.chatId, input.modelConfigId);
      // The usual send: nothing queued, nothing of this turn stored yet. The lock, then one statement
      // that commits. When it finds the turn not clear it wrote nothing, and the general path runs
      // in a transaction of its own.
      const usual = await withTransaction<Started | undefined, LockedChatWithModel>(
        pool,
        async (client, locked) => {
          const chat = lockedForSend(locked, input.modelConfigId);
          if (chat.queued_count > 0) return startTurnGenerally(client, chat, input);
          const started = await startTurnWhenClear(client, chat, input.turn, userMessage(chat, input), input.planMode ?? null);
          return started === undefined ? undefined : { messageId: started.messageId, modelConfigId: chat.model_config_id, planMode: started.planMode };
        },
        lockSql,
      );
      return usual ?? withTransaction<Started, LockedChatWithModel>(pool, async (client, locked) => startTurnGenerally(client, lockedForSend(locked, input.modelConfigId), input), lockSql);
    },

    /**
     * Appends a message to the queue mirror, keeping the model it was sent with; `queuedIds` is the
     * workflow's queue before it. A row a discarded run wrote under the same key is queued again.
     */
    async enqueueMessage(input: {
      chatId: string;
      content: ChatMessagePart[];
      modelConfigId: string | null;
      apiKeyId?: string | null;
      planMode?: boolean;
      idempotencyKey: string;
      position: number;
      queuedIds: number[];
    }): Promise<{ queuedId: number }> {
      return withTransaction(pool, async (client) => {
        await lockChat(client, input.chatId);
        const inserted = await client.query<{ id: number }>(
          `INSERT INTO chat_queued_messages (chat_id, content, model_config_id, position, idempotency_key, api_key_id, plan_mode)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (chat_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`,
          [input.chatId, JSON.stringify(input.content), input.modelConfigId, input.position, input.idempotencyKey, input.apiKeyId ?? null, input.planMode ?? null],
        );
        const created = inserted.rows[0];
        const queuedId = created?.id ?? (await client.query<{ id: number }>('SELECT id FROM chat_queued_messages WHERE chat_id = $1 AND idempotency_key = $2', [input.chatId, input.idempotencyKey])).rows[0]!.id;
        const queueChanged = await matchQueue(client, input.chatId, [...input.queuedIds, queuedId]);
        if (created !== undefined || queueChanged) {
          await client.query('UPDATE chats SET updated_at = now() WHERE id = $1', [input.chatId]);
          await appendChatEvents(client, input.chatId, [await queueEvent(client, input.chatId)]);
        }
        return { queuedId };
      });
    },

    /**
     * Turns a queued message into the user message of `turn`, atomically: if the insert fails,
     * the queued row stays. A queued model that no longer exists falls back to the chat's model.
     * `queuedIds` is the workflow's queue after the promotion. The row is the workflow's queue
     * head whatever state a discarded run left it in.
     */
    async promoteQueuedMessage(input: { chatId: string; queuedId: number; turn: number; queuedIds: number[] }): Promise<{ messageId: number; modelConfigId: string }> {
      return withTransaction(pool, async (client) => {
        const chat = await lockChat(client, input.chatId);
        const queued = await client.query<QueuedRow & { state: string; promoted_message_id: number | null }>('SELECT * FROM chat_queued_messages WHERE chat_id = $1 AND id = $2', [
          input.chatId,
          input.queuedId,
        ]);
        const row = queued.rows[0];
        if (row === undefined) refuse('QueuedMessageNotFound');
        const modelConfigId = await resolveModelConfigId(client, row.model_config_id, chat.last_model_config_id);
        const claim = await claimTurnUserMessage(client, input.chatId, input.turn, { content: row.content, modelConfigId, apiKeyId: row.api_key_id });
        const alreadyPromoted = row.state === 'promoted' && row.promoted_message_id === claim.message.id;
        await client.query(`UPDATE chat_queued_messages SET state = 'promoted', promoted_message_id = $3 WHERE chat_id = $1 AND id = $2`, [input.chatId, input.queuedId, claim.message.id]);
        const queueChanged = await matchQueue(client, input.chatId, input.queuedIds);
        await setRunning(client, input.chatId, input.turn, modelConfigId, chat.status, row.plan_mode);
        const events = await claimEvents(client, input.chatId, claim);
        if (!alreadyPromoted || queueChanged) events.push(await queueEvent(client, input.chatId));
        if (!alreadyPromoted || chat.status !== 'running' || chat.turn_count !== input.turn) events.push(statusEvent('running'));
        await appendChatEvents(client, input.chatId, events);
        return { messageId: claim.message.id, modelConfigId };
      });
    },

    /** Makes the queue mirror match the workflow's queue `queuedIds`, in order. */
    async syncQueueOrder(input: { chatId: string; queuedIds: number[] }): Promise<void> {
      await withTransaction(pool, async (client) => {
        await lockChat(client, input.chatId);
        await matchQueue(client, input.chatId, input.queuedIds);
        await appendChatEvents(client, input.chatId, [await queueEvent(client, input.chatId)]);
      });
    },

    async deleteQueuedMessage(input: { chatId: string; queuedId: number }): Promise<void> {
      await withTransaction(pool, async (client) => {
        await lockChat(client, input.chatId);
        await client.query(`UPDATE chat_queued_messages SET state = 'deleted' WHERE chat_id = $1 AND id = $2 AND state = 'queued'`, [input.chatId, input.queuedId]);
        await client.query(`UPDATE chats SET queued_count = (SELECT count(*) FROM chat_queued_messages WHERE chat_id = $1 AND state = 'queued'), updated_at = now() WHERE id = $1`, [input.chatId]);
      });
    },

    /**
     * Sets the chat's status in `turn`, the workflow's current turn, with `queuedIds` its queue:
     * whatever a discarded run wrote past that turn or into the queue is undone here.
     * `turnInterrupted`: whether the turn this settles was interrupted (absent: unchanged).
     */
    async setChatStatus(input: {
      chatId: string;
      status: ChatStatus;
      turn: number;
      queuedIds: number[];
      lastError?: ChatError | null;
      pendingToolCalls?: PendingToolCall[];
      turnInterrupted?: boolean;
    }): Promise<void> {
      await withTransaction(pool, async (client) => {
        const chat = await lockChat(client, input.chatId);
        const retiredFrom = await retireTurnsFrom(client, input.chatId, input.turn + 1, null);
        const queueChanged = await matchQueue(client, input.chatId, input.queuedIds);
        await client.query(
          `UPDATE chats SET status = $2, turn_count = $6,
             last_error = CASE WHEN $3::boolean THEN $4::jsonb ELSE last_error END,
             pending_tool_calls = COALESCE($5::jsonb, pending_tool_calls),
             last_turn_interrupted = COALESCE($7, last_turn_interrupted),
             last_progress_at = now(), updated_at = now()
           WHERE id = $1`,
          [
            input.chatId,
            input.status,
            input.lastError !== undefined,
            input.lastError === undefined || input.lastError === null ? null : JSON.stringify(input.lastError),
            input.pendingToolCalls === undefined ? null : JSON.stringify(input.pendingToolCalls),
            input.turn,
            input.turnInterrupted ?? null,
          ],
        );
        const events: NewChatEvent[] = await retiredEvents(client, input.chatId, retiredFrom);
        if (queueChanged) events.push(await queueEvent(client, input.chatId));
        if (chat.status !== input.status) events.push(statusEvent(input.status));
        if (input.status === 'error' && input.lastError !== undefined && input.lastError !== null) events.push({ type: 'error', payload: { error: input.lastError } });
        if (input.status === 'requires_action' && input.pendingToolCalls !== undefined) events.push({ type: 'action_required', payload: { tool_calls: input.pendingToolCalls } });
        await appendChatEvents(client, input.chatId, events);
        if (chat.status !== input.status || (input.lastError !== undefined && input.lastError !== null)) await appendWatchEvent(client, input.chatId, 'status_change');
      });
    },

    /**
     * Replaces user message `messageId` and soft-deletes everything after it; clears the queue and
     * starts `turn`. Bumping `turn_count` fences the writes of the turn being replaced.
     */
    async applyEdit(input: { chatId: string; turn: number; messageId: number; content: ChatMessagePart[]; modelConfigId: string | null; apiKeyId?: string | null }): Promise<{ messageId: number; modelConfigId: string }> {
      return withTransaction(pool, async (client) => {
        const chat = await lockChat(client, input.chatId);
        // An earlier attempt already applied this edit: its message is live and follows the edited one.
        const already = await client.query<MessageRow>('SELECT * FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2 AND NOT deleted AND id > $3 AND content = $4::jsonb', [
          input.chatId,
          turnKey(input.turn, 'user'),
          input.messageId,
          JSON.stringify(input.content),
        ]);
        if (already.rows[0] !== undefined) return { messageId: already.rows[0].id, modelConfigId: already.rows[0].model_config_id ?? '' };
        const target = await client.query<MessageRow>('SELECT * FROM chat_messages WHERE chat_id = $1 AND id = $2 AND NOT deleted', [input.chatId, input.messageId]);
        const original = target.rows[0];
        if (original === undefined) refuse('MessageNotFound');
        if (original.role !== 'user') refuse('NotUserMessage');
        const requested = input.modelConfigId ?? original.model_config_id;
        const modelConfigId = await resolveModelConfigId(client, requested, chat.last_model_config_id);
        if (input.modelConfigId !== null && modelConfigId !== input.modelConfigId) refuse('InvalidModelConfig');
        await client.query('UPDATE chat_messages SET deleted = true WHERE chat_id = $1 AND id >= $2 AND NOT deleted', [input.chatId, input.messageId]);
        await client.query(`UPDATE chat_queued_messages SET state = 'deleted' WHERE chat_id = $1 AND state = 'queued'`, [input.chatId]);
        await client.query('DELETE FROM tool_call_ledger WHERE chat_id = $1 AND status = $2', [input.chatId, 'started']);
        const claim = await claimTurnUserMessage(client, input.chatId, input.turn, { content: input.content, modelConfigId, apiKeyId: input.apiKeyId ?? null });
        await setRunning(client, input.chatId, input.turn, modelConfigId, chat.status, null);
        const resetFrom = Math.min(input.messageId, claim.retiredFrom ?? input.messageId);
        await appendChatEvents(client, input.chatId, [...(await retiredEvents(client, input.chatId, resetFrom)), await queueEvent(client, input.chatId), statusEvent('running')]);
        return { messageId: claim.message.id, modelConfigId };
      });
    },

    /** Persists one assistant step of `turn` exactly once; returns undefined when the turn was superseded. */
    async insertAssistantStep(input: { chatId: string; turn: number; step: number; content: ChatMessagePart[]; modelConfigId: string | null; usage: Usage | null; apiKeyId: string; providerResponseId?: string | null }): Promise<MessageRow | undefined> {
      return withTransaction(pool, async (client) => {
        const chat = await lockChat(client, input.chatId);
        if (chat.turn_count !== input.turn) return undefined;
        const key = turnKey(input.turn, `step:${input.step}`);
        const existing = await client.query<MessageRow>('SELECT * FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2', [input.chatId, key]);
        if (existing.rows[0] !== undefined) return existing.rows[0];
        const message = await insertMessage(client, input.chatId, { role: 'assistant', content: input.content, modelConfigId: input.modelConfigId, key, usage: input.usage, apiKeyId: input.apiKeyId, providerResponseId: input.providerResponseId ?? null });
        await client.query('UPDATE chats SET last_progress_at = now() WHERE id = $1', [input.chatId]);
        await appendChatEvents(client, input.chatId, [messageEvent(message)]);
        return message;
      });
    },

    /** The already-persisted assistant message of a step (an earlier attempt finished it). */
    async findAssistantStep(input: { chatId: string; turn: number; step: number }): Promise<MessageRow | undefined> {
      const { rows } = await pool.query<MessageRow>('SELECT * FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2', [input.chatId, turnKey(input.turn, `step:${input.step}`)]);
      return rows[0];
    },

    /** Records tool results in call order, one `tool` message each; fenced by turn. */
    async recordToolResults(input: { chatId: string; turn: number; results: Array<{ toolCallId: string; toolName: string; result: unknown; isError: boolean }> }): Promise<void> {
      await withTransaction(pool, async (client) => {
        const chat = await lockChat(client, input.chatId);
        if (chat.turn_count !== input.turn) return;
        const events: NewChatEvent[] = [];
        for (const result of input.results) {
          const key = turnKey(input.turn, `tool:${result.toolCallId}`);
          const before = await client.query('SELECT 1 FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2', [input.chatId, key]);
          if (before.rows.length > 0) continue;
          const row = await insertMessage(client, input.chatId, {
            role: 'tool',
            content: [{ type: 'tool-result', tool_call_id: result.toolCallId, tool_name: result.toolName, result: result.result as never, is_error: result.isError }],
            modelConfigId: null,
            key,
          });
          events.push(messageEvent(row));
        }
        if (events.length > 0) await client.query('UPDATE chats SET last_progress_at = now() WHERE id = $1', [input.chatId]);
        await appendChatEvents(client, input.chatId, events);
      });
    },

    /** Gives every tool call of `turn` that has no result the error result `text`. */
    async insertSyntheticToolResults(input: { chatId: string; turn: number; text: string }): Promise<void> {
      await withTransaction(pool, async (client) => {
        const chat = await lockChat(client, input.chatId);
        if (chat.turn_count !== input.turn) return;
        const { rows } = await client.query<{ tool_call_id: string; tool_name: string }>(
          `SELECT part->>'tool_call_id' AS tool_call_id, part->>'tool_name' AS tool_name
           FROM chat_messages m, jsonb_array_elements(m.content) WITH ORDINALITY AS parts(part, ordinality)
           WHERE m.chat_id = $1 AND m.role = 'assistant' AND NOT m.deleted AND m.idempotency_key LIKE $2 AND part->>'type' = 'tool-call'
             AND NOT EXISTS (SELECT 1 FROM chat_messages r WHERE r.chat_id = $1 AND r.idempotency_key = 'turn:' || $3 || ':tool:' || (part->>'tool_call_id'))
           ORDER BY m.id, ordinality`,
          [input.chatId, `turn:${input.turn}:step:%`, input.turn],
        );
        const events: NewChatEvent[] = [];
        for (const call of rows) {
          const row = await insertMessage(client, input.chatId, {
            role: 'tool',
            content: [{ type: 'tool-result', tool_call_id: call.tool_call_id, tool_name: call.tool_name, result: input.text, is_error: true }],
            modelConfigId: null,
            key: turnKey(input.turn, `tool:${call.tool_call_id}`),
          });
          events.push(messageEvent(row));
        }
        await appendChatEvents(client, input.chatId, events);
      });
    },

    /** Records the client's results for the pending dynamic calls and resumes the turn. */
    async recordSubmittedToolResults(input: { chatId: string; turn: number; results: Array<{ tool_call_id: string; output: unknown; is_error: boolean }>; pendingToolCalls: PendingToolCall[] }): Promise<void> {
      const names = new Map(input.pendingToolCalls.map((call) => [call.tool_call_id, call.tool_name]));
      await store.recordToolResults({
        chatId: input.chatId,
        turn: input.turn,
        results: input.results.map((result) => ({ toolCallId: result.tool_call_id, toolName: names.get(result.tool_call_id) ?? 'unknown', result: result.output, isError: result.is_error })),
      });
      await withTransaction(pool, async (client) => {
        const chat = await lockChat(client, input.chatId);
        if (chat.turn_count !== input.turn || chat.status !== 'requires_action') return;
        await client.query(`UPDATE chats SET status = 'running', pending_tool_calls = '[]'::jsonb, updated_at = now(), last_progress_at = now() WHERE id = $1`, [input.chatId]);
        await appendChatEvents(client, input.chatId, [statusEvent('running')]);
        await appendWatchEvent(client, input.chatId, 'status_change');
      });
    },

    async updateChatFields(input: {
      chatId: string;
      title?: string;
      labels?: Record<string, string>;
      archived?: boolean;
      workspaceId?: string | null;
      mcpServerIds?: string[];
      planMode?: boolean;
    }): Promise<void> {
      await withTransaction(pool, async (client) => {
        await lockChat(client, input.chatId);
        await client.query(
          `UPDATE chats SET title = COALESCE($2, title), labels = COALESCE($3::jsonb, labels), archived = COALESCE($4, archived),
             workspace_id = CASE WHEN $5 THEN $6::uuid ELSE workspace_id END, mcp_server_ids = COALESCE($7::uuid[], mcp_server_ids),
             plan_mode = COALESCE($8, plan_mode), updated_at = now() WHERE id = $1`,
          [
            input.chatId,
            input.title ?? null,
            input.labels === undefined ? null : JSON.stringify(input.labels),
            input.archived ?? null,
            input.workspaceId !== undefined,
            input.workspaceId ?? null,
            input.mcpServerIds ?? null,
            input.planMode ?? null,
          ],
        );
        if (input.title !== undefined) {
          await appendChatEvents(client, input.chatId, [{ type: 'title_change', payload: { title: input.title } }]);
          await appendWatchEvent(client, input.chatId, 'title_change');
        }
        if (input.archived !== undefined) await appendWatchEvent(client, input.chatId, 'archive_change');
      });
    },
  };
  return store;
}

export type ChatStore = ReturnType<typeof createChatStore>;
