/**
 * The structured logger (pino). Secrets never reach it: the redact list covers every field
 * that can hold a key or a password.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'chatd'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['*.authorization', '*.Authorization', 'headers.authorization', 'apiKey', '*.apiKey', 'password', '*.password', 'key', '*.api_key'],
      censor: '[redacted]',
    },
  });
}
