/**
 * The built-in `advisor` tool's shared definitions: its admin settings, and the exclusive-tool
 * rule the workflow applies (a step that calls `advisor` with any other tool runs none of them).
 * Workflow-safe: no Node imports.
 */
import { z } from 'zod';

export const ADVISOR_TOOL_NAME = 'advisor';
/** Tools that must be called alone in a step (the reference's ExclusiveToolNames). */
export const EXCLUSIVE_TOOL_NAMES: ReadonlySet<string> = new Set([ADVISOR_TOOL_NAME]);

export const ADVISOR_DEFAULT_MAX_OUTPUT_TOKENS = 16_384;

/** The reference's texts for the exclusive call and for each call beside it. */
export const EXCLUSIVE_TOOL_ALONE_TEXT = `${ADVISOR_TOOL_NAME} must be called alone, without other tools in the same batch. Retry with only the ${ADVISOR_TOOL_NAME} call.`;
export const EXCLUSIVE_TOOL_SIBLING_TEXT = `this tool was skipped because ${ADVISOR_TOOL_NAME} must run alone in its batch. Retry your tool calls without ${ADVISOR_TOOL_NAME}, or call ${ADVISOR_TOOL_NAME} separately first.`;

export const AdvisorSettings = z.strictObject({
  enabled: z.boolean(),
  /** null: the chat's own model. */
  model_config_id: z.uuid().nullable().default(null),
  max_output_tokens: z.number().int().min(1).max(1_000_000).default(ADVISOR_DEFAULT_MAX_OUTPUT_TOKENS),
  /** 0: unlimited. */
  max_uses_per_turn: z.number().int().min(0).max(10_000).default(0),
});
export type AdvisorSettings = z.infer<typeof AdvisorSettings>;

export const DEFAULT_ADVISOR_SETTINGS: AdvisorSettings = { enabled: false, model_config_id: null, max_output_tokens: ADVISOR_DEFAULT_MAX_OUTPUT_TOKENS, max_uses_per_turn: 0 };

/** The one eligibility decision: it controls both whether the tool is offered and its guidance. */
export function advisorEligible(settings: AdvisorSettings, chat: { parentChatId: string | null }): boolean {
  return settings.enabled && chat.parentChatId === null;
}

/**
 * Whether a step's calls break the exclusive-tool rule: an exclusive tool called together with
 * any other call (another exclusive call included).
 */
export function breaksExclusiveRule(calls: ReadonlyArray<{ toolName: string }>): boolean {
  return calls.length > 1 && calls.some((call) => EXCLUSIVE_TOOL_NAMES.has(call.toolName));
}

/** The error result each call of a step that broke the rule gets instead of running. */
export function exclusiveRuleText(toolName: string): string {
  return EXCLUSIVE_TOOL_NAMES.has(toolName) ? EXCLUSIVE_TOOL_ALONE_TEXT : EXCLUSIVE_TOOL_SIBLING_TEXT;
}
