/**
 * The names MCP tools get in front of the model: `<server>__<tool>`, reduced to the characters
 * providers accept and cut to their length limit (64 for OpenAI and Anthropic), and unique:
 * names that collide after cutting, or with a tool chatd already offers, get a short suffix
 * derived from the full name, so the same tool keeps the same name from step to step.
 */
import { createHash } from 'node:crypto';

export const MCP_NAME_SEPARATOR = '__';
export const MAX_TOOL_NAME_LENGTH = 64;

const sanitise = (text: string) => text.replace(/[^a-zA-Z0-9_-]/g, '_');

function suffixed(base: string, full: string, attempt: number, maxLength: number): string {
  const suffix = `_${createHash('sha256').update(`${full}#${attempt}`).digest('hex').slice(0, 6)}`;
  return `${base.slice(0, maxLength - suffix.length)}${suffix}`;
}

/**
 * Names for `entries` in order, none of them in `taken` (which it extends). Each entry is
 * `{ server, tool }`; the returned array is parallel to it.
 */
export function assignMcpToolNames(entries: ReadonlyArray<{ server: string; tool: string }>, taken: Set<string>, maxLength = MAX_TOOL_NAME_LENGTH): string[] {
  return entries.map(({ server, tool }) => {
    const full = `${sanitise(server)}${MCP_NAME_SEPARATOR}${sanitise(tool)}`;
    let name = full.length <= maxLength ? full : suffixed(full, full, 0, maxLength);
    for (let attempt = 1; taken.has(name); attempt++) name = suffixed(full, full, attempt, maxLength);
    taken.add(name);
    return name;
  });
}
