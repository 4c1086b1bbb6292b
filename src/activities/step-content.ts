/**
 * A model step's content, accumulated from stream parts in the order they arrived: text and
 * reasoning deltas merge into parts, tool inputs build up until their call is complete, and
 * provider-executed tool blocks stay paired with their results.
 */
import { type ChatMessagePart } from '../domain/chat.js';
import { repairProviderToolParts } from '../prompt/provider-tool-repair.js';

/** Accumulates a step's content from stream parts, in the order the parts arrived. */
export class StepContent {
  readonly parts: ChatMessagePart[] = [];
  private readonly toolInputs = new Map<string, { name: string; input: string; providerExecuted: boolean }>();

  appendText(type: 'text' | 'reasoning', delta: string): void {
    const last = this.parts[this.parts.length - 1];
    if (last !== undefined && last.type === type) last.text += delta;
    else this.parts.push({ type, text: delta });
  }

  startToolInput(id: string, name: string, providerExecuted = false): void {
    this.toolInputs.set(id, { name, input: '', providerExecuted });
  }

  appendToolInput(id: string, delta: string): void {
    const entry = this.toolInputs.get(id);
    if (entry !== undefined) entry.input += delta;
  }

  addToolCall(id: string, name: string, args: unknown, providerExecuted: boolean): void {
    this.toolInputs.delete(id);
    this.parts.push({ type: 'tool-call', tool_call_id: id, tool_name: name, args: args as never, ...(providerExecuted ? { provider_executed: true } : {}) });
  }

  /** A provider-executed tool's result (e.g. web search results), kept in the step with its call. */
  addProviderToolResult(id: string, name: string, output: unknown): void {
    this.parts.push({ type: 'tool-result', tool_call_id: id, tool_name: name, result: (output ?? null) as never, is_error: false, provider_executed: true });
  }

  /** The step's parts as persisted: provider tool blocks repaired (see provider-tool-repair). */
  complete(): ChatMessagePart[] {
    return repairProviderToolParts(this.parts);
  }

  /** Partial output for an interrupted step: unfinished tool inputs become calls with what arrived. */
  partial(): ChatMessagePart[] {
    const pending: ChatMessagePart[] = [...this.toolInputs.entries()].map(([id, entry]) => {
      let args: unknown = {};
      try {
        args = JSON.parse(entry.input);
      } catch {
        args = { partial_input: entry.input };
      }
      return { type: 'tool-call', tool_call_id: id, tool_name: entry.name, args: args as never, ...(entry.providerExecuted ? { provider_executed: true } : {}) };
    });
    return repairProviderToolParts([...this.parts, ...pending]);
  }
}
