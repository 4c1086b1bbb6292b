/**
 * The workspace service: what the chat tools (`create_workspace`, `start_workspace`,
 * `stop_workspace`, `list_templates`, `read_template`, and every tool that needs the agent)
 * call. It owns the workspace rows, serialises operations per workspace through the lease in
 * src/db/workspaces.ts, seals agent tokens, and delegates the real work to a
 * `WorkspaceProvider` (see workspace-provider.ts), picked by the row's `provider`.
 *
 * Every operation takes an `operationId` that stays the same across retries of one request
 * (the tool call): a retry after a crash resumes its own operation at once, while a different
 * operation waits (polling) for the one in progress, e.g. a stop waits for a running start.
 * Expected failures come back as results with an `error` text written for the model; only
 * infrastructure failures (the database) and cancellation throw.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentClient, AgentUnreachableError } from '../agent/agent-client.js';
import { type AgentStatus, type Workspace, WorkspaceName, type WorkspaceOperationKind, type WorkspaceStatus } from '../domain/workspace.js';
import { type Pool } from '../db/pool.js';
import { createWorkspaceStore, type WorkspaceRow, workspaceFromRow } from '../db/workspaces.js';
import { type Logger } from '../logger.js';
import { LocalWorkspaceProvider } from './local-provider.js';
import { type WorkspaceBudgets, workspaceBudgets } from './workspace-budgets.js';
import { type AgentAddress, type StartedWorkspace, type WorkspaceProvider, WorkspaceProviderError, type WorkspaceSpec } from './workspace-provider.js';
import { BLANK_TEMPLATE, resolveTemplateParameters, type TemplateView, templateView, type WorkspaceTemplate } from './workspace-template.js';

export const NO_WORKSPACE_TEXT = 'no workspace is associated with this chat. Use the create_workspace tool to create one.';

/** Seals agent tokens for storage and opens them for AgentClient (a SecretBox). */
export interface TokenSealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export interface WorkspaceServiceOptions {
  pool: Pool;
  /** Without it workspaces cannot be created or started: agent tokens are only ever stored sealed. */
  sealer: TokenSealer | undefined;
  /** Default: the built-in `blank` template only. */
  templates?: readonly WorkspaceTemplate[];
  /** Default: one local provider under `dataDir`. */
  providers?: readonly WorkspaceProvider[];
  /** The provider kind new workspaces get (default: the first provider). */
  defaultProvider?: string;
  /** chatd's data directory, for the default local provider. */
  dataDir?: string;
  budgets?: Partial<WorkspaceBudgets>;
  logger?: Logger;
}

export interface OperationInput {
  chatId: string;
  /** The same for every retry of one request (e.g. `<chat id>:<tool call id>`). */
  operationId: string;
  /** Called while waiting and working; pass the activity's heartbeat. */
  heartbeat?: (details?: unknown) => void;
  signal?: AbortSignal;
}

export interface CreateWorkspaceInput extends OperationInput {
  templateName: string;
  name?: string;
  parameters?: Record<string, string>;
}

/** What the model reads after a workspace operation. `error` is set when it did not get what it asked for. */
export interface WorkspaceResult {
  workspace_id?: string;
  name?: string;
  template?: string;
  status?: WorkspaceStatus;
  agent_status?: AgentStatus;
  message?: string;
  error?: string;
  /** The end of a failed or timed-out startup script's output. */
  startup_output?: string;
}

export type AgentLookup =
  | { workspace: Workspace; client: AgentClient }
  | { problem: 'no_workspace' | 'not_running' | 'agent_unreachable'; message: string; workspace?: Workspace };

const NO_SEALER_TEXT = 'Workspaces are unavailable on this server: it has no CHATD_SECRET_KEY to store agent tokens with. Tell the user.';

