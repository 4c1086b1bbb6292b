/**
 * `propose_plan`: hands a plan written in the workspace to the user. The Markdown file (at most
 * 32 KiB) is stored as a chat file of kind `plan`; a successful call ends the turn in plan mode.
 */
import path from 'node:path';
import { z } from 'zod';
import { createChatFiles } from '../../db/chat-files.js';
import { type Pool } from '../../db/pool.js';
import { type ChatTool } from '../chat-tool.js';
import { withAgent, type WorkspaceAgents } from '../workspace/agent-call.js';

export const MAX_PLAN_BYTES = 32 * 1024;

export const ProposePlanInput = z.strictObject({
  path: z
    .string()
    .min(1)
    .refine((value) => value.toLowerCase().endsWith('.md'), 'the plan must be a Markdown file (.md)')
    .describe('The workspace path of the Markdown plan file.'),
});
export type ProposePlanInput = z.infer<typeof ProposePlanInput>;

export function createProposePlanTool(dependencies: { agents: WorkspaceAgents; pool: Pool }): ChatTool {
  const files = createChatFiles(dependencies.pool);
  return {
    name: 'propose_plan',
    description: 'Present your plan to the user: give the path of the Markdown file (.md, at most 32 KiB) you wrote it in. Your turn ends when the plan is proposed.',
    inputSchema: ProposePlanInput,
    // A repeat stores one more copy of the same plan; nothing else changes.
    idempotent: true,
    execute: (input, context) =>
      withAgent(dependencies.agents, context.chatId, async (client) => {
        const request = input as ProposePlanInput;
        // A larger file is refused by the agent with its size and the limit.
        const { bytes } = await client.readFileBytes({ path: request.path, maxBytes: MAX_PLAN_BYTES });
        const text = bytes.toString('utf8');
        if (text.trim() === '') return { result: `The plan ${request.path} is empty: write the plan first.`, isError: true };
        const { rows } = await dependencies.pool.query<{ owner_id: string }>('SELECT owner_id FROM chats WHERE id = $1', [context.chatId]);
        const owner = rows[0];
        if (owner === undefined) return { result: 'propose_plan failed: the chat no longer exists.', isError: true };
        const file = await files.insert({ ownerId: owner.owner_id, name: path.basename(request.path), mediaType: 'text/plain', data: bytes, kind: 'plan' });
        return { result: { file_id: file.id, kind: 'plan', path: request.path, size_bytes: file.size_bytes, plan: text }, isError: false };
      }),
  };
}
