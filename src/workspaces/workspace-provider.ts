/**
 * The workspace provider contract: how a kind of workspace (a local directory, a Docker
 * container, a Kubernetes pod, a remote host) is created, started, stopped and inspected.
 * The workspace service owns everything else (the database row, the operation lease, sealing
 * the agent token, the model-facing results), so a new kind is one class registered with the
 * service, with no change to workflows or tools.
 *
 * Contract:
 * - Every method is idempotent and convergent: it may be called again after a crash, on any
 *   worker, with the workspace in whatever state the last attempt left it. `create` and `start`
 *   end with the agent answering `health()`; `stop` ends with nothing of the workspace running
 *   (already stopped is success). The service never calls two methods on one workspace at once.
 * - `create` and `start` run the template's startup script through the agent with the build's
 *   `buildId` in the execute id, so a retried build attaches to the script instead of running
 *   it twice, and return how it ended (`agentStatus`). A failing script is not an error: the
 *   workspace stays up and the result says why it is not `ready`.
 * - Failures the model should read are thrown as `WorkspaceProviderError`; anything else thrown
 *   is reported the same way, with its message.
 * - `context.heartbeat(progress)` at least every few seconds during long waits keeps the calling
 *   activity alive; `context.signal` aborts on cancellation, on the operation's overall budget,
 *   and when the operation lost its lease: stop promptly and let the abort error propagate.
 * - The agent's token is chosen by the provider (a new random one per agent process) and
 *   returned with its address; the service stores it sealed and hands it only to AgentClient.
 */
import { type AgentStatus } from '../domain/workspace.js';
import { type WorkspaceTemplate } from './workspace-template.js';

/** Where a workspace's agent answers, the bearer token it expects, and its process when the provider knows one. */
export interface AgentAddress {
  url: string;
  token: string;
  pid: number | null;
}

/** What a provider needs to know about one workspace. */
export interface WorkspaceSpec {
  id: string;
  ownerId: string;
  name: string;
  template: WorkspaceTemplate;
  /** Parameter values with defaults applied, by parameter name. */
  parameters: Record<string, string>;
  /** The agent last recorded for this workspace; it may be gone. */
  agent: AgentAddress | undefined;
}

export interface ProviderProgress {
  phase: 'build' | 'agent_connecting' | 'startup_script' | 'stopping';
  detail?: string;
}

export interface ProviderContext {
  heartbeat(progress: ProviderProgress): void;
  signal: AbortSignal;
}

export interface BuildContext extends ProviderContext {
  /** `<workspace id>:<build number>`: the same for every retry of one create or start, new for the next. */
  buildId: string;
}

/** A workspace whose agent is up. */
export interface StartedWorkspace {
  agent: AgentAddress;
  agentStatus: Extract<AgentStatus, 'ready' | 'startup_scripts_failed' | 'startup_scripts_timeout'>;
  /** How a failed or timed-out startup script ended: its exit code and the tail of its output. */
  startup?: { exitCode: number | null; outputTail: string };
}

export type InspectedWorkspace =
  | { state: 'running'; agent: AgentAddress }
  /** Nothing of the workspace is running (or it does not exist). */
  | { state: 'stopped' }
  /** Something runs, but its agent does not answer. */
  | { state: 'unreachable'; detail: string };

export interface WorkspaceProvider {
  /** Stored in `workspaces.provider`; picks the provider for a workspace's later operations. */
  readonly kind: string;
  /** Makes the workspace (seeding the template's files once), then does what `start` does. */
  create(spec: WorkspaceSpec, context: BuildContext): Promise<StartedWorkspace>;
  /** Starts the agent unless a live one already answers, then runs the startup script. */
  start(spec: WorkspaceSpec, context: BuildContext): Promise<StartedWorkspace>;
  stop(spec: WorkspaceSpec, context: ProviderContext): Promise<void>;
  inspect(spec: WorkspaceSpec, context: { signal: AbortSignal }): Promise<InspectedWorkspace>;
}

/** A failure the model should read, with the agent status it leaves the workspace in. */
export class WorkspaceProviderError extends Error {
  override readonly name = 'WorkspaceProviderError';
  constructor(
    message: string,
    readonly agentStatus: Extract<AgentStatus, 'not_ready' | 'unknown'> = 'not_ready',
  ) {
    super(message);
  }
}
