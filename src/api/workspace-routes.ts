/**
 * The workspace API: the caller's workspaces and the configured templates, read-only. Workspaces
 * are created, started and stopped by a chat's tools (src/workspaces/workspace-service.ts);
 * chats are bound to one with `workspace_id` on POST /chats and PATCH /chats/:id. Another
 * user's workspace is a 404, as a missing one is.
 */
import { Router } from 'express';
import { z } from 'zod';
import { type Pool } from '../db/pool.js';
import { createWorkspaceStore, workspaceFromRow } from '../db/workspaces.js';
import { WORKSPACE_BUDGETS } from '../workspaces/workspace-budgets.js';
import { templateView, type WorkspaceTemplate } from '../workspaces/workspace-template.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';

const WorkspaceIdParams = z.object({ id: z.uuid() });
const TemplateNameParams = z.object({ name: z.string().min(1) });

const workspaceNotFound = () => new HttpError(404, 'Workspace not found.');

/** Answers 404 `Workspace not found.` unless `userId` owns the workspace. */
export async function assertWorkspaceOwned(pool: Pool, userId: string, workspaceId: string): Promise<void> {
  if (!z.uuid().safeParse(workspaceId).success) throw workspaceNotFound();
  if ((await createWorkspaceStore(pool).getOwned(userId, workspaceId)) === undefined) throw workspaceNotFound();
}

export function createWorkspaceRouter(dependencies: { pool: Pool; templates: readonly WorkspaceTemplate[] }): Router {
  const router = Router();
  const store = createWorkspaceStore(dependencies.pool);
  const views = dependencies.templates.map(templateView);

  router.get('/workspaces', async (request, response) => {
    const rows = await store.listByOwner(currentUser(request).id);
    response.json({ workspaces: rows.map((row) => workspaceFromRow(row, WORKSPACE_BUDGETS.operationLeaseMs)) });
  });

  router.get('/workspaces/:id', async (request, response) => {
    const params = WorkspaceIdParams.safeParse(request.params);
    if (!params.success) throw workspaceNotFound();
    const row = await store.getOwned(currentUser(request).id, params.data.id);
    if (row === undefined) throw workspaceNotFound();
    response.json(workspaceFromRow(row, WORKSPACE_BUDGETS.operationLeaseMs));
  });

  router.get('/templates', (_request, response) => {
    response.json({ templates: views });
  });

  router.get('/templates/:name', (request, response) => {
    const params = TemplateNameParams.safeParse(request.params);
    const template = params.success ? views.find((candidate) => candidate.name === params.data.name) : undefined;
    if (template === undefined) throw new HttpError(404, 'Template not found.');
    response.json(template);
  });

  return router;
}
