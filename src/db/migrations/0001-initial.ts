/** Users, API keys, model configs, chats, messages, the queue mirror, the event log, the tool ledger. */
export const sql = `
CREATE TABLE users (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  is_admin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 digest of each key is stored; the key itself is shown once at creation.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  key_hash text NOT NULL UNIQUE,
  key_prefix text NOT NULL,
  name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);

CREATE TABLE model_configs (
  id uuid PRIMARY KEY,
  provider text NOT NULL,
  model text NOT NULL,
  display_name text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  is_default boolean NOT NULL DEFAULT false,
  context_limit integer NOT NULL DEFAULT 128000,
  max_output_tokens integer NOT NULL DEFAULT 32000,
  options jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX model_configs_single_default ON model_configs (is_default) WHERE is_default;

-- Every column but the ownership ones is written only by the chat's workflow (through activities).
CREATE TABLE chats (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title text NOT NULL DEFAULT '',
  status text NOT NULL CHECK (status IN ('waiting', 'running', 'interrupting', 'requires_action', 'error')),
  archived boolean NOT NULL DEFAULT false,
  parent_chat_id uuid REFERENCES chats(id) ON DELETE CASCADE,
  root_chat_id uuid NOT NULL,
  workspace_id uuid,
  last_model_config_id uuid REFERENCES model_configs(id) ON DELETE SET NULL,
  last_error jsonb,
  last_turn_summary text,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  plan_mode boolean NOT NULL DEFAULT false,
  dynamic_tools jsonb NOT NULL DEFAULT '[]'::jsonb,
  pending_tool_calls jsonb NOT NULL DEFAULT '[]'::jsonb,
  queued_count integer NOT NULL DEFAULT 0,
  turn_count integer NOT NULL DEFAULT 0,
  last_progress_at timestamptz NOT NULL DEFAULT now(),
  event_seq bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chats_owner_updated ON chats (owner_id, updated_at DESC, id DESC);
CREATE INDEX chats_root ON chats (root_chat_id);

CREATE TABLE chat_messages (
  id bigserial PRIMARY KEY,
  chat_id uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content jsonb NOT NULL,
  content_version integer NOT NULL DEFAULT 1,
  visibility text NOT NULL DEFAULT 'both' CHECK (visibility IN ('user', 'model', 'both')),
  model_config_id uuid,
  usage jsonb,
  deleted boolean NOT NULL DEFAULT false,
  -- Makes each write idempotent across activity retries: one row per (chat, key).
  idempotency_key text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX chat_messages_idempotency ON chat_messages (chat_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX chat_messages_chat ON chat_messages (chat_id, id);

-- A mirror of the workflow's queue, for reads; the workflow's order is authoritative.
-- Rows leave the queue by state, not by deletion, so a repeated submit can be answered
-- with the queued message it created even after that message ran.
CREATE TABLE chat_queued_messages (
  id bigserial PRIMARY KEY,
  chat_id uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  content jsonb NOT NULL,
  model_config_id uuid,
  position integer NOT NULL DEFAULT 0,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'promoted', 'deleted')),
  promoted_message_id bigint,
  idempotency_key text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX chat_queued_messages_idempotency ON chat_queued_messages (chat_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX chat_queued_messages_chat ON chat_queued_messages (chat_id, position) WHERE state = 'queued';

-- The per-chat event log behind the stream: seq is strictly increasing within a chat.
CREATE TABLE chat_events (
  chat_id uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chat_id, seq)
);

-- One row per tool call: a completed call is never run again after a crash.
CREATE TABLE tool_call_ledger (
  chat_id uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  tool_call_id text NOT NULL,
  tool_name text NOT NULL,
  status text NOT NULL CHECK (status IN ('started', 'completed')),
  attempts integer NOT NULL DEFAULT 1,
  result jsonb,
  is_error boolean,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (chat_id, tool_call_id)
);
`;
