/**
 * Model providers (their endpoints and encrypted API keys), model config prices, and spend
 * limits. `model_configs.provider` names either a row of `providers` or a built-in model
 * (`echo`, `script`).
 */
export const sql = `
CREATE TABLE providers (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$' AND name NOT IN ('echo', 'script')),
  kind text NOT NULL CHECK (kind IN ('openai', 'openai-chat', 'anthropic', 'openai-compatible')),
  base_url text,
  api_key_ciphertext text,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE model_configs ADD COLUMN prices jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE model_configs RENAME COLUMN options TO provider_options;

-- One row per scope: the default for everyone (user_id NULL) or one user's override.
CREATE TABLE usage_limits (
  id uuid PRIMARY KEY,
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  limit_micros bigint NOT NULL CHECK (limit_micros >= 0),
  period text NOT NULL CHECK (period IN ('day', 'week', 'month')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX usage_limits_one_per_user ON usage_limits (user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX usage_limits_one_default ON usage_limits ((user_id IS NULL)) WHERE user_id IS NULL;

-- Spend per user and period is summed from assistant messages.
CREATE INDEX chat_messages_usage ON chat_messages (created_at) WHERE usage IS NOT NULL;
`;
