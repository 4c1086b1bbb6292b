import { describe, expect, it } from 'vitest';
import { assignMcpToolNames, MAX_TOOL_NAME_LENGTH } from './mcp-tool-names.js';

describe('MCP tool names', () => {
  it('joins server and tool with a double underscore', () => {
    expect(assignMcpToolNames([{ server: 'github', tool: 'create_issue' }], new Set())).toEqual(['github__create_issue']);
  });

  it('replaces characters providers refuse', () => {
    expect(assignMcpToolNames([{ server: 'my.server', tool: 'read file' }], new Set())).toEqual(['my_server__read_file']);
  });

  it('cuts long names to the provider limit and keeps them unique and stable', () => {
    const long = { server: 'a-very-long-server-name-that-goes-on', tool: 'and_a_tool_name_that_is_also_rather_long_indeed_x' };
    const sibling = { ...long, tool: `${long.tool.slice(0, -1)}y` };
    const first = assignMcpToolNames([long, sibling], new Set());
    expect(first.every((name) => name.length <= MAX_TOOL_NAME_LENGTH)).toBe(true);
    expect(new Set(first).size).toBe(2);
    expect(assignMcpToolNames([long, sibling], new Set())).toEqual(first);
  });

  it('never takes a name chatd already offers', () => {
    const [name] = assignMcpToolNames([{ server: 'x', tool: 'y' }], new Set(['x__y']));
    expect(name).not.toBe('x__y');
    expect(name).toMatch(/^x__y_[0-9a-f]{6}$/);
  });
});
