/**
 * Context compaction: summary messages are marked `compressed` (the prompt starts from the
 * latest one), each model config has a compaction threshold, and a user may override it per
 * model config.
 */
export const sql = `
ALTER TABLE chat_messages ADD COLUMN compressed boolean NOT NULL DEFAULT false;

ALTER TABLE model_configs ADD COLUMN compression_threshold integer NOT NULL DEFAULT 70;

CREATE TABLE user_compaction_thresholds (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  model_config_id uuid NOT NULL REFERENCES model_configs(id) ON DELETE CASCADE,
  threshold_percent integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, model_config_id)
);

-- The prompt loader looks for the chat's latest summary on every step.
CREATE INDEX chat_messages_summaries ON chat_messages (chat_id, id) WHERE compressed AND role = 'user';
`;
