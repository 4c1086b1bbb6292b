/** `process_output`, `process_list` and `process_signal`: the workspace's background processes. */
import { z } from 'zod';
import { type ChatTool } from '../chat-tool.js';
import { withAgent, type WorkspaceAgents } from './agent-call.js';
import { CommandTimeout } from './execute-tool.js';

const PROCESS_OUTPUT_DEFAULT_WAIT_MS = 10_000;

export const ProcessOutputInput = z.object({
  process_id: z.string().min(1),
  wait_timeout: CommandTimeout.optional().describe('How long to wait for the process to exit before returning its output so far (default 10s).'),
});
export type ProcessOutputInput = z.infer<typeof ProcessOutputInput>;

export const ProcessListInput = z.object({});

export const ProcessSignalInput = z.object({
  process_id: z.string().min(1),
  signal: z.enum(['terminate', 'kill']),
});
export type ProcessSignalInput = z.infer<typeof ProcessSignalInput>;

export function createProcessTools(agents: WorkspaceAgents): ChatTool[] {
  return [
    {
      name: 'process_output',
      description: 'Read the output of a background process, waiting up to wait_timeout for it to exit.',
      inputSchema: ProcessOutputInput,
      idempotent: true,
      execute: (input, context) =>
        withAgent(agents, context.chatId, async (client) => {
          const request = input as ProcessOutputInput;
          return { result: await client.processOutput({ processId: request.process_id, waitTimeoutMs: request.wait_timeout ?? PROCESS_OUTPUT_DEFAULT_WAIT_MS }), isError: false };
        }),
    },
    {
      name: 'process_list',
      description: 'List the background processes started in the workspace.',
      inputSchema: ProcessListInput,
      idempotent: true,
      execute: (_input, context) => withAgent(agents, context.chatId, async (client) => ({ result: { processes: await client.listProcesses() }, isError: false })),
    },
    {
      name: 'process_signal',
      description: 'Stop a background process: "terminate" asks it to exit, "kill" forces it.',
      inputSchema: ProcessSignalInput,
      idempotent: true,
      execute: (input, context) =>
        withAgent(agents, context.chatId, async (client) => {
          const request = input as ProcessSignalInput;
          return { result: await client.signalProcess({ processId: request.process_id, signal: request.signal }), isError: false };
        }),
    },
  ];
}
