/**
 * Plan mode per message and sub-agents: a queued message may carry the plan mode its turn runs
 * in, a child chat records the kind of sub-agent it is (`general` or `explore`), and a chat
 * file records how it came (uploaded, attached by a tool, or a proposed plan).
 */
export const sql = `
ALTER TABLE chats ADD COLUMN agent_type text CHECK (agent_type IN ('general', 'explore'));
ALTER TABLE chat_queued_messages ADD COLUMN plan_mode boolean;
ALTER TABLE chat_files ADD COLUMN kind text NOT NULL DEFAULT 'upload' CHECK (kind IN ('upload', 'attachment', 'plan'));
CREATE INDEX chats_parent ON chats (parent_chat_id, created_at) WHERE parent_chat_id IS NOT NULL;
`;
