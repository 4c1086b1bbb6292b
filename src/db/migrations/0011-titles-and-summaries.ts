/**
 * Generated titles and turn summaries: service-wide settings (the admin-pinned title model),
 * the turn a chat's `last_turn_summary` describes (a label of an older turn never replaces a
 * newer one's), and the lock that lets one title regeneration run per chat at a time.
 */
export const sql = `
CREATE TABLE chatd_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE chats ADD COLUMN last_turn_summary_turn integer;
ALTER TABLE chats ADD COLUMN last_turn_summary_final boolean NOT NULL DEFAULT false;

CREATE TABLE chat_title_locks (
  chat_id uuid PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
  locked_at timestamptz NOT NULL DEFAULT now()
);
`;
