/** A chat's role for tool gating (sub-agent or root, plan mode, sub-agent type). */
import { ROOT_CHAT, type AgentType, type ChatRole } from '../domain/tool-policy.js';
import { type Queryable } from './pool.js';

/** The chat's role; a chat that no longer exists reads as a plain root chat (its tools refuse anyway). */
export async function readChatRole(db: Queryable, chatId: string): Promise<ChatRole> {
  return (await readChatOwnerAndRole(db, chatId))?.role ?? ROOT_CHAT;
}

/** The chat's owner and role in one read; undefined when the chat no longer exists. */
export async function readChatOwnerAndRole(db: Queryable, chatId: string): Promise<{ ownerId: string; role: ChatRole } | undefined> {
  const { rows } = await db.query<{ owner_id: string; parent_chat_id: string | null; plan_mode: boolean; agent_type: AgentType | null }>(
    'SELECT owner_id, parent_chat_id, plan_mode, agent_type FROM chats WHERE id = $1',
    [chatId],
  );
  const row = rows[0];
  return row === undefined ? undefined : { ownerId: row.owner_id, role: { isChild: row.parent_chat_id !== null, planMode: row.plan_mode, agentType: row.agent_type } };
}
