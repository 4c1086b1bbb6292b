/** `read_file`, `write_file` and `edit_files`: workspace files, through the agent, inside the root. */
import { z } from 'zod';
import { type ChatTool } from '../chat-tool.js';
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
      execute: (input, context) =>
        withAgent(agents, context.chatId, async (client) => {
          const request = input as WriteFileInput;
          return { result: await client.writeFile({ path: request.path, content: request.content }), isError: false };
        }),
    },
    {
      name: 'edit_files',
      description:
        'Replace text in workspace files. Each old_text must occur exactly once unless replace_all is true. All edits are checked before any file is written: if one fails, nothing changes.',
      inputSchema: EditFilesInput,
      // A replayed edit would apply to already-edited text; after a crash the model is told instead.
      idempotent: false,
      execute: (input, context) =>
        withAgent(agents, context.chatId, async (client) => ({ result: await client.editFiles({ edits: (input as EditFilesInput).edits }), isError: false })),
    },
  ];
}
