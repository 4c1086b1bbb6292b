/** Every sub-agent tool, over the sub-agent reads and the chat workflows' commands. */
import { type Queryable } from '../../db/pool.js';
import { createSubAgentReads } from '../../db/sub-agents.js';
import { type ChatTool } from '../chat-tool.js';
import { createAgentControlTools, type SubAgentCommands } from './agent-control-tools.js';
import { createSpawnAgentTool } from './spawn-agent.js';
import { createWaitAgentTool } from './wait-agent-tool.js';

export function createSubAgentTools(dependencies: { db: Queryable; commands: () => SubAgentCommands }): ChatTool[] {
  const reads = createSubAgentReads(dependencies.db);
  return [createSpawnAgentTool(), createWaitAgentTool(reads), ...createAgentControlTools({ reads, commands: dependencies.commands })];
}
