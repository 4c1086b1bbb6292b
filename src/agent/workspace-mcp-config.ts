/**
 * `<workspace root>/.mcp.json`, the MCP servers a workspace declares, in the format most MCP
 * clients share: `{ "mcpServers": { "<name>": { "command", "args", "env", "cwd" } } }`.
 *
 * The file is written by people (or the model), so every problem is reported, never thrown:
 * a file that is not valid JSON or lacks `mcpServers` is one error for the whole file, and a
 * bad entry is an error for that server only, so one typo does not take the others down.
 * Only stdio servers are supported: the agent runs them inside the workspace.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { formatBytes } from './agent-error.js';

export const WORKSPACE_MCP_CONFIG_FILE = '.mcp.json';
/** A larger .mcp.json is certainly not a list of servers; it is refused unread. */
export const WORKSPACE_MCP_CONFIG_MAX_BYTES = 1024 * 1024;

/** Server names end up in tool names and log lines: short, and nothing that needs escaping. */
const SERVER_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const WorkspaceMcpServerEntry = z.looseObject({
  // Other clients' files also hold HTTP servers ("type": "http", "url"); say why they are skipped.
  type: z.literal('stdio', { error: 'only stdio servers (a "command" the agent runs) are supported; remove "type" or set it to "stdio"' }).optional(),
  command: z.string({ error: '"command" must be a non-empty string' }).min(1, '"command" must be a non-empty string'),
  args: z.array(z.string({ error: '"args" must hold only strings' }), { error: '"args" must be an array of strings' }).optional(),
  env: z.record(z.string(), z.string({ error: '"env" values must be strings' }), { error: '"env" must map variable names to string values' }).optional(),
  /** Relative to the workspace root; must stay inside it. */
  cwd: z.string().min(1, '"cwd" must not be empty').optional(),
});
export type WorkspaceMcpServerEntry = z.infer<typeof WorkspaceMcpServerEntry>;

export const WorkspaceMcpConfigFile = z.looseObject({
  mcpServers: z.record(z.string(), z.unknown(), { error: '"mcpServers" must be an object mapping server names to server entries' }),
});
export type WorkspaceMcpConfigFile = z.infer<typeof WorkspaceMcpConfigFile>;

/** One declared server: its entry, or why the entry cannot be used. */
export type WorkspaceMcpServerDeclaration = { name: string; entry: WorkspaceMcpServerEntry; key: string } | { name: string; error: string };

export type WorkspaceMcpConfig = { kind: 'valid'; servers: WorkspaceMcpServerDeclaration[] } | { kind: 'invalid'; error: string };

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.map(String).join('.')}: ${issue.message}`)).join('; ');
}

/**
 * A comparable identity of an entry: two entries with the same key start the same process.
 * Unknown fields are left out, so editing a description does not restart the server.
 */
function entryKey(entry: WorkspaceMcpServerEntry): string {
  return JSON.stringify([entry.command, entry.args ?? [], Object.entries(entry.env ?? {}).sort(([a], [b]) => a.localeCompare(b)), entry.cwd ?? null]);
}

/** Parses the text of a .mcp.json; never throws. */
export function parseWorkspaceMcpConfig(text: string): WorkspaceMcpConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', error: `${WORKSPACE_MCP_CONFIG_FILE} is not valid JSON: ${(error as Error).message}` };
  }
  const file = WorkspaceMcpConfigFile.safeParse(json);
  if (!file.success) return { kind: 'invalid', error: `${WORKSPACE_MCP_CONFIG_FILE} is not a valid MCP configuration: ${describeIssues(file.error)}` };
  const servers = Object.entries(file.data.mcpServers).map(([name, value]): WorkspaceMcpServerDeclaration => {
    if (!SERVER_NAME_PATTERN.test(name)) return { name, error: `the server name ${JSON.stringify(name)} must be 1 to 64 letters, digits, "_", "-" or "."` };
    const entry = WorkspaceMcpServerEntry.safeParse(value);
    if (!entry.success) return { name, error: `the entry of MCP server "${name}" in ${WORKSPACE_MCP_CONFIG_FILE} is invalid: ${describeIssues(entry.error)}` };
    return { name, entry: entry.data, key: entryKey(entry.data) };
  });
  return { kind: 'valid', servers };
}

/**
 * The text of the workspace's .mcp.json: undefined when there is none, or an error message
 * when it cannot be read (too large, a directory, unreadable).
 */
export async function readWorkspaceMcpConfigText(rootPath: string): Promise<{ text: string | undefined } | { error: string }> {
  const file = path.join(rootPath, WORKSPACE_MCP_CONFIG_FILE);
  try {
    if ((await stat(file)).size > WORKSPACE_MCP_CONFIG_MAX_BYTES) return { error: `${WORKSPACE_MCP_CONFIG_FILE} is larger than ${formatBytes(WORKSPACE_MCP_CONFIG_MAX_BYTES)}` };
    return { text: await readFile(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { text: undefined };
    return { error: `cannot read ${WORKSPACE_MCP_CONFIG_FILE}: ${code ?? (error as Error).message}` };
  }
}
