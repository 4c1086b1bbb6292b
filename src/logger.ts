/**
 * The structured logger (pino). Secrets never reach its output: the redact list covers every
 * field that can hold an API key, a provider key (plain or sealed) or a password.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  '*.Authorization',
  '*.*.authorization',
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  '*.*.headers["x-api-key"]',
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'api_key',
  '*.api_key',
  '*.*.api_key',
  'api_key_ciphertext',
  '*.api_key_ciphertext',
  'user_api_key_ciphertext',
  '*.user_api_key_ciphertext',
  'password',
  '*.password',
  'key',
  '*.key',
  ...atDepths([
    // Remote MCP servers: credentials, signing secrets and users' OAuth2 tokens, plain or sealed.
    'api_key_value',
    'client_secret',
    'signing_secret',
    'access_token',
    'refresh_token',
    'auth_config_sealed',
    'signing_secret_sealed',
    'access_token_sealed',
    'refresh_token_sealed',
  ]),
];

/** `field` at the top level and nested one or two objects deep. */
function atDepths(fields: readonly string[]): string[] {
  return fields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
}

export function createLogger(level: string, name = 'chatd', destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
