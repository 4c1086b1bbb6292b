/**
 * Remote MCP servers an admin allows in plan mode: a root chat in plan mode is offered the tools
 * of these servers only (a plan-mode sub-agent none, and never the workspace's servers).
 */
export const sql = `
ALTER TABLE mcp_servers ADD COLUMN allow_in_plan_mode boolean NOT NULL DEFAULT false;
`;
