/**
 * The tools of one model step: the tool set the model is offered (built-ins, then MCP tools,
 * provider-executed tools and the chat's client-executed tools, earlier kinds winning a name
 * collision), and what the workflow must do with each call the model made.
 */
import { jsonSchema, tool, type Tool, type ToolSet } from 'ai';
import { z } from 'zod';
import { type ChatMessagePart, type DynamicTool } from '../domain/chat.js';
import { SPAWN_AGENT_TOOL_NAME } from '../domain/sub-agents.js';
import { builtinToolAllowed, stopsTurnAfter, type ChatRole } from '../domain/tool-policy.js';
import { type MessageRow } from '../db/chat-rows.js';
import { type McpToolOffer } from '../mcp/chat-mcp-tools.js';
import { type ChatTool, type ToolRegistry } from '../tools/chat-tool.js';
import { type LlmStepResult, type StepToolCall, type ToolCallDisposition } from './activity-types.js';

/**
 * A built-in as the model is offered it. Built-ins never change while the process runs, and
 * converting a zod schema to JSON Schema costs about a millisecond for the whole set: too much
 * to repeat on every step of every turn (a send's first token waits on its first step).
 */
const offeredBuiltins = new WeakMap<ChatTool, Tool>();

function offeredBuiltin(builtin: ChatTool): Tool {
  let offered = offeredBuiltins.get(builtin);
  if (offered === undefined) {
    // The model writes a tool's input, so it sees the input side of any transform.
    offered = tool({ description: builtin.description, inputSchema: jsonSchema(z.toJSONSchema(builtin.inputSchema, { io: 'input' }) as never) });
    offeredBuiltins.set(builtin, offered);
  }
  return offered;
}

/** The offered tool set, in the order that decides name collisions. */
export function buildToolSet(offer: { builtins: readonly ChatTool[]; mcp: readonly McpToolOffer[]; providerTools: ToolSet; dynamicTools: readonly DynamicTool[] }): ToolSet {
  const toolSet: ToolSet = {};
  for (const builtin of offer.builtins) toolSet[builtin.name] = offeredBuiltin(builtin);
  for (const mcp of offer.mcp) toolSet[mcp.name] = tool({ description: mcp.description, inputSchema: jsonSchema(mcp.inputSchema as never) });
  // Provider-executed tools (web search) come after chatd's own, which win a name collision.
  for (const [name, providerTool] of Object.entries(offer.providerTools)) toolSet[name] ??= providerTool;
  for (const dynamic of offer.dynamicTools) {
    if (toolSet[dynamic.name] !== undefined) continue; // a built-in wins a name collision
    toolSet[dynamic.name] = tool({ description: dynamic.description, inputSchema: jsonSchema(dynamic.input_schema as never) });
  }
  return toolSet;
}

/** The tools of one step: what the model may call, by kind, in the chat's role. */
export interface StepTools {
  tools: ToolRegistry;
  role: ChatRole;
  dynamicNames: ReadonlySet<string>;
  mcpNames: ReadonlySet<string>;
}

function dispositionOf(name: string, step: StepTools): ToolCallDisposition {
  const builtin = step.tools.get(name);
  if (builtin !== undefined) {
    // The workflow starts sub-agents itself (child workflows); a sub-agent asking is refused there.
    if (name === SPAWN_AGENT_TOOL_NAME) return 'spawn';
    return builtinToolAllowed(name, step.role) ? 'builtin' : 'inactive';
  }
  // MCP tools run through runTool like built-ins; it finds them again by name.
  if (step.mcpNames.has(name)) return 'builtin';
  return step.dynamicNames.has(name) ? 'dynamic' : 'unknown';
}

/** Tells the workflow what to do with each call the step made. */
function classifyCalls(content: ChatMessagePart[], step: StepTools): StepToolCall[] {
  return content.flatMap((part) => {
    // Provider-executed calls (web search) already ran at the provider: nothing to dispatch.
    if (part.type !== 'tool-call' || part.provider_executed === true) return [];
    const disposition = dispositionOf(part.tool_name, step);
    const stopAfter = disposition === 'builtin' && (step.tools.get(part.tool_name)?.stopAfter === true || stopsTurnAfter(part.tool_name, step.role));
    return [{ toolCallId: part.tool_call_id, toolName: part.tool_name, args: part.args, disposition, stopAfter }];
  });
}

export function resultFromMessage(row: MessageRow, step: StepTools): LlmStepResult {
  const toolCalls = classifyCalls(row.content, step);
  return { accepted: true, messageId: row.id, toolCalls, finishReason: toolCalls.length > 0 ? 'tool-calls' : 'stop' };
}
