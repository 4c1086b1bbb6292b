/**
 * The `runTool` activity: runs one built-in tool call at most once to completion. A ledger row
 * keyed by (chat, tool call id) records `started` before the tool runs and the result after;
 * a retry after a crash returns the recorded result instead of running the tool again, and a
 * non-idempotent call found `started` (its worker died mid-run) is reported, not repeated.
 */
import { Context } from '@temporalio/activity';
import { type Pool } from '../db/pool.js';
import { readChatRole } from '../db/chat-role.js';
import { z } from 'zod';
import { type ChatMcpTools } from '../mcp/chat-mcp-tools.js';
import { type ChatTool, executeTool, type ToolRegistry } from '../tools/chat-tool.js';
import { type RunToolInput, type ToolOutcome } from './activity-types.js';

export const TOOL_CRASHED_TEXT =
  'The worker running this tool call stopped before it finished, so the call may or may not have taken effect. Check the current state before trying again.';

/**
 * A chat's MCP tool as a ChatTool: found again by name when it runs (the server validates its
 * own input). Idempotent for the ledger: a call cut short by a crash is asked again.
 */
function mcpChatTool(mcp: ChatMcpTools, registry: ToolRegistry, name: string): ChatTool {
  const builtinNames = new Set(registry.all().map((builtin) => builtin.name));
  return {
    name,
    description: `MCP tool ${name}`,
    inputSchema: z.unknown(),
    idempotent: true,
    execute: async (args, context) => (await mcp.call(context.chatId, name, args, builtinNames, await context.role(), context.signal)) ?? { result: `Tool not found: ${name}`, isError: true },
  };
}

export function createRunToolActivity(dependencies: { pool: Pool; tools: ToolRegistry; mcp?: ChatMcpTools }) {
  return async function runTool(input: RunToolInput): Promise<ToolOutcome> {
    const context = Context.current();
    const tool = dependencies.tools.get(input.toolName) ?? (dependencies.mcp === undefined ? undefined : mcpChatTool(dependencies.mcp, dependencies.tools, input.toolName));
    const outcome = (result: unknown, isError: boolean): ToolOutcome => ({ toolCallId: input.toolCallId, toolName: input.toolName, result, isError });
    if (tool === undefined) return outcome(`Tool not found: ${input.toolName}`, true);

    const claimed = await dependencies.pool.query<{ status: string; result: unknown; is_error: boolean | null; attempts: number }>(
      `INSERT INTO tool_call_ledger (chat_id, tool_call_id, tool_name, status) VALUES ($1, $2, $3, 'started')
       ON CONFLICT (chat_id, tool_call_id) DO UPDATE SET attempts = tool_call_ledger.attempts + 1
       RETURNING status, result, is_error, attempts`,
      [input.chatId, input.toolCallId, input.toolName],
    );
    const ledger = claimed.rows[0]!;
    if (ledger.status === 'completed') return outcome(ledger.result, ledger.is_error === true);
    if (ledger.attempts > 1 && !tool.idempotent) {
      await complete(dependencies.pool, input, TOOL_CRASHED_TEXT, true);
      return outcome(TOOL_CRASHED_TEXT, true);
    }

    const heartbeat = setInterval(() => context.heartbeat(), 1_000);
    try {
      const result = await executeTool(tool, input.args, {
        chatId: input.chatId,
        turn: input.turn,
        toolCallId: input.toolCallId,
        signal: context.cancellationSignal,
        heartbeat: () => context.heartbeat(),
        role: memoize(() => readChatRole(dependencies.pool, input.chatId)),
      });
      await complete(dependencies.pool, input, result.result, result.isError);
      return outcome(result.result, result.isError);
    } finally {
      clearInterval(heartbeat);
    }
  };
}

function memoize<T>(read: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= read());
}

async function complete(pool: Pool, input: RunToolInput, result: unknown, isError: boolean): Promise<void> {
  await pool.query(
    `UPDATE tool_call_ledger SET status = 'completed', result = $3, is_error = $4, completed_at = now() WHERE chat_id = $1 AND tool_call_id = $2`,
    [input.chatId, input.toolCallId, JSON.stringify(result ?? null), isError],
  );
}
