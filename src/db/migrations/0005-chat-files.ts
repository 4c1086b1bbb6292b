/** Files users attach to messages (images, plain text), owned by the uploader. */
export const sql = `
CREATE TABLE chat_files (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  media_type text NOT NULL,
  size_bytes integer NOT NULL,
  data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_files_owner ON chat_files (owner_id, created_at);
`;
