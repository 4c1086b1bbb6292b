/**
 * Workspaces: where a chat's agent does its work. A row outlives any worker; the agent's
 * address and its sealed token let any worker (or, later, another host) reach it.
 * `operation_id` + `operation_heartbeat_at` serialise create/start/stop: one operation owns the
 * row at a time, and a crashed owner's lease expires so a retry can take over.
 */
export const sql = `
CREATE TABLE workspaces (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES users(id),
  name text NOT NULL,
  template text NOT NULL,
  provider text NOT NULL DEFAULT 'local',
  parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'deleted')),
  agent_status text NOT NULL DEFAULT 'not_ready'
    CHECK (agent_status IN ('not_ready', 'connecting', 'ready', 'startup_scripts_failed', 'startup_scripts_timeout', 'disconnected', 'unknown')),
  agent_url text,
  agent_token_sealed text,
  agent_pid integer,
  operation_id text,
  operation_kind text,
  operation_heartbeat_at timestamptz,
  build_number integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_id, name)
);
CREATE INDEX workspaces_owner ON workspaces (owner_id, created_at DESC);
ALTER TABLE chats ADD CONSTRAINT chats_workspace_fk FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
CREATE INDEX chats_workspace ON chats (workspace_id) WHERE workspace_id IS NOT NULL;
`;
