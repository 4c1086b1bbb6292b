/**
 * `list_templates`, `read_template`, `create_workspace`, `start_workspace`, `stop_workspace`.
 * The workspace service does the work (serialised per workspace, resumable after a crash by
 * the operation id, which is stable across the activity's retries); these adapt it to tools.
 */
import { z } from 'zod';
import { type WorkspaceResult, type WorkspaceService } from '../../workspaces/workspace-service.js';
import { type ChatTool, type ToolContext, type ToolResult } from '../chat-tool.js';

export const ListTemplatesInput = z.object({});

export const ReadTemplateInput = z.object({ template_id: z.string().min(1).describe('The template name, from list_templates.') });
export type ReadTemplateInput = z.infer<typeof ReadTemplateInput>;

export const CreateWorkspaceInput = z.object({
  template_id: z.string().min(1).describe('The template name, from list_templates.'),
  name: z.string().trim().min(1).max(64).optional(),
  parameters: z.record(z.string(), z.string()).optional(),
});
export type CreateWorkspaceInput = z.infer<typeof CreateWorkspaceInput>;

export const NoInput = z.object({});

type Lifecycle = Pick<WorkspaceService, 'createForChat' | 'startForChat' | 'stopForChat' | 'listTemplates' | 'getTemplate'>;

const asResult = (result: WorkspaceResult): ToolResult => ({ result, isError: result.error !== undefined });

const operation = (context: ToolContext) => ({
  chatId: context.chatId,
  operationId: `${context.chatId}:${context.toolCallId}`,
  heartbeat: () => context.heartbeat(),
  signal: context.signal,
});

export function createWorkspaceLifecycleTools(workspaces: Lifecycle): ChatTool[] {
  return [
    {
      name: 'list_templates',
      description: 'List the workspace templates you can create a workspace from.',
      inputSchema: ListTemplatesInput,
      idempotent: true,
      execute: async () => ({ result: { templates: workspaces.listTemplates() }, isError: false }),
    },
    {
      name: 'read_template',
      description: 'Show one workspace template: its description and parameters.',
      inputSchema: ReadTemplateInput,
      idempotent: true,
      execute: async (input) => {
        const { template_id } = input as ReadTemplateInput;
        const template = workspaces.getTemplate(template_id);
        return 'error' in template ? { result: template.error, isError: true } : { result: template, isError: false };
      },
    },
    {
      name: 'create_workspace',
      description: 'Create a workspace for this chat from a template and start it. If the chat already has a workspace, that one is returned.',
      inputSchema: CreateWorkspaceInput,
      // The operation id makes a retry resume the same build instead of starting another.
      idempotent: true,
      execute: async (input, context) => {
        const request = input as CreateWorkspaceInput;
        return asResult(
          await workspaces.createForChat({
            ...operation(context),
            templateName: request.template_id,
            ...(request.name === undefined ? {} : { name: request.name }),
            ...(request.parameters === undefined ? {} : { parameters: request.parameters }),
          }),
        );
      },
    },
    {
      name: 'start_workspace',
      description: "Start this chat's workspace and wait until its agent is ready. Succeeds at once when it is already running.",
      inputSchema: NoInput,
      idempotent: true,
      execute: async (_input, context) => asResult(await workspaces.startForChat(operation(context))),
    },
    {
      name: 'stop_workspace',
      description: "Stop this chat's workspace and every process in it. Waits for a build in progress first; succeeds at once when it is already stopped.",
      inputSchema: NoInput,
      idempotent: true,
      execute: async (_input, context) => asResult(await workspaces.stopForChat(operation(context))),
    },
  ];
}
