/**
 * The agent's expected failures. The message is written for the model that asked: it says
 * what was wrong and what to do instead, because the chat tools hand it over unchanged.
 */
import { type z } from 'zod';

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a request body, turning a mismatch into a 400 that names each bad field. */
export function parseAgentRequest<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(body)';
    if (issue.code === 'unrecognized_keys') return `${field}: unknown field(s) ${issue.keys.join(', ')}`;
    return `${field}: ${issue.message}`;
  });
  throw new AgentError(400, `Invalid request: ${problems.join('; ')}.`);
}

/** Maps a file-system error to an AgentError about `shownPath`, or returns undefined for unexpected ones. */
export function fileSystemError(error: unknown, shownPath: string): AgentError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new AgentError(404, `file "${shownPath}" does not exist`);
    case 'ENOTDIR':
      return new AgentError(400, `"${shownPath}" does not exist: a part of the path is a file, not a directory`);
    case 'EISDIR':
      return new AgentError(400, `"${shownPath}" is a directory, not a file; list it with execute (ls)`);
    case 'EACCES':
    case 'EPERM':
      return new AgentError(403, `permission denied for "${shownPath}"`);
    case 'ENOSPC':
      return new AgentError(507, `no space left on the device while writing "${shownPath}"`);
    default:
      return undefined;
  }
}

/** Runs `work`, turning file-system errors about `shownPath` into messages the model can act on. */
export async function withFileErrors<T>(shownPath: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw fileSystemError(error, shownPath) ?? error;
  }
}

/** Human-readable byte counts for messages ("5 MiB", "12.3 KiB"). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