export function createWorkspaceService(options: WorkspaceServiceOptions) {
  const budgets = workspaceBudgets(options.budgets);
  const store = createWorkspaceStore(options.pool);
  const templates = new Map((options.templates ?? [BLANK_TEMPLATE]).map((template) => [template.name, template]));
  const providerList = options.providers ?? [new LocalWorkspaceProvider({ dataDir: requireDataDir(options.dataDir), budgets: options.budgets })];
  const providers = new Map(providerList.map((provider) => [provider.kind, provider]));
  const defaultProvider = providers.get(options.defaultProvider ?? providerList[0]?.kind ?? '');
  if (defaultProvider === undefined) throw new Error(`unknown default workspace provider: ${options.defaultProvider ?? '(none configured)'}`);
  const { sealer, logger } = options;
  /** A whole create or start: every phase's budget, end to end. */
  const operationBudgetMs = budgets.buildMs + budgets.agentConnectMs + budgets.startupScriptMs;

  const describe = (row: WorkspaceRow): WorkspaceResult => ({ workspace_id: row.id, name: row.name, template: row.template, status: row.status, agent_status: row.agent_status });
  const view = (row: WorkspaceRow): Workspace => workspaceFromRow(row, budgets.operationLeaseMs);
  const templateList = () => [...templates.keys()].join(', ');

  const specFor = (row: WorkspaceRow, template: WorkspaceTemplate): WorkspaceSpec => ({
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    template,
    parameters: row.parameters,
    agent: recordedAgent(row),
  });

  const recordedAgent = (row: WorkspaceRow): AgentAddress | undefined => {
    if (row.agent_url === null || row.agent_token_sealed === null || sealer === undefined) return undefined;
    try {
      return { url: row.agent_url, token: sealer.open(row.agent_token_sealed), pid: row.agent_pid };
    } catch {
      return undefined;
    }
  };

  /**
   * Takes the workspace's lease for `operationId`, waiting while another live operation holds
   * it. Gives up (as a result) after a whole operation's budget.
   */
  const acquire = async (
    row: WorkspaceRow,
    kind: WorkspaceOperationKind,
    input: OperationInput,
  ): Promise<{ row: WorkspaceRow; resumed: boolean } | { result: WorkspaceResult }> => {
    const deadline = Date.now() + operationBudgetMs;
    for (;;) {
      const claim = await store.claimOperation({ id: row.id, operationId: input.operationId, kind, leaseMs: budgets.operationLeaseMs });
      if (claim === undefined) return { result: { error: 'The workspace no longer exists.' } };
      if (claim.claimed) return { row: claim.row, resumed: claim.resumed };
      if (Date.now() >= deadline) {
        return { result: { ...describe(claim.row), error: `Another ${claim.row.operation_kind ?? 'operation'} of this workspace is still in progress. Try again later.` } };
      }
      input.heartbeat?.({ waiting_for: claim.row.operation_kind });
      await sleep(budgets.operationWaitPollMs, undefined, input.signal === undefined ? {} : { signal: input.signal });
    }
  };

  /**
   * Runs provider work under the lease: renews it, forwards heartbeats, and aborts the work
   * when the caller cancels, the budget runs out, or the lease is lost.
   */
  const underLease = async <T>(row: WorkspaceRow, input: OperationInput, budgetMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    const onCancel = () => controller.abort(input.signal?.reason);
    input.signal?.addEventListener('abort', onCancel, { once: true });
    if (input.signal?.aborted === true) onCancel();
    const budget = setTimeout(() => controller.abort(new OperationTimeout(budgetMs)), budgetMs);
    const renewal = setInterval(() => {
      input.heartbeat?.({ workspace_id: row.id });
      store.renewOperation(row.id, input.operationId).then(
        (held) => {
          if (!held) controller.abort(new LeaseLost());
        },
        // A failed renewal is retried on the next tick; the lease outlasts a few of them.
        () => undefined,
      );
    }, Math.max(50, Math.floor(budgets.operationLeaseMs / 3)));
    try {
      return await work(controller.signal);
    } finally {
      clearTimeout(budget);
      clearInterval(renewal);
      input.signal?.removeEventListener('abort', onCancel);
    }
  };

  /** The outcome of provider work that threw, as a result; rethrows cancellation. */
  const failure = async (row: WorkspaceRow, input: OperationInput, kind: WorkspaceOperationKind, error: unknown): Promise<WorkspaceResult> => {
    if (input.signal?.aborted === true) {
      // Cancelled: leave the state as it is and let the lease lapse at once, so a retry of this
      // operation resumes and another one need not wait.
      await store.abandonOperation(row.id, input.operationId);
      throw error;
    }
    const reason = (error as { cause?: unknown }).cause ?? error;
    if (error instanceof LeaseLost || reason instanceof LeaseLost) {
      return { ...describe(row), error: 'Another operation took this workspace over before this one finished. Check its state with start_workspace before trying again.' };
    }
    const timeout = error instanceof OperationTimeout ? error : reason instanceof OperationTimeout ? reason : undefined;
    const message = timeout !== undefined ? `The ${kind} did not finish within ${Math.round(timeout.budgetMs / 1000)} s.` : error instanceof Error ? error.message : String(error);
    const agentStatus: AgentStatus = error instanceof WorkspaceProviderError ? error.agentStatus : 'unknown';
    logger?.warn({ workspaceId: row.id, kind, err: error instanceof WorkspaceProviderError ? undefined : error }, `workspace ${kind} failed`);
    const failed = await store.finishOperation(row.id, input.operationId, { status: 'failed', agentStatus, lastError: message });
    return { ...describe(failed ?? row), error: `The workspace could not be ${kind === 'stop' ? 'stopped' : 'started'}: ${message}` };
  };

  /** Releases a lease taken only to look at the workspace. */
  const release = (row: WorkspaceRow, input: OperationInput) => store.finishOperation(row.id, input.operationId, { status: row.status, agentStatus: row.agent_status });

  /** Creates or starts the workspace through its provider and records the agent. The caller holds the lease. */
  const build = async (claimed: { row: WorkspaceRow; resumed: boolean }, kind: 'create' | 'start', template: WorkspaceTemplate, input: OperationInput): Promise<WorkspaceResult> => {
    const provider = providers.get(claimed.row.provider);
    if (provider === undefined || sealer === undefined) {
      await release(claimed.row, input);
      return { ...describe(claimed.row), error: sealer === undefined ? NO_SEALER_TEXT : `This server has no "${claimed.row.provider}" workspace provider, so it cannot ${kind} this workspace.` };
    }
    // A retry of a build in progress keeps its build number, so its startup script is not run twice.
    const row = await store.beginBuild(claimed.row.id, input.operationId, !(claimed.resumed && claimed.row.status === 'starting'));
    if (row === undefined) return { ...describe(claimed.row), error: 'Another operation took this workspace over. Try again.' };
    let started: StartedWorkspace;
    try {
      started = await underLease(row, input, operationBudgetMs, (signal) =>
        provider[kind](specFor(row, template), {
          buildId: `${row.id}:${row.build_number}`,
          signal,
          heartbeat: (progress) => input.heartbeat?.(progress),
        }),
      );
    } catch (error) {
      return failure(row, input, kind, error);
    }
    const scriptProblem = startupProblem(started);
    const finished = await store.finishOperation(row.id, input.operationId, {
      status: 'running',
      agentStatus: started.agentStatus,
      agent: { url: started.agent.url, tokenSealed: sealer.seal(started.agent.token), pid: started.agent.pid },
      lastError: scriptProblem ?? null,
    });
    if (finished === undefined) return { ...describe(row), error: 'Another operation took this workspace over before this one finished.' };
    const result: WorkspaceResult = { ...describe(finished), message: `Workspace "${finished.name}" is running.` };
    if (scriptProblem === undefined) return result;
    return { ...result, error: `${scriptProblem} The workspace is running and usable: investigate with execute, or tell the user.`, startup_output: started.startup?.outputTail ?? '' };
  };

  const templateFor = (row: WorkspaceRow): WorkspaceTemplate | { error: string } =>
    templates.get(row.template) ?? { error: `This workspace's template "${row.template}" is no longer configured on this server, so it cannot be started. Tell the user.` };

  const service = {
    listTemplates(): TemplateView[] {
      return [...templates.values()].map(templateView);
    },

    getTemplate(name: string): TemplateView | { error: string } {
      const template = templates.get(name);
      return template === undefined ? { error: `Unknown template "${name}". Available templates: ${templateList()}.` } : templateView(template);
    },

    /**
     * Creates a workspace for the chat and waits until its agent is up and its startup script
     * has run. Idempotent per chat: a chat with a workspace gets that one back (a stopped one
     * with advice to start it). The new workspace is bound to the chat before anything is built.
     */
    async createForChat(input: CreateWorkspaceInput): Promise<WorkspaceResult> {
      const binding = await store.forChat(input.chatId);
      if (binding === undefined) return { error: 'Chat not found.' };
      if (binding.workspace !== undefined) return createOnBound(binding.workspace, input);

      const template = templates.get(input.templateName);
      if (template === undefined) return { error: `Unknown template "${input.templateName}". Available templates: ${templateList()}. Use list_templates to see what each one is for.` };
      if (template.external) {
        return {
          error: `Template "${template.name}" runs its agent on the user's own host, so chatd cannot create it. Ask the user to create and start the workspace on their host, then attach it to this chat.`,
        };
      }
      const resolved = resolveTemplateParameters(template, input.parameters ?? {});
      if ('error' in resolved) return { error: resolved.error };
      const name = input.name ?? `${template.name}-${randomBytes(3).toString('hex')}`;
      if (!WorkspaceName.safeParse(name).success) return { error: `Invalid workspace name "${name}": use lowercase letters, digits and "-" (at most 63).` };
      if (sealer === undefined) return { error: NO_SEALER_TEXT };

      const inserted = await store.insertForChat(input.chatId, { id: randomUUID(), name, template: template.name, provider: defaultProvider.kind, parameters: resolved.values }, input.operationId);
      switch (inserted.outcome) {
        case 'no_chat':
          return { error: 'Chat not found.' };
        case 'name_taken':
          return { error: `A workspace named "${name}" already exists. Choose another name, or leave the name out.` };
        case 'bound':
          return createOnBound(inserted.row, input);
        case 'created': {
          const claim = await acquire(inserted.row, 'create', input);
          return 'result' in claim ? claim.result : build(claim, 'create', template, input);
        }
      }
    },

    /** Starts the chat's workspace and waits for its agent and startup script. Already running (and answering) is success. */
    async startForChat(input: OperationInput): Promise<WorkspaceResult> {
      const binding = await store.forChat(input.chatId);
      if (binding?.workspace === undefined) return { error: NO_WORKSPACE_TEXT };
      const template = templateFor(binding.workspace);
      if ('error' in template) return { ...describe(binding.workspace), ...template };
      if (sealer === undefined) return { ...describe(binding.workspace), error: NO_SEALER_TEXT };
      const claim = await acquire(binding.workspace, 'start', input);
      if ('result' in claim) return claim.result;
      if (claim.row.status === 'running' && !claim.resumed && (await answers(claim.row, input))) {
        await release(claim.row, input);
        return { ...describe(claim.row), message: `Workspace "${claim.row.name}" is already running.` };
      }
      return build(claim, 'start', template, input);
    },

    /** Stops the chat's workspace, after any create or start in progress. Already stopped is success. */
    async stopForChat(input: OperationInput): Promise<WorkspaceResult> {
      const binding = await store.forChat(input.chatId);
      if (binding?.workspace === undefined) return { error: 'no workspace is associated with this chat, so there is nothing to stop.' };
      const claim = await acquire(binding.workspace, 'stop', input);
      if ('result' in claim) return claim.result;
      if (claim.row.status === 'stopped') {
        await release(claim.row, input);
        return { ...describe(claim.row), message: `Workspace "${claim.row.name}" is already stopped.` };
      }
      const provider = providers.get(claim.row.provider);
      const template = templates.get(claim.row.template) ?? { ...BLANK_TEMPLATE, name: claim.row.template };
      if (provider === undefined) {
        await release(claim.row, input);
        return { ...describe(claim.row), error: `This server has no "${claim.row.provider}" workspace provider, so it cannot stop this workspace.` };
      }
      const row = (await store.beginStop(claim.row.id, input.operationId)) ?? claim.row;
      try {
        await underLease(row, input, budgets.buildMs, (signal) => provider.stop(specFor(row, template), { signal, heartbeat: (progress) => input.heartbeat?.(progress) }));
      } catch (error) {
        return failure(row, input, 'stop', error);
      }
      const stopped = await store.finishOperation(row.id, input.operationId, { status: 'stopped', agentStatus: 'not_ready', agent: null, lastError: null });
      return { ...describe(stopped ?? row), message: `Workspace "${row.name}" is stopped. Use start_workspace to start it again.` };
    },

    /**
     * The chat's agent, checked to answer, for tools that work in the workspace; otherwise the
     * problem with a message for the model.
     */
    async agentFor(chatId: string): Promise<AgentLookup> {
      const binding = await store.forChat(chatId);
      const row = binding?.workspace;
      if (row === undefined) return { problem: 'no_workspace', message: NO_WORKSPACE_TEXT };
      const workspace = view(row);
      const agent = recordedAgent(row);
      if (row.status !== 'running' || agent === undefined) {
        const state = workspace.operation === null ? `the workspace is ${row.status}` : `the workspace is busy with a ${workspace.operation} in progress`;
        return { problem: 'not_running', workspace, message: `workspace has no running agent: ${state}. Use the start_workspace tool to start it.` };
      }
      const client = new AgentClient({ url: agent.url, token: agent.token, chatId, dialTimeoutMs: budgets.dialTimeoutMs });
      try {
        // A hung agent accepts connections and never answers: the probe gets the dial budget, not the client's 30 s.
        await new AgentClient({ url: agent.url, token: agent.token, chatId, dialTimeoutMs: budgets.dialTimeoutMs, requestTimeoutMs: budgets.dialTimeoutMs }).health();
        return { workspace, client };
      } catch (error) {
        const provider = providers.get(row.provider);
        const inspected = provider === undefined ? undefined : await provider.inspect(specFor(row, templates.get(row.template) ?? BLANK_TEMPLATE), { signal: AbortSignal.timeout(budgets.dialTimeoutMs * 2) }).catch(() => undefined);
        if (inspected?.state === 'stopped') {
          return { problem: 'not_running', workspace, message: 'workspace has no running agent: its agent process is gone. Use the start_workspace tool to start it.' };
        }
        const detail = error instanceof Error ? error.message : String(error);
        const what = error instanceof AgentUnreachableError && error.reason === 'timeout' ? 'connection to the workspace agent timed out' : `workspace agent is disconnected (${detail})`;
        return {
          problem: 'agent_unreachable',
          workspace,
          message: `${what}. Try once more; if it still does not answer, use stop_workspace and then start_workspace to restart it.`,
        };
      }
    },
  };

  /** create_workspace on a chat that already has a workspace. */
  const createOnBound = async (bound: WorkspaceRow, input: CreateWorkspaceInput): Promise<WorkspaceResult> => {
    if (bound.status === 'running' && bound.operation_id === null) return { ...describe(bound), message: `This chat already has workspace "${bound.name}"; it was not replaced.` };
    const claim = await acquire(bound, 'create', input);
    if ('result' in claim) return claim.result;
    const { row } = claim;
    if (row.status === 'running' || row.status === 'stopped' || row.status === 'stopping') {
      await release(row, input);
      if (row.status === 'running') return { ...describe(row), message: `This chat already has workspace "${row.name}"; it was not replaced.` };
      return { ...describe(row), error: `This chat's workspace "${row.name}" is stopped. Use the start_workspace tool to start it.` };
    }
    // pending, starting or failed: an earlier create did not finish; finish it.
    const template = templateFor(row);
    if ('error' in template) {
      await release(row, input);
      return { ...describe(row), ...template };
    }
    return build(claim, 'create', template, input);
  };

  /** Whether the workspace's agent answers (the provider's view; a recorded address may be stale). */
  const answers = async (row: WorkspaceRow, input: OperationInput): Promise<boolean> => {
    const provider = providers.get(row.provider);
    if (provider === undefined) return false;
    const inspected = await provider
      .inspect(specFor(row, templates.get(row.template) ?? BLANK_TEMPLATE), { signal: input.signal ?? AbortSignal.timeout(budgets.dialTimeoutMs * 2) })
      .catch(() => undefined);
    return inspected?.state === 'running';
  };

  return service;
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>;

/** Why a started workspace's agent is not `ready`, in words for the model and `last_error`. */
function startupProblem(started: StartedWorkspace): string | undefined {
  if (started.agentStatus === 'startup_scripts_failed') {
    return `Its startup script failed${started.startup?.exitCode === null || started.startup === undefined ? '' : ` (exit code ${started.startup.exitCode})`}.`;
  }
  if (started.agentStatus === 'startup_scripts_timeout') return 'Its startup script did not finish in time.';
  return undefined;
}

function requireDataDir(dataDir: string | undefined): string {
  if (dataDir === undefined) throw new Error('the workspace service needs a dataDir for its local provider (or explicit providers)');
  return dataDir;
}

class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
  constructor() {
    super('the operation lost its lease on the workspace');
  }
}

class OperationTimeout extends Error {
  override readonly name = 'OperationTimeout';
  constructor(readonly budgetMs: number) {
    super(`the operation ran out of its ${budgetMs} ms budget`);
  }
}
