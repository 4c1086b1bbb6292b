/**
 * Sub-agents: child chats a root chat delegates tasks to. Their tool names, inputs and the
 * texts the model sees. Workflow-safe: imports zod only.
 */
import { z } from 'zod';
import { AgentType } from './tool-policy.js';

export const SPAWN_AGENT_TOOL_NAME = 'spawn_agent';

/** The reference's refusal when a sub-agent tries to delegate further (depth is limited to one). */
export const NO_GRANDCHILDREN_TEXT = 'delegated chats cannot create child subagents';

export const DEFAULT_WAIT_AGENT_SECONDS = 300;
export const MAX_WAIT_AGENT_SECONDS = 3_600;

export const SpawnAgentInput = z.strictObject({
  type: AgentType.describe('"explore" for read-only investigation, "general" for work that may change files.'),
  prompt: z.string().trim().min(1, 'prompt must describe the task').max(100_000).describe('The task, with everything the sub-agent needs to know.'),
  title: z.string().trim().min(1).max(80).optional().describe('A short title for the sub-agent chat.'),
  model_config_id: z.uuid().optional().describe("A model config id for the sub-agent (default: this chat's model)."),
});
export type SpawnAgentInput = z.infer<typeof SpawnAgentInput>;

export const WaitAgentInput = z.strictObject({
  chat_id: z.uuid(),
  timeout_seconds: z.number().int().min(1).max(MAX_WAIT_AGENT_SECONDS).optional().describe(`How long to wait (default ${DEFAULT_WAIT_AGENT_SECONDS}).`),
});
export type WaitAgentInput = z.infer<typeof WaitAgentInput>;

export const MessageAgentInput = z.strictObject({
  chat_id: z.uuid(),
  message: z.string().trim().min(1),
  interrupt: z.boolean().optional().describe('Stop what the sub-agent is doing and handle this message next (default: queue it).'),
});
export type MessageAgentInput = z.infer<typeof MessageAgentInput>;

export const InterruptAgentInput = z.strictObject({ chat_id: z.uuid() });
export type InterruptAgentInput = z.infer<typeof InterruptAgentInput>;

export const ListAgentsInput = z.strictObject({
  limit: z.number().int().min(1).max(50).optional().describe('At most this many (default 10, max 50).'),
  offset: z.number().int().min(0).optional(),
});
export type ListAgentsInput = z.infer<typeof ListAgentsInput>;

export function notAChildText(chatId: string): string {
  return `No sub-agent ${chatId} belongs to this chat. Use list_agents to see this chat's sub-agents.`;
}
