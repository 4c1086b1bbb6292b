/**
 * `message_agent`, `interrupt_agent` and `list_agents`: the parent steering its sub-agents.
 * Messages and interrupts go to the child's workflow as the same Updates the HTTP API sends
 * (the child's workflow stays the only writer of the child chat); a message carries an id
 * derived from the tool call, so a retried call queues it once.
 */
import { ListAgentsInput, InterruptAgentInput, MessageAgentInput, notAChildText } from '../../domain/sub-agents.js';
import { type SubAgentReads } from '../../db/sub-agents.js';
import { HttpError } from '../../api/http-error.js';
import { type ChatCommands } from '../../temporal/chat-client.js';
import { type ChatTool, type ToolContext, type ToolResult } from '../chat-tool.js';

/** The commands of chat workflows the tools need: the same Updates the HTTP API sends. */
export type SubAgentCommands = Pick<ChatCommands, 'sendMessage' | 'interrupt'>;

/** A refused command is a result the model can read; anything else is a failure to retry. */
async function commandResult(work: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HttpError) return { result: error.detail === undefined ? error.message : `${error.message} ${error.detail}`, isError: true };
    throw error;
  }
}

export function createAgentControlTools(dependencies: { reads: SubAgentReads; commands: () => SubAgentCommands }): ChatTool[] {
  const { reads } = dependencies;
  return [
    {
      name: 'message_agent',
      description: 'Send a follow-up message to one of your sub-agents. It is queued after the sub-agent\'s current work, or handled next when interrupt is true.',
      inputSchema: MessageAgentInput,
      idempotent: true,
      async execute(input: unknown, context: ToolContext): Promise<ToolResult> {
        const request = input as MessageAgentInput;
        if ((await reads.child(context.chatId, request.chat_id)) === undefined) return { result: notAChildText(request.chat_id), isError: true };
        const parent = await reads.parentFacts(context.chatId);
        return commandResult(async () => {
          const sent = await dependencies.commands().sendMessage(request.chat_id, {
            content: [{ type: 'text', text: request.message }],
            modelConfigId: null,
            busyBehavior: request.interrupt === true ? 'interrupt' : 'queue',
            clientMessageId: `agent:${context.chatId}:${context.toolCallId}`,
            apiKeyId: parent?.apiKeyId ?? null,
          });
          return { result: { chat_id: request.chat_id, queued: sent.queued, ...(sent.messageId === null ? {} : { message_id: sent.messageId }) }, isError: false };
        });
      },
    },
    {
      name: 'interrupt_agent',
      description: 'Interrupt one of your sub-agents: it stops its current work and keeps what it produced so far.',
      inputSchema: InterruptAgentInput,
      idempotent: true,
      async execute(input: unknown, context: ToolContext): Promise<ToolResult> {
        const request = input as InterruptAgentInput;
        const child = await reads.child(context.chatId, request.chat_id);
        if (child === undefined) return { result: notAChildText(request.chat_id), isError: true };
        if (child.status === 'waiting' || child.status === 'error') return { result: { chat_id: request.chat_id, status: child.status, interrupted: false, message: 'The sub-agent was not running.' }, isError: false };
        return commandResult(async () => {
          await dependencies.commands().interrupt(request.chat_id);
          return { result: { chat_id: request.chat_id, interrupted: true }, isError: false };
        });
      },
    },
    {
      name: 'list_agents',
      description: 'List the sub-agents this chat started, newest first, with their status.',
      inputSchema: ListAgentsInput,
      idempotent: true,
      async execute(input: unknown, context: ToolContext): Promise<ToolResult> {
        const request = input as ListAgentsInput;
        const page = { limit: request.limit ?? 10, offset: request.offset ?? 0 };
        const { children, total } = await reads.children(context.chatId, page);
        return {
          result: {
            total,
            agents: children.map((child) => ({
              chat_id: child.chatId,
              title: child.title,
              type: child.agentType,
              status: child.status,
              ...(child.lastTurnSummary === null ? {} : { summary: child.lastTurnSummary }),
              ...(child.lastError === null ? {} : { last_error: child.lastError.message }),
              created_at: child.createdAt.toISOString(),
            })),
          },
          isError: false,
        };
      },
    },
  ];
}
