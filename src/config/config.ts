/**
 * Service configuration: every environment variable chatd reads, parsed once with zod.
 * Nothing else in the codebase reads `process.env`; entrypoints call `loadConfig` and pass
 * the typed result down. A bad value fails fast with a message naming the variable.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseSecretKey } from '../security/secret-box.js';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

export const Config = z.object({
  DATABASE_URL: optionalString,
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('chatd'),
  TEMPORAL_CLI_PATH: optionalString,
  CHATD_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  CHATD_HTTP_PORT: port.default(8080),
  CHATD_DATA_DIR: z.string().min(1).default('.data'),
  CHATD_EMBEDDED_PG_PORT: port.default(54329),
  CHATD_TEMPORAL_PORT: port.default(7233),
  CHATD_TEMPORAL_UI_PORT: port.default(8233),
  CHATD_TEMPORAL_UI_URL: optionalString,
  CHATD_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  CHATD_WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(10),
  /** A JSON file of workspace templates (see src/workspaces/workspace-template.ts); unset, only the built-in `blank` exists. */
  CHATD_TEMPLATES_FILE: optionalString,
  /** 32 bytes (base64 or hex) sealing provider API keys at rest; API and workers need the same one. */
  CHATD_SECRET_KEY: optionalString.superRefine((value, context) => {
    if (value === undefined) return;
    try {
      parseSecretKey(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
});
export type Config = z.infer<typeof Config>;

const SECRET_VARIABLES = new Set(['CHATD_SECRET_KEY', 'DATABASE_URL']);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment, throwing a `ConfigError` that lists every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = Config.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      // Secrets are named, never echoed.
      const shown = SECRET_VARIABLES.has(name) ? '<redacted>' : JSON.stringify(env[name] ?? '');
      return `  ${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Absolute path of the data directory (embedded PostgreSQL, Temporal dev database, dev key, local workspaces). */
export function dataDirectory(config: Config): string {
  return path.resolve(config.CHATD_DATA_DIR);
}
