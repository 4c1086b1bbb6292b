import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { stream, lines };
}

describe('the logger', () => {
  it('redacts API keys, provider keys and authorization headers wherever they appear', () => {
    const { stream, lines } = capture();
    const logger = createLogger('info', 'test', stream);
    logger.info(
      {
        api_key: 'sk-top-level',
        body: { api_key: 'sk-in-body', provider: 'openai' },
        request: { body: { api_key: 'sk-nested' }, headers: { authorization: 'Bearer chatd_secret', 'x-api-key': 'sk-ant-header' } },
        provider: { api_key_ciphertext: 'v1:sealed', user_api_key_ciphertext: 'v1:sealed-user' },
        apiKey: 'sk-camel',
      },
      'provider call',
    );
    const output = lines.join('');
    for (const secret of ['sk-top-level', 'sk-in-body', 'sk-nested', 'chatd_secret', 'sk-ant-header', 'v1:sealed', 'sk-camel']) expect(output).not.toContain(secret);
    expect(output).toContain('[redacted]');
    expect(output).toContain('"provider":"openai"');
  });

  it('redacts MCP server credentials and users’ OAuth2 tokens', () => {
    const { stream, lines } = capture();
    createLogger('info', 'test', stream).info(
      {
        body: { auth: { api_key_value: 'mcp-key', client_secret: 'mcp-client-secret' }, signing_secret: 'mcp-signing' },
        token: { access_token: 'mcp-access', refresh_token: 'mcp-refresh' },
        row: { auth_config_sealed: 'v1:auth', signing_secret_sealed: 'v1:signing', access_token_sealed: 'v1:access', refresh_token_sealed: 'v1:refresh' },
      },
      'mcp',
    );
    const output = lines.join('');
    for (const secret of ['mcp-key', 'mcp-client-secret', 'mcp-signing', 'mcp-access', 'mcp-refresh', 'v1:']) expect(output).not.toContain(secret);
  });
});
