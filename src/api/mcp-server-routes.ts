/**
 * Remote MCP servers. Admins manage the catalogue (`/mcp-servers`, `/mcp-servers/:id`);
 * credentials and signing secrets go in, never out. Every user lists the enabled servers
 * (`/mcp-servers/available`) and stores their own OAuth2 tokens for one
 * (`PUT /mcp-servers/:id/user-token`, sealed, never returned). Chats pick servers with
 * `mcp_server_ids` on POST /chats and PATCH /chats/:id.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { CreateMcpServerRequest, SetMcpUserTokenRequest, UpdateMcpServerRequest } from '../domain/mcp-server.js';
import { type McpServerCatalogue } from '../db/mcp-servers.js';
import { requireAdmin } from './admin-routes.js';
import { catalogueCall } from './catalogue-call.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

const IdParams = z.object({ id: z.uuid() });

const serverNotFound = () => new HttpError(404, 'MCP server not found.');

function serverId(request: Request): string {
  const parsed = IdParams.safeParse(request.params);
  if (!parsed.success) throw serverNotFound();
  return parsed.data.id;
}

/** Answers 400 `Unknown MCP server: <id>` for the first id that is not an enabled server. */
export async function assertUsableMcpServers(servers: McpServerCatalogue, ids: readonly string[]): Promise<void> {
  const [unknown] = await servers.unusableIds(ids);
  if (unknown !== undefined) throw new HttpError(400, `Unknown MCP server: ${unknown}`, 'List the servers you can use with GET /api/v1/mcp-servers/available.');
}

export function createMcpServerRouter(dependencies: { servers: McpServerCatalogue }): Router {
  const router = Router();
  const { servers } = dependencies;

  // Before `/mcp-servers/:id`, which would take "available" for an id.
  router.get('/mcp-servers/available', async (request, response) => {
    response.json({ mcp_servers: await servers.listAvailable(currentUser(request).id) });
  });

  router.put('/mcp-servers/:id/user-token', async (request, response) => {
    const id = serverId(request);
    const body = parseRequest(SetMcpUserTokenRequest, request.body);
    const stored = await catalogueCall(() => servers.setUserToken(currentUser(request).id, id, body));
    if (stored === undefined) throw serverNotFound();
    response.json(stored);
  });

  router.delete('/mcp-servers/:id/user-token', async (request, response) => {
    if (!(await servers.deleteUserToken(currentUser(request).id, serverId(request)))) throw new HttpError(404, 'No token of yours is stored for that MCP server.');
    response.status(204).end();
  });

  router.get('/mcp-servers', requireAdmin, async (_request, response) => {
    response.json({ mcp_servers: await servers.list() });
  });

  router.post('/mcp-servers', requireAdmin, async (request, response) => {
    const body = parseRequest(CreateMcpServerRequest, request.body);
    response.status(201).json(await catalogueCall(() => servers.create(body)));
  });

  router.get('/mcp-servers/:id', requireAdmin, async (request, response) => {
    const server = await servers.get(serverId(request));
    if (server === undefined) throw serverNotFound();
    response.json(server);
  });

  router.patch('/mcp-servers/:id', requireAdmin, async (request, response) => {
    const id = serverId(request);
    const body = parseRequest(UpdateMcpServerRequest, request.body);
    const server = await catalogueCall(() => servers.update(id, body));
    if (server === undefined) throw serverNotFound();
    response.json(server);
  });

  router.delete('/mcp-servers/:id', requireAdmin, async (request, response) => {
    if (!(await servers.delete(serverId(request)))) throw serverNotFound();
    response.status(204).end();
  });

  return router;
}
