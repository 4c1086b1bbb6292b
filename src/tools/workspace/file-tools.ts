/** `read_file`, `write_file` and `edit_files`: workspace files, through the agent, inside the root. */
import { z } from 'zod';
import { planModeAllowsWrite } from '../../domain/tool-policy.js';
import { type ChatTool, type ToolContext, type ToolResult } from '../chat-tool.js';
import { withAgent, type WorkspaceAgents } from './agent-call.js';

export const ReadFileInput = z.object({
  path: z.string().min(1),
  offset: z.number().int().min(1).optional().describe('First line to read, 1-based.'),
  limit: z.number().int().min(1).optional().describe('How many lines to read (default 2000).'),
});
export type ReadFileInput = z.infer<typeof ReadFileInput>;

export const WriteFileInput = z.object({
  path: z.string().min(1),
  content: z.string(),
});
export type WriteFileInput = z.infer<typeof WriteFileInput>;

export const FileEdit = z.object({
  path: z.string().min(1),
  old_text: z.string().min(1, 'old_text must not be empty; use write_file to create a file'),
  new_text: z.string(),
  replace_all: z.boolean().optional(),
});

export const EditFilesInput = z.object({
  edits: z.array(FileEdit).min(1, 'give at least one edit'),
});
export type EditFilesInput = z.infer<typeof EditFilesInput>;

/** In plan mode only the Markdown plan may be written: every other path is refused, and nothing is written. */
async function planModeRefusal(context: ToolContext, paths: readonly string[]): Promise<ToolResult | undefined> {
  if (!(await context.role()).planMode) return undefined;
  const refused = paths.filter((candidate) => !planModeAllowsWrite(candidate));
  if (refused.length === 0) return undefined;
  return { result: `In plan mode only Markdown plan files (.md) can be written; not written: ${refused.join(', ')}. Write the plan to a .md file and propose it with propose_plan.`, isError: true };
}

export function createFileTools(agents: WorkspaceAgents): ChatTool[] {
  return [
    {
      name: 'read_file',
      description: 'Read a text file from the workspace, with line numbers. Use offset and limit for long files.',
      inputSchema: ReadFileInput,
      idempotent: true,
      execute: (input, context) =>
        withAgent(agents, context.chatId, async (client) => {
          const request = input as ReadFileInput;
          return {
            result: await client.readFile({ path: request.path, ...(request.offset === undefined ? {} : { offset: request.offset }), ...(request.limit === undefined ? {} : { limit: request.limit }) }),
            isError: false,
          };
        }),
    },
    {
      name: 'write_file',
      description: 'Create or replace a file in the workspace with the given content.',
      inputSchema: WriteFileInput,
      // Writing the same content twice leaves the same file.
      idempotent: true,
      execute: async (input, context) => {
        const request = input as WriteFileInput;
        const refused = await planModeRefusal(context, [request.path]);
        if (refused !== undefined) return refused;
        return withAgent(agents, context.chatId, async (client) => {
          return { result: await client.writeFile({ path: request.path, content: request.content }), isError: false };
        });
      },
    },
    {
      name: 'edit_files',
      description:
        'Replace text in workspace files. Each old_text must occur exactly once unless replace_all is true. All edits are checked before any file is written: if one fails, nothing changes.',
      inputSchema: EditFilesInput,
      // A replayed edit would apply to already-edited text; after a crash the model is told instead.
      idempotent: false,
      execute: async (input, context) => {
        const { edits } = input as EditFilesInput;
        const refused = await planModeRefusal(context, edits.map((edit) => edit.path));
        if (refused !== undefined) return refused;
        return withAgent(agents, context.chatId, async (client) => ({ result: await client.editFiles({ edits }), isError: false }));
      },
    },
  ];
}
