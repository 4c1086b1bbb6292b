/** The per-user watch feed: chat-level changes, with `seq` allocated per user under its row lock. */
export const sql = `
ALTER TABLE users ADD COLUMN watch_seq bigint NOT NULL DEFAULT 0;

CREATE TABLE chat_watch_events (
  owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  chat_id uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner_id, seq)
);
`;
