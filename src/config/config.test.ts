import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults when the environment is empty', () => {
    const config = loadConfig({});
    expect(config.CHATD_HTTP_PORT).toBe(8080);
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
    expect(config.TEMPORAL_TASK_QUEUE).toBe('chatd');
  });

  it('treats blank optional values as unset', () => {
    expect(loadConfig({ DATABASE_URL: '  ' }).DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable in one readable error', () => {
    expect(() => loadConfig({ CHATD_HTTP_PORT: 'eighty', CHATD_LOG_LEVEL: 'loud' })).toThrowError(ConfigError);
    try {
      loadConfig({ CHATD_HTTP_PORT: 'eighty', CHATD_LOG_LEVEL: 'loud' });
    } catch (error) {
      expect(String((error as Error).message)).toMatch(/CHATD_HTTP_PORT="eighty"/);
      expect(String((error as Error).message)).toMatch(/CHATD_LOG_LEVEL="loud"/);
    }
  });

  it('rejects a secret key of the wrong size without echoing it', () => {
    expect(() => loadConfig({ CHATD_SECRET_KEY: 'hunter2-not-a-key' })).toThrowError(/CHATD_SECRET_KEY=<redacted>: CHATD_SECRET_KEY must be 32 bytes/);
    expect(() => loadConfig({ CHATD_SECRET_KEY: 'hunter2-not-a-key' })).not.toThrowError(/hunter2/);
  });

  it('accepts a 32-byte secret key', () => {
    expect(loadConfig({ CHATD_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') }).CHATD_SECRET_KEY).toBeDefined();
  });
});
