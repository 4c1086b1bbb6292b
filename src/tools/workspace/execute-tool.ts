/**
 * `execute`: runs a shell command in the chat's workspace through its agent. The tool call id
 * is the agent's execution id, so a retried activity (its worker died mid-command) attaches to
 * the command already running, or reads its recorded result, instead of starting it again.
 */
import { z } from 'zod';
import { type ChatTool } from '../chat-tool.js';
import { withAgent, type WorkspaceAgents } from './agent-call.js';

export const EXECUTE_DEFAULT_TIMEOUT_MS = 10_000;
export const EXECUTE_MAX_TIMEOUT_MS = 4 * 60 * 60 * 1000;

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A timeout as seconds (`30`) or a duration (`30s`, `5m`, `1h30m`), in milliseconds. */
export const CommandTimeout = z
  .union([z.number().positive(), z.string().trim().regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'use seconds (30) or a duration such as "30s", "5m" or "1h"')])
  .transform((value) => {
    if (typeof value === 'number') return Math.round(value * 1000);
    let total = 0;
    for (const match of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
    return Math.round(total);
  })
  .refine((milliseconds) => milliseconds <= EXECUTE_MAX_TIMEOUT_MS, 'the timeout may be at most 4 hours');

export const ExecuteInput = z.object({
  command: z.string().min(1, 'command must not be empty'),
  model_intent: z.string().optional().describe('One short sentence saying why you run this command.'),
  timeout: CommandTimeout.optional().describe('How long to wait: seconds, or a duration such as "30s" or "5m" (default 10s, max 4h).'),
  workdir: z.string().optional().describe('Working directory, relative to the workspace root (default: the root).'),
  run_in_background: z.boolean().optional().describe('Start the command and return at once; read its output with process_output.'),
});
export type ExecuteInput = z.infer<typeof ExecuteInput>;

export function createExecuteTool(agents: WorkspaceAgents): ChatTool {
  return {
    name: 'execute',
    description:
      'Run a shell command in the workspace, non-interactively. Output is capped at 32 KB. Long-running servers and watchers should run in the background (run_in_background, or end the command with "&").',
    inputSchema: ExecuteInput,
    // The agent runs each tool call id at most once; a retry reads the same command's result.
    idempotent: true,
    async execute(input, context) {
      const request = input as ExecuteInput;
      return withAgent(agents, context.chatId, async (client) => {
        const result = await client.execute({
          id: `tool:${context.chatId}:${context.toolCallId}`,
          command: request.command,
          ...(request.workdir === undefined ? {} : { workdir: request.workdir }),
          timeoutMs: request.timeout ?? EXECUTE_DEFAULT_TIMEOUT_MS,
          background: request.run_in_background === true,
        });
        return { result, isError: !result.success };
      });
    },
  };
}
