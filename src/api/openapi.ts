/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the same zod schemas that validate
 * requests and describe resources, so the document cannot drift from the code.
 */
import { z } from 'zod';
import { Chat, ChatError, ChatMessage, PendingToolCall, QueuedMessage } from '../domain/chat.js';
import { ChatStreamEvent } from '../domain/stream-event.js';
import { CreateChatRequest, EditMessageRequest, SendMessageRequest, SubmitToolResultsRequest, UpdateChatRequest } from './chat-schemas.js';
import {
  CreateModelConfigRequest,
  CreateProviderRequest,
  ModelConfig,
  Provider,
  SetUserProviderKeyRequest,
  UpdateModelConfigRequest,
  UpdateProviderRequest,
  UserProviderKey,
} from '../domain/provider.js';
import { SetUsageLimitRequest, UsageLimit, UsageReport } from '../domain/usage.js';
import { AdvisorSettings } from '../domain/advisor.js';
import { SetTitleModelRequest } from '../domain/chat-title.js';
import { CompactionResult, CompactionThresholdList, SetCompactionThresholdRequest } from '../domain/compaction.js';
import { ALLOWED_FILE_TYPES, ChatFile } from '../domain/chat-file.js';
import { Workspace } from '../domain/workspace.js';
import { AvailableMcpServer, CreateMcpServerRequest, McpServer, McpUserTokenStatus, SetMcpUserTokenRequest, UpdateMcpServerRequest } from '../domain/mcp-server.js';
import { TemplateView } from '../workspaces/workspace-template.js';
import { PersonalSkill, PersonalSkillList, PutSkillRequest } from '../domain/skill.js';

const ErrorResponse = z.object({
  message: z.string(),
  detail: z.string().optional(),
  validations: z.array(z.object({ field: z.string(), detail: z.string() })).optional(),
});

const SendMessageResponse = z.object({ queued: z.boolean(), message: ChatMessage.optional(), queued_message: QueuedMessage.optional() });
const ChatList = z.object({ chats: z.array(Chat), next_cursor: z.string().nullable() });
const MessagePage = z.object({ messages: z.array(ChatMessage), queued_messages: z.array(QueuedMessage), has_more: z.boolean() });
const ModelList = z.object({
  models: z.array(z.object({ id: z.uuid(), provider: z.string(), model: z.string(), display_name: z.string(), is_default: z.boolean(), context_limit: z.number().int() })),
});
const PromoteAccepted = z.object({ message: z.literal('Queued message promotion accepted.') });
const UsageLimitExceeded = z.object({ message: z.literal('Chat usage limit exceeded.'), spent_micros: z.number().int(), limit_micros: z.number().int(), resets_at: z.string() });
const ProviderList = z.object({ providers: z.array(Provider) });
const ModelConfigList = z.object({ model_configs: z.array(ModelConfig) });
const UsageLimitList = z.object({ usage_limits: z.array(UsageLimit) });
const UserProviderKeyList = z.object({ user_provider_keys: z.array(UserProviderKey) });
const WorkspaceList = z.object({ workspaces: z.array(Workspace) });
const TemplateList = z.object({ templates: z.array(TemplateView) });
const McpServerList = z.object({ mcp_servers: z.array(McpServer) });
const AvailableMcpServerList = z.object({ mcp_servers: z.array(AvailableMcpServer) });

const components = {
  CompactionResult,
  CompactionThresholdList,
  SetCompactionThresholdRequest,
  Chat,
  ChatMessage,
  QueuedMessage,
  ChatError,
  PendingToolCall,
  ErrorResponse,
  CreateChatRequest,
  SendMessageRequest,
  SendMessageResponse,
  EditMessageRequest,
  UpdateChatRequest,
  SubmitToolResultsRequest,
  ChatList,
  MessagePage,
  ModelList,
  PromoteAccepted,
  ChatStreamEvent,
  UsageLimitExceeded,
  Provider,
  ProviderList,
  CreateProviderRequest,
  UpdateProviderRequest,
  ModelConfig,
  ModelConfigList,
  CreateModelConfigRequest,
  UpdateModelConfigRequest,
  UsageLimit,
  UsageLimitList,
  SetUsageLimitRequest,
  SetTitleModelRequest,
  AdvisorSettings,
  UsageReport,
  ChatFile,
  UserProviderKeyList,
  SetUserProviderKeyRequest,
  Workspace,
  WorkspaceList,
  Template: TemplateView,
  TemplateList,
  McpServer,
  McpServerList,
  CreateMcpServerRequest,
  UpdateMcpServerRequest,
  AvailableMcpServerList,
  SetMcpUserTokenRequest,
  McpUserTokenStatus,
  PersonalSkill,
  PersonalSkillList,
  PutSkillRequest,
} as const;

