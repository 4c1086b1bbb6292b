/**
 * The tool contract and registry. A tool validates its input with zod and returns a result the
 * model can act on; expected failures are `{ isError: true }` results, never exceptions.
 * Tools run inside the `runTool` activity, which owns retries and the exactly-once ledger.
 */
import { type z } from 'zod';
import { type ChatRole } from '../domain/tool-policy.js';

export interface ToolContext {
  chatId: string;
  /** The turn the call belongs to. */
  turn: number;
  toolCallId: string;
  signal: AbortSignal;
  heartbeat: () => void;
  /** The chat's role this turn (plan mode, sub-agent), read once when a tool asks. */
  role: () => Promise<ChatRole>;
}

export interface ToolResult {
  result: unknown;
  isError: boolean;
}

export interface ChatTool {
  name: string;
  description: string;
  inputSchema: z.ZodType;
  /** Ends the turn when it succeeds (e.g. propose_plan). */
  stopAfter?: boolean;
  /**
   * Whether running the tool twice is harmless. A non-idempotent call found half-done after a
   * crash is not run again; the model is told it may or may not have taken effect.
   */
  idempotent: boolean;
  /**
   * Whether the tool is offered to the model in this chat (default: always). A tool not offered
   * may still be called by a model that guesses it; its `execute` refuses then.
   */
  offered?(chatId: string): Promise<boolean>;
  execute(input: unknown, context: ToolContext): Promise<ToolResult>;
}

export class ToolRegistry {
  private readonly tools: Map<string, ChatTool>;

  constructor(tools: readonly ChatTool[] = []) {
    this.tools = new Map(tools.map((tool) => [tool.name, tool]));
  }

  get(name: string): ChatTool | undefined {
    return this.tools.get(name);
  }

  all(): ChatTool[] {
    return [...this.tools.values()];
  }
}

/** What the model is told when its input does not match a tool's schema: every problem, by path. */
export function invalidInputText(toolName: string, error: z.ZodError): string {
  return `Invalid input for ${toolName}: ${error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ')}`;
}

/** Validates input with the tool's schema, turning a mismatch into a result the model can fix. */
export async function executeTool(tool: ChatTool, input: unknown, context: ToolContext): Promise<ToolResult> {
  const parsed = tool.inputSchema.safeParse(input);
  if (!parsed.success) return { result: invalidInputText(tool.name, parsed.error), isError: true };
  try {
    return await tool.execute(parsed.data, context);
  } catch (error) {
    if (context.signal.aborted) throw error;
    return { result: `${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
  }
}
