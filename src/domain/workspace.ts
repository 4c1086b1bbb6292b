/**
 * Workspaces as the API and the model see them: where a chat's agent does its work. The
 * agent's token never appears here; it stays sealed in the database.
 */
import { z } from 'zod';

/**
 * `pending` (row made, nothing built) → `starting` (an operation is building it) → `running`;
 * `stopping` → `stopped`; `failed` when a create or start gave up (see `last_error`).
 */
export const WorkspaceStatus = z.enum(['pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'deleted']);
export type WorkspaceStatus = z.infer<typeof WorkspaceStatus>;

/** Whether the agent inside a running workspace is usable, and if not, why. */
export const AgentStatus = z.enum(['not_ready', 'connecting', 'ready', 'startup_scripts_failed', 'startup_scripts_timeout', 'disconnected', 'unknown']);
export type AgentStatus = z.infer<typeof AgentStatus>;

export const WorkspaceName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'Workspace names use lowercase letters, digits and "-" (at most 63).');

export const WorkspaceOperationKind = z.enum(['create', 'start', 'stop']);
export type WorkspaceOperationKind = z.infer<typeof WorkspaceOperationKind>;

export const Workspace = z.object({
  id: z.uuid(),
  owner_id: z.uuid(),
  name: z.string(),
  template: z.string(),
  provider: z.string(),
  parameters: z.record(z.string(), z.string()),
  status: WorkspaceStatus,
  agent_status: AgentStatus,
  /** The create, start or stop in progress, if any. */
  operation: WorkspaceOperationKind.nullable(),
  /** Counts creates and starts; the startup script of each build runs once. */
  build_number: z.number().int(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Workspace = z.infer<typeof Workspace>;
