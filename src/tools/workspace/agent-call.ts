/**
 * How workspace tools reach the chat's workspace agent, and what the model is told when they
 * cannot. Every failure here is a result the model can act on: no workspace (create one), a
 * stopped workspace (start it), a call that timed out (retry once) or an agent that is gone
 * (restart the workspace). "Gone" is only claimed when a failed call AND a fresh status read
 * agree, so one slow answer never sends the model off to restart a healthy workspace.
 */
import { AgentRequestError, AgentUnreachableError, type AgentClient } from '../../agent/agent-client.js';
import { type AgentLookup } from '../../workspaces/workspace-service.js';
import { type ToolResult } from '../chat-tool.js';

export const AGENT_TIMEOUT_TEXT = 'connection to the workspace agent timed out. Retry the call once.';
export const AGENT_DISCONNECTED_TEXT = 'workspace agent is disconnected. Use the stop_workspace tool and then the start_workspace tool to restart the workspace.';

/** Finds the agent of a chat's workspace (the workspace service). */
export interface WorkspaceAgents {
  agentFor(chatId: string): Promise<AgentLookup>;
}

/** The second opinion after a call could not reach the agent: a fresh read and health check. */
async function adviceAfterUnreachable(agents: WorkspaceAgents, chatId: string): Promise<string> {
  const fresh = await agents.agentFor(chatId);
  if ('client' in fresh) return AGENT_TIMEOUT_TEXT;
  return fresh.problem === 'agent_unreachable' ? AGENT_DISCONNECTED_TEXT : fresh.message;
}

/** Runs `call` against the chat's agent, turning every way of not reaching it into advice. */
export async function withAgent(agents: WorkspaceAgents, chatId: string, call: (client: AgentClient) => Promise<ToolResult>): Promise<ToolResult> {
  const lookup = await agents.agentFor(chatId);
  if (!('client' in lookup)) return { result: lookup.message, isError: true };
  try {
    return await call(lookup.client);
  } catch (error) {
    if (error instanceof AgentRequestError) return { result: error.message, isError: true };
    if (error instanceof AgentUnreachableError) return { result: await adviceAfterUnreachable(agents, chatId), isError: true };
    throw error;
  }
}
