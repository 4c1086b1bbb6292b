/** Every built-in workspace tool, wired to the workspace service and the chat file store. */
import { type Pool } from '../../db/pool.js';
import { type WorkspaceService } from '../../workspaces/workspace-service.js';
import { type ChatTool } from '../chat-tool.js';
import { createProposePlanTool } from '../plan/propose-plan-tool.js';
import { createAttachFileTool } from './attach-file-tool.js';
import { createExecuteTool } from './execute-tool.js';
import { createFileTools } from './file-tools.js';
import { createProcessTools } from './process-tools.js';
import { createWorkspaceLifecycleTools } from './workspace-lifecycle-tools.js';

export function createWorkspaceTools(dependencies: { pool: Pool; workspaces: WorkspaceService }): ChatTool[] {
  const agents = dependencies.workspaces;
  return [
    ...createWorkspaceLifecycleTools(dependencies.workspaces),
    createExecuteTool(agents),
    ...createProcessTools(agents),
    ...createFileTools(agents),
    createAttachFileTool({ agents, pool: dependencies.pool }),
    createProposePlanTool({ agents, pool: dependencies.pool }),
  ];
}
