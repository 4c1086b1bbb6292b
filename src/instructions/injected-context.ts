/**
 * What a chat's prompt was given from its workspace agent, as stored in
 * `chats.last_injected_context`: the instruction files read from the agent named by
 * `agent_key` (workspace id and build number; a rebuilt workspace has a new agent). An empty
 * `instruction_files` is the blank marker: the agent was asked and had none, so it is not
 * asked again until the agent changes.
 */
import { z } from 'zod';
import { InstructionFile } from '../agent/agent-protocol.js';
import { type Queryable } from '../db/pool.js';

export const InjectedContext = z.object({
  agent_key: z.string(),
  workspace_id: z.string(),
  os: z.string(),
  home_directory: z.string().nullable(),
  workspace_directory: z.string(),
  instruction_files: z.array(InstructionFile),
  recorded_at: z.string(),
});
export type InjectedContext = z.infer<typeof InjectedContext>;

/** The stored context, or undefined when none was recorded (or it is from an older format). */
export function parseInjectedContext(value: unknown): InjectedContext | undefined {
  const parsed = InjectedContext.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Records the context read from an agent, unless one from the same agent is already recorded
 * (two steps racing after a rebuild both read; the first write stands).
 */
export async function recordInjectedContext(db: Queryable, chatId: string, context: InjectedContext): Promise<void> {
  await db.query(
    `UPDATE chats SET last_injected_context = $2::jsonb
      WHERE id = $1 AND (last_injected_context IS NULL OR last_injected_context->>'agent_key' IS DISTINCT FROM $3)`,
    [chatId, JSON.stringify(context), context.agent_key],
  );
}

function attribute(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
}

/** One instruction file as a delimited block of the system prompt, naming where it came from. */
export function renderInstructionFile(file: InstructionFile): string {
  const note = file.truncated ? '\n[This file was cut: only its beginning is shown. Read the rest with read_file if you need it.]' : '';
  return `<instruction-file path="${attribute(file.path)}" directory="${file.directory}" truncated="${file.truncated}">\n${file.content.replace(/\n$/, '')}${note}\n</instruction-file>`;
}
