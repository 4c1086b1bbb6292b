/**
 * A real MCP server for tests, built with the official SDK on express: the same tools behind
 * several mount points, each enforcing one way of authenticating, as remote servers chatd
 * connects to would. Streamable HTTP is served statelessly (a fresh server per request); one
 * mount speaks the older HTTP+SSE transport. It records what it saw so tests can check the
 * identity headers and count OAuth2 refreshes.
 *
 * Mounts (all under `url`):
 * - `/open/mcp`: no auth.
 * - `/api-key/mcp`: `X-Api-Key: <apiKey>`.
 * - `/custom/mcp`: `X-Team: <team>` and `X-Region: <region>`.
 * - `/oauth/mcp`: `Authorization: Bearer <an access token the token endpoint issued>`;
 *   `/oauth/token` exchanges the refresh token for a new access token.
 * - `/identity/mcp`: valid X-Chatd-* identity headers signed with `signingSecret`.
 * - `/sse/sse` + `/sse/messages`: HTTP+SSE transport, `X-Api-Key: <apiKey>`.
 * - `/stateful/mcp`: Streamable HTTP with sessions, no auth; counts sessions opened and ended.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type Server } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { verifyIdentityHeaders, type IdentityVerification } from '../../src/mcp/identity-headers.js';

export const TEST_MCP_SECRETS = {
  apiKey: 'test-api-key-0123456789',
  team: 'team-blue',
  region: 'eu-west',
  signingSecret: 'signing-secret-0123456789abcdef',
  clientId: 'chatd-test-client',
  clientSecret: 'client-secret-0123456789',
  refreshToken: 'refresh-token-initial',
} as const;

export interface McpTestServer {
  url: string;
  /** Access tokens the token endpoint issued, in order. */
  issuedAccessTokens: string[];
  /** Form bodies the token endpoint received. */
  tokenRequests: Array<Record<string, string>>;
  /** The identity verifications of requests to `/identity/mcp`. */
  identities: IdentityVerification[];
  /** Headers of every MCP request, by mount, for tests that check what was (not) sent. */
  requestHeaders: Array<{ mount: string; headers: Record<string, string | string[] | undefined> }>;
  /** Sessions of `/stateful/mcp`: opened, and ended by the client (DELETE). */
  sessions: { opened: number; ended: number; open: () => number };
  close(): Promise<void>;
}

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'chatd-test', version: '1.0.0' });
  server.registerTool('add', { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool('echo', { description: 'Repeats the text.', inputSchema: { text: z.string() } }, ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('fail', { description: 'Always reports an error.' }, () => ({ content: [{ type: 'text', text: 'it broke' }], isError: true }));
  server.registerTool('slow', { description: 'Answers after a while.', inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { content: [{ type: 'text', text: 'done' }] };
  });
  return server;
}

const refuse = (response: express.Response) => response.status(401).json({ error: 'unauthorized' });

export async function startMcpTestServer(): Promise<McpTestServer> {
  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  const issuedAccessTokens: string[] = [];
  const tokenRequests: Array<Record<string, string>> = [];
  const identities: IdentityVerification[] = [];
  const requestHeaders: McpTestServer['requestHeaders'] = [];

  const guard = (mount: string, check: (request: express.Request) => boolean): RequestHandler => (request, response, next) => {
    requestHeaders.push({ mount, headers: { ...request.headers } });
    if (check(request)) next();
    else refuse(response);
  };

  const streamable = (mount: string, check: (request: express.Request) => boolean) => {
    app.post(`/${mount}/mcp`, guard(mount, check), async (request, response) => {
      const server = buildMcpServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request, response, request.body);
    });
    // Stateless: no notification stream, no sessions to end.
    app.get(`/${mount}/mcp`, guard(mount, check), (_request, response) => {
      response.status(405).end();
    });
    app.delete(`/${mount}/mcp`, guard(mount, check), (_request, response) => {
      response.status(405).end();
    });
  };

  streamable('open', () => true);
  streamable('api-key', (request) => request.get('x-api-key') === TEST_MCP_SECRETS.apiKey);
  streamable('custom', (request) => request.get('x-team') === TEST_MCP_SECRETS.team && request.get('x-region') === TEST_MCP_SECRETS.region);
  streamable('oauth', (request) => issuedAccessTokens.some((token) => request.get('authorization') === `Bearer ${token}`));
  streamable('identity', (request) => {
    const verification = verifyIdentityHeaders(request.headers, TEST_MCP_SECRETS.signingSecret);
    identities.push(verification);
    return verification.valid;
  });

  app.post('/oauth/token', (request, response) => {
    const form = request.body as Record<string, string>;
    tokenRequests.push(form);
    const current = tokenRequests.length === 1 ? TEST_MCP_SECRETS.refreshToken : `refresh-token-${tokenRequests.length - 1}`;
    if (form.grant_type !== 'refresh_token' || form.client_id !== TEST_MCP_SECRETS.clientId || form.client_secret !== TEST_MCP_SECRETS.clientSecret || form.refresh_token !== current) {
      response.status(400).json({ error: 'invalid_grant' });
      return;
    }
    const accessToken = `access-token-${tokenRequests.length}`;
    issuedAccessTokens.push(accessToken);
    response.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, refresh_token: `refresh-token-${tokenRequests.length}` });
  });

  const statefulTransports = new Map<string, StreamableHTTPServerTransport>();
  const sessions = { opened: 0, ended: 0, open: () => statefulTransports.size };
  app.all('/stateful/mcp', async (request, response) => {
    const sessionId = request.get('mcp-session-id');
    let transport = sessionId === undefined ? undefined : statefulTransports.get(sessionId);
    if (transport === undefined) {
      if (sessionId !== undefined || request.method !== 'POST') {
        response.status(404).json({ error: 'unknown session' });
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.opened++;
          statefulTransports.set(id, created);
        },
        onsessionclosed: (id) => {
          sessions.ended++;
          statefulTransports.delete(id);
        },
      });
      transport = created;
      await buildMcpServer().connect(created);
    }
    await transport.handleRequest(request, response, request.body);
  });

  const sseTransports = new Map<string, SSEServerTransport>();
  const sseCheck = (request: express.Request) => request.get('x-api-key') === TEST_MCP_SECRETS.apiKey;
  app.get('/sse/sse', guard('sse', sseCheck), async (_request, response) => {
    const transport = new SSEServerTransport('/sse/messages', response);
    sseTransports.set(transport.sessionId, transport);
    const server = buildMcpServer();
    response.on('close', () => {
      sseTransports.delete(transport.sessionId);
      void server.close();
    });
    await server.connect(transport);
  });
  app.post('/sse/messages', guard('sse', sseCheck), async (request, response) => {
    const transport = sseTransports.get(String(request.query.sessionId));
    if (transport === undefined) {
      response.status(404).json({ error: 'unknown session' });
      return;
    }
    await transport.handlePostMessage(request, response, request.body);
  });

  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issuedAccessTokens,
    tokenRequests,
    identities,
    requestHeaders,
    sessions,
    async close() {
      for (const transport of statefulTransports.values()) await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on which nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A server that accepts TCP connections and never says a word. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
