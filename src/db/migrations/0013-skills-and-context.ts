/**
 * Personal skills (`user_skills`, at most 100 per user, counted under the user's row lock) and
 * the context last injected into each chat's prompt (`chats.last_injected_context`: the
 * instruction files read from the workspace agent it names), so files are read again only
 * when the chat's agent changes.
 */
export const sql = `
CREATE TABLE user_skills (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  description text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, name)
);

ALTER TABLE chats ADD COLUMN last_injected_context jsonb;
`;
