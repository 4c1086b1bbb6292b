/**
 * `spawn_agent`: delegates a task to a new sub-agent chat. The tool is offered like any other,
 * but the parent's workflow handles its calls: `prepareSubAgent` (an activity) checks the call
 * and describes the child chat, then the workflow starts the child's workflow as a child
 * workflow, which creates the chat itself. The child's id is derived from the call, so a
 * retried preparation names the same child.
 */
import { createHash } from 'node:crypto';
import { fallbackChatTitle } from '../../domain/chat-title.js';
import { NO_GRANDCHILDREN_TEXT, SPAWN_AGENT_TOOL_NAME, SpawnAgentInput } from '../../domain/sub-agents.js';
import { type PrepareSubAgentInput, type PrepareSubAgentResult } from '../../activities/activity-types.js';
import { type SubAgentReads } from '../../db/sub-agents.js';
import { invalidInputText, type ChatTool } from '../chat-tool.js';

export const SPAWN_AGENT_DESCRIPTION = [
  'Start a sub-agent: a new chat that works on a self-contained task while you continue, sharing this chat\'s workspace.',
  'Use type "explore" for read-only investigation and "general" for work that may change files.',
  'The prompt must contain everything the sub-agent needs: it does not see this conversation.',
  'Returns the sub-agent\'s chat_id; collect its final answer with wait_agent.',
].join(' ');

/** A UUID (version 5 layout) derived from the parent chat and the tool call. */
export function childChatId(parentChatId: string, toolCallId: string): string {
  const bytes = createHash('sha1').update(`chatd-sub-agent:${parentChatId}:${toolCallId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The tool as the model sees it; the workflow runs its calls (see `prepareSubAgent`). */
export function createSpawnAgentTool(): ChatTool {
  return {
    name: SPAWN_AGENT_TOOL_NAME,
    description: SPAWN_AGENT_DESCRIPTION,
    inputSchema: SpawnAgentInput,
    idempotent: true,
    execute: () => Promise.reject(new Error('spawn_agent calls are run by the chat workflow, never by runTool')),
  };
}

export function createSubAgentPreparer(reads: SubAgentReads) {
  return async function prepareSubAgent(input: PrepareSubAgentInput): Promise<PrepareSubAgentResult> {
    const parsed = SpawnAgentInput.safeParse(input.args);
    if (!parsed.success) return { kind: 'refused', result: invalidInputText(SPAWN_AGENT_TOOL_NAME, parsed.error) };
    const request = parsed.data;
    const parent = await reads.parentFacts(input.chatId);
    if (parent === undefined) return { kind: 'refused', result: 'spawn_agent failed: this chat no longer exists.' };
    if (parent.parentChatId !== null) return { kind: 'refused', result: NO_GRANDCHILDREN_TEXT };
    if (request.model_config_id !== undefined && !(await reads.enabledModelConfig(request.model_config_id))) {
      return { kind: 'refused', result: `Unknown or disabled model config ${request.model_config_id}. Leave model_config_id out to use this chat's model.` };
    }
    const chatId = childChatId(input.chatId, input.toolCallId);
    const title = request.title ?? fallbackChatTitle(request.prompt);
    // The parent's model unless it was disabled since: then the default, as the child's create resolves it.
    const modelConfigId = request.model_config_id ?? (parent.modelConfigId !== null && (await reads.enabledModelConfig(parent.modelConfigId)) ? parent.modelConfigId : null);
    return {
      kind: 'ready',
      childChatId: chatId,
      create: {
        ownerId: parent.ownerId,
        title,
        content: [{ type: 'text', text: request.prompt }],
        modelConfigId,
        systemPrompt: null,
        labels: {},
        dynamicTools: [],
        clientMessageId: null,
        apiKeyId: parent.apiKeyId,
        workspaceId: parent.workspaceId,
        mcpServerIds: parent.mcpServerIds,
        // A planning chat's sub-agents plan too: they are read-only.
        planMode: parent.planMode,
        parentChatId: input.chatId,
        agentType: request.type,
      },
      result: { chat_id: chatId, type: request.type, title, status: 'running', model_config_id: modelConfigId },
    };
  };
}
