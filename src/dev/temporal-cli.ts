/**
 * Locates the `temporal` CLI binary (which embeds the dev server) for `npm start` and tests,
 * installing it through scripts/ensure-temporal-cli.sh when it is missing. The SDK's own
 * download is never used: this machine class has no route to it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ENSURE_SCRIPT = fileURLToPath(new URL('../../scripts/ensure-temporal-cli.sh', import.meta.url));

/** Returns the absolute path of a usable `temporal` binary, installing one if needed. */
export async function findTemporalCli(options: { cliPath?: string | undefined; log?: (line: string) => void } = {}): Promise<string> {
  const env = { ...process.env };
  if (options.cliPath !== undefined) env.TEMPORAL_CLI_PATH = options.cliPath;
  try {
    const { stdout, stderr } = await execFileAsync('bash', [ENSURE_SCRIPT], { env, maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 });
    if (stderr.trim() !== '') options.log?.(stderr.trim());
    const lines = stdout.trim().split('\n');
    const binaryPath = lines[lines.length - 1];
    if (binaryPath === undefined || binaryPath === '') throw new Error('ensure-temporal-cli.sh printed no path');
    return binaryPath;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`Could not find or install the Temporal CLI.\n${stderr.trim()}`, { cause: error });
  }
}
