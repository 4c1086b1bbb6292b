import { describe, expect, it } from 'vitest';
import { parseWorkspaceMcpConfig, type WorkspaceMcpServerDeclaration } from './workspace-mcp-config.js';

function declarations(config: unknown): WorkspaceMcpServerDeclaration[] {
  const parsed = parseWorkspaceMcpConfig(JSON.stringify(config));
  if (parsed.kind !== 'valid') throw new Error(`expected a valid configuration, got: ${parsed.error}`);
  return parsed.servers;
}

function keyOf(entry: unknown): string {
  const [declaration] = declarations({ mcpServers: { server: entry } });
  if (declaration === undefined || 'error' in declaration) throw new Error('expected a usable entry');
  return declaration.key;
}

describe('parseWorkspaceMcpConfig', () => {
  it.each([
    ['text that is not JSON', '{ "mcpServers": ', /^\.mcp\.json is not valid JSON/],
    ['a file without mcpServers', '{ "servers": {} }', /mcpServers/],
    ['mcpServers that is not an object', '{ "mcpServers": [] }', /mcpServers/],
  ])('reports %s as an error for the whole file', (_case, text, error) => {
    const parsed = parseWorkspaceMcpConfig(text);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' ? parsed.error : '').toMatch(error);
  });

  it('reports a bad entry as an error for that server only', () => {
    const servers = declarations({
      mcpServers: {
        good: { command: 'node', args: ['server.js'], env: { A: '1' }, cwd: 'tools', description: 'ignored' },
        'no-command': { args: [] },
        'bad-args': { command: 'node', args: 'server.js' },
        'bad-env': { command: 'node', env: { A: 1 } },
        remote: { type: 'http', url: 'https://example.com/mcp' },
        'a name with spaces': { command: 'node' },
      },
    });
    expect(servers.map((server) => [server.name, 'error' in server ? 'error' : 'entry'])).toEqual([
      ['good', 'entry'],
      ['no-command', 'error'],
      ['bad-args', 'error'],
      ['bad-env', 'error'],
      ['remote', 'error'],
      ['a name with spaces', 'error'],
    ]);
    const errors = Object.fromEntries(servers.flatMap((server) => ('error' in server ? [[server.name, server.error]] : [])));
    expect(errors['no-command']).toContain('"command" must be a non-empty string');
    expect(errors['bad-args']).toContain('"args" must be an array of strings');
    expect(errors['bad-env']).toContain('env.A: "env" values must be strings');
    expect(errors.remote).toContain('only stdio servers');
  });

  it('gives entries that start the same process the same key, whatever the env order or unknown fields', () => {
    expect(keyOf({ command: 'node', env: { A: '1', B: '2' } })).toBe(keyOf({ command: 'node', env: { B: '2', A: '1' }, description: 'x' }));
    expect(keyOf({ command: 'node' })).toBe(keyOf({ command: 'node', args: [], type: 'stdio' }));
    expect(keyOf({ command: 'node', env: { A: '1' } })).not.toBe(keyOf({ command: 'node', env: { A: '2' } }));
    expect(keyOf({ command: 'node', args: ['a'] })).not.toBe(keyOf({ command: 'node', args: ['b'] }));
    expect(keyOf({ command: 'node' })).not.toBe(keyOf({ command: 'node', cwd: 'sub' }));
  });
});