type ComponentName = keyof typeof components;

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName) => ({ content: { 'application/json': { schema: ref(name) } } });
const error = (description: string) => ({ description, ...json('ErrorResponse') });
const chatId = { name: 'chatId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const uuidPath = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
const admin = { '403': error('Not an admin key.') };
const integerPath = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'integer' } });
const common = { '401': error('No or bad API key.'), '404': error('Chat not found (or not yours).') };

function operation(summary: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { summary, security: [{ bearer: [] }], ...extra, responses: { ...common, ...responses } };
}

export function createOpenApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(components)) {
    schemas[name] = z.toJSONSchema(schema, { io: name.endsWith('Request') ? 'input' : 'output', unrepresentable: 'any' });
  }
  return {
    openapi: '3.1.0',
    info: { title: 'chatd', version: '1', description: 'Durable AI-agent chat service. See shared/design/api.md for the stream protocol.' },
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'The process is up.' } } } },
      '/readyz': { get: { summary: 'Readiness', responses: { '200': { description: 'PostgreSQL and Temporal answer.' }, '503': { description: 'Names what is unreachable.' } } } },
      '/api/v1/chats': {
        post: operation('Create a chat; its first turn starts at once. `workspace_id` binds it to one of your workspaces; `mcp_server_ids` picks the remote MCP servers whose tools it may use.', { '201': { description: 'The chat.', ...json('Chat') }, '400': error('Invalid input, or `Unknown MCP server: <id>` for an id that is not an enabled MCP server.'), '409': { description: 'Spend limit reached.', ...json('UsageLimitExceeded') } }, { requestBody: { required: true, ...json('CreateChatRequest') } }),
        get: operation('List your chats, newest activity first.', { '200': { description: 'A page of chats.', ...json('ChatList') } }, {
          parameters: [
            { name: 'archived', in: 'query', schema: { type: 'boolean' } },
            { name: 'status', in: 'query', schema: { type: 'string' } },
            { name: 'label', in: 'query', schema: { type: 'string' }, description: 'key:value; repeatable' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
        }),
      },
      '/api/v1/chats/{chatId}': {
        parameters: [chatId],
        get: operation('Get a chat.', { '200': { description: 'The chat.', ...json('Chat') } }),
        patch: operation('Rename, relabel, archive or unarchive a chat, bind it to one of your workspaces (`workspace_id`; null unbinds), replace its MCP servers (`mcp_server_ids`), or switch plan mode (`plan_mode`). Archiving a chat archives its sub-agents; a sub-agent cannot be unarchived while its parent is archived (400).', { '200': { description: 'The chat.', ...json('Chat') }, '400': error('Invalid input, or `Unknown MCP server: <id>`.') }, { requestBody: { required: true, ...json('UpdateChatRequest') } }),
      },
      '/api/v1/chats/{chatId}/messages': {
        parameters: [chatId],
        get: operation('A page of messages (and, on the newest page, the queue).', { '200': { description: 'Messages.', ...json('MessagePage') } }, {
          parameters: [
            { name: 'before_id', in: 'query', schema: { type: 'integer' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } },
          ],
        }),
        post: operation(
          'Send a message: it runs now, or queues while the chat is busy.',
          { '200': { description: 'Sent or queued.', ...json('SendMessageResponse') }, '400': error('Invalid input or archived chat.'), '409': { description: 'Spend limit reached.', ...json('UsageLimitExceeded') }, '429': error('Message queue is full.') },
          { requestBody: { required: true, ...json('SendMessageRequest') } },
        ),
      },
      '/api/v1/chats/{chatId}/messages/{messageId}': {
        parameters: [chatId, integerPath('messageId')],
        patch: operation('Edit a user message: later messages are dropped and the chat reruns.', { '200': { description: 'The replacement message.', ...json('ChatMessage') }, '400': error('Not a user message, or invalid input.') }, { requestBody: { required: true, ...json('EditMessageRequest') } }),
      },
      '/api/v1/chats/{chatId}/title/regenerate': {
        parameters: [chatId],
        post: operation('Regenerate the title from the first user turn and the last three turns, and store it.', { '200': { description: 'The chat with its new title.', ...json('Chat') }, '409': error('Title generation is already in progress (or no model can write titles), or spend limit reached.'), '502': error('The model gave no usable title.') }),
      },
      '/api/v1/chats/{chatId}/compact': {
        parameters: [chatId],
        post: operation(
          'Summarise the conversation now (source "manual", whatever the threshold): later prompts start from the summary. Refused while a turn runs.',
          { '200': { description: 'The stored summary and the usage it was taken at.', ...json('CompactionResult') }, '409': error('Nothing to compact, the chat is busy, or spend limit reached.'), '502': error('The model gave no usable summary.') },
        ),
      },
      '/api/v1/chats/{chatId}/interrupt': {
        parameters: [chatId],
        post: operation('Interrupt the running turn; its partial output is kept.', { '200': { description: 'The chat.', ...json('Chat') }, '409': error('Not interruptible.') }),
      },
      '/api/v1/chats/{chatId}/queue/{queuedId}/promote': {
        parameters: [chatId, integerPath('queuedId')],
        post: operation('Run a queued message next (interrupting a running turn).', { '202': { description: 'Accepted.', ...json('PromoteAccepted') } }),
      },
      '/api/v1/chats/{chatId}/queue/{queuedId}': {
        parameters: [chatId, integerPath('queuedId')],
        delete: operation('Delete a queued message.', { '204': { description: 'Deleted.' } }),
      },
      '/api/v1/chats/{chatId}/tool-results': {
        parameters: [chatId],
        post: operation('Answer the pending client-executed tool calls.', { '204': { description: 'The turn continues.' }, '400': error('Duplicate, missing or unexpected results.'), '409': error('Not waiting for tool results.') }, { requestBody: { required: true, ...json('SubmitToolResultsRequest') } }),
      },
      '/api/v1/chats/{chatId}/stream': {
        parameters: [chatId],
        get: operation(
          'Server-Sent Events of the chat. Each event: `id: <seq>`, `event: <type>`, `data: <ChatStreamEvent JSON>`. Resume with Last-Event-ID or ?after=<seq>; without a cursor a snapshot comes first (its events carry no id except the last).',
          { '200': { description: 'An event stream.', content: { 'text/event-stream': { schema: ref('ChatStreamEvent') } } }, '400': error('Invalid stream cursor.') },
          {
            parameters: [
              { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0 } },
              { name: 'Last-Event-ID', in: 'header', schema: { type: 'integer', minimum: 0 } },
            ],
          },
        ),
      },
      '/api/v1/models': { get: operation('Enabled model configs on enabled providers.', { '200': { description: 'Models.', ...json('ModelList') } }) },
      '/api/v1/files': {
        post: operation('Upload an attachment: the raw bytes with their Content-Type (PNG, JPEG, GIF, WebP or plain text; at most 10 MiB).', { '201': { description: 'The stored file.', ...json('ChatFile') }, '400': error('Empty body.'), '413': error('Over 10 MiB.'), '415': error('Unsupported type.') }, {
          parameters: [{ name: 'name', in: 'query', schema: { type: 'string' } }],
          requestBody: { required: true, content: Object.fromEntries(ALLOWED_FILE_TYPES.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])) },
        }),
      },
      '/api/v1/files/{id}': {
        parameters: [uuidPath('id')],
        get: operation('Download your attachment.', { '200': { description: 'The bytes, with their Content-Type.' } }),
      },
      '/api/v1/user-provider-keys': {
        get: operation('The providers that accept your own API key, and whether you stored one.', { '200': { description: 'Your keys (never their values).', ...json('UserProviderKeyList') } }),
      },
      '/api/v1/user-provider-keys/{provider}': {
        parameters: [{ name: 'provider', in: 'path', required: true, schema: { type: 'string' } }],
        put: operation('Store your own key for a provider (sealed; used for your chats on it).', { '200': { description: 'Stored.' }, '400': error('Invalid input.'), '403': error('The provider does not accept user keys.') }, { requestBody: { required: true, ...json('SetUserProviderKeyRequest') } }),
        delete: operation('Remove your key for a provider.', { '204': { description: 'Removed.' } }),
      },
      '/api/v1/usage': {
        get: operation('Your tokens and spend in a period, per model, with your spend limit.', { '200': { description: 'Usage.', ...json('UsageReport') }, '400': error('Invalid period.') }, {
          parameters: [
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
          ],
        }),
      },
      '/api/v1/workspaces': {
        get: operation('Your workspaces, newest first (created by a chat\'s create_workspace tool).', { '200': { description: 'Workspaces (never their agent tokens).', ...json('WorkspaceList') } }),
      },
      '/api/v1/workspaces/{id}': {
        parameters: [uuidPath('id')],
        get: operation('One of your workspaces.', { '200': { description: 'The workspace.', ...json('Workspace') }, '404': error('Workspace not found (or not yours).') }),
      },
      '/api/v1/templates': {
        get: operation('The workspace templates this server offers (CHATD_TEMPLATES_FILE); seeded file contents are not shown.', { '200': { description: 'Templates.', ...json('TemplateList') } }),
      },
      '/api/v1/templates/{name}': {
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        get: operation('One workspace template.', { '200': { description: 'The template.', ...json('Template') }, '404': error('Template not found.') }),
      },
      '/api/v1/mcp-servers': {
        get: operation('Admin: list remote MCP servers (credentials and signing secrets are never returned).', { '200': { description: 'MCP servers.', ...json('McpServerList') }, ...admin }),
        post: operation('Admin: add a remote MCP server; its credentials and signing secret are stored sealed.', { '201': { description: 'The MCP server.', ...json('McpServer') }, '400': error('Invalid input.'), '409': error('The slug is taken.'), '503': error('No CHATD_SECRET_KEY to seal the credentials.'), ...admin }, { requestBody: { required: true, ...json('CreateMcpServerRequest') } }),
      },
      '/api/v1/mcp-servers/available': {
        get: operation('The enabled MCP servers you can pick for a chat, and whether you must still connect your OAuth2 token to one.', { '200': { description: 'MCP servers.', ...json('AvailableMcpServerList') } }),
      },
      '/api/v1/mcp-servers/{id}': {
        parameters: [uuidPath('id')],
        get: operation('Admin: an MCP server.', { '200': { description: 'The MCP server.', ...json('McpServer') }, '404': error('MCP server not found.'), ...admin }),
        patch: operation('Admin: change an MCP server; `auth` replaces its credentials as a whole, `signing_secret: null` removes the secret.', { '200': { description: 'The MCP server.', ...json('McpServer') }, '400': error('Invalid input.'), '404': error('MCP server not found.'), '503': error('No CHATD_SECRET_KEY to seal the credentials.'), ...admin }, { requestBody: { required: true, ...json('UpdateMcpServerRequest') } }),
        delete: operation('Admin: delete an MCP server and its users\' tokens; chats that picked it no longer get its tools.', { '204': { description: 'Deleted.' }, '404': error('MCP server not found.'), ...admin }),
      },
      '/api/v1/mcp-servers/{id}/user-token': {
        parameters: [uuidPath('id')],
        put: operation('Store your own OAuth2 tokens for an enabled oauth2 MCP server (sealed, never returned); chatd refreshes them before they expire.', { '200': { description: 'Stored.', ...json('McpUserTokenStatus') }, '400': error('Invalid input, or the server does not use OAuth2.'), '404': error('MCP server not found.'), '503': error('No CHATD_SECRET_KEY to seal the tokens.') }, { requestBody: { required: true, ...json('SetMcpUserTokenRequest') } }),
        delete: operation('Remove your tokens for an MCP server.', { '204': { description: 'Removed.' }, '404': error('No token of yours is stored.') }),
      },
      '/api/v1/skills': {
        get: operation('Your personal skills (name and description), with the per-user limit.', { '200': { description: 'Skills.', ...json('PersonalSkillList') } }),
      },
      '/api/v1/skills/{name}': {
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' } }],
        get: operation('One of your personal skills, with its body.', { '200': { description: 'The skill.', ...json('PersonalSkill') }, '400': error('Invalid skill name.'), '404': error('Skill not found (or not yours).') }),
        put: operation('Create or replace a personal skill; your chats list it in `<available-skills>` as `personal/<name>`.', { '200': { description: 'Replaced.', ...json('PersonalSkill') }, '201': { description: 'Created.', ...json('PersonalSkill') }, '400': error('Invalid name or body.'), '409': error('You already have 100 personal skills.') }, { requestBody: { required: true, ...json('PutSkillRequest') } }),
        delete: operation('Delete a personal skill.', { '204': { description: 'Deleted.' }, '400': error('Invalid skill name.'), '404': error('Skill not found (or not yours).') }),
      },
      '/api/v1/providers': {
        get: operation('Admin: list providers (keys are never returned).', { '200': { description: 'Providers.', ...json('ProviderList') }, ...admin }),
        post: operation('Admin: add a provider; its API key is stored sealed.', { '201': { description: 'The provider.', ...json('Provider') }, '400': error('Invalid input.'), '409': error('The name is taken.'), '503': error('No CHATD_SECRET_KEY to seal the key.'), ...admin }, { requestBody: { required: true, ...json('CreateProviderRequest') } }),
      },
      '/api/v1/providers/{id}': {
        parameters: [uuidPath('id')],
        get: operation('Admin: a provider.', { '200': { description: 'The provider.', ...json('Provider') }, ...admin }),
        patch: operation('Admin: change a provider\'s base URL, key (null removes it) or enabled flag.', { '200': { description: 'The provider.', ...json('Provider') }, '400': error('Invalid input.'), ...admin }, { requestBody: { required: true, ...json('UpdateProviderRequest') } }),
        delete: operation('Admin: delete a provider no model config uses.', { '204': { description: 'Deleted.' }, '409': error('Model configs still use it.'), ...admin }),
      },
      '/api/v1/model-configs': {
        get: operation('Admin: list model configs.', { '200': { description: 'Model configs.', ...json('ModelConfigList') }, ...admin }),
        post: operation('Admin: add a model config.', { '201': { description: 'The model config.', ...json('ModelConfig') }, '400': error('Invalid input or unknown provider.'), ...admin }, { requestBody: { required: true, ...json('CreateModelConfigRequest') } }),
      },
      '/api/v1/model-configs/{id}': {
        parameters: [uuidPath('id')],
        patch: operation('Admin: change a model config.', { '200': { description: 'The model config.', ...json('ModelConfig') }, '400': error('Invalid input.'), ...admin }, { requestBody: { required: true, ...json('UpdateModelConfigRequest') } }),
        delete: operation('Admin: delete a model config, or disable it when messages use it.', { '204': { description: 'Deleted.' }, '200': { description: 'In use: disabled instead.' }, ...admin }),
      },
      '/api/v1/settings/title-model': {
        get: operation('Admin: the model config that writes titles and turn labels (null: each chat\'s own model).', { '200': { description: 'The setting.', ...json('SetTitleModelRequest') }, ...admin }),
        put: operation('Admin: pin the title model (null unpins it).', { '200': { description: 'The setting.', ...json('SetTitleModelRequest') }, '400': error('Not an enabled model config.'), ...admin }, { requestBody: { required: true, ...json('SetTitleModelRequest') } }),
      },
      '/api/v1/settings/compaction-threshold': {
        get: operation("The caller's compaction thresholds, per model config.", { '200': { description: 'The overrides.', ...json('CompactionThresholdList') } }),
        put: operation(
          "Set the caller's compaction threshold for a model config (percent of its context limit; 100 disables; null removes the override).",
          { '200': { description: 'The override.', ...json('SetCompactionThresholdRequest') }, '400': error('Invalid input or unknown model config.') },
          { requestBody: { required: true, ...json('SetCompactionThresholdRequest') } },
        ),
      },
      '/api/v1/settings/advisor': {
        get: operation('Admin: the advisor tool settings (off by default).', { '200': { description: 'The settings.', ...json('AdvisorSettings') }, ...admin }),
        put: operation('Admin: enable or configure the advisor tool for root chats.', { '200': { description: 'The settings.', ...json('AdvisorSettings') }, '400': error('Invalid input or not an enabled model config.'), ...admin }, { requestBody: { required: true, ...json('AdvisorSettings') } }),
      },
      '/api/v1/usage-limits': { get: operation('Admin: list spend limits.', { '200': { description: 'Limits.', ...json('UsageLimitList') }, ...admin }) },
      '/api/v1/usage-limits/default': {
        put: operation('Admin: set the default spend limit.', { '200': { description: 'The limit.', ...json('UsageLimit') }, '400': error('Invalid input.'), ...admin }, { requestBody: { required: true, ...json('SetUsageLimitRequest') } }),
        delete: operation('Admin: remove the default spend limit.', { '204': { description: 'Removed.' }, ...admin }),
      },
      '/api/v1/usage-limits/users/{id}': {
        parameters: [uuidPath('id')],
        put: operation('Admin: set a user\'s spend limit.', { '200': { description: 'The limit.', ...json('UsageLimit') }, '400': error('Invalid input.'), ...admin }, { requestBody: { required: true, ...json('SetUsageLimitRequest') } }),
        delete: operation('Admin: remove a user\'s spend limit.', { '204': { description: 'Removed.' }, ...admin }),
      },
    },
  };
}
