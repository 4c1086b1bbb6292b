/**
 * Remote MCP servers configured by admins, each user's OAuth2 tokens for them, and the servers
 * a chat uses. Credentials are sealed JSON (`SecretBox`): the admin API writes them and never
 * reads them back; only the code that connects to a server opens them.
 * `chats.mcp_server_ids` has no foreign key (arrays cannot have one): a deleted or disabled
 * server is simply not connected to.
 */
export const sql = `
CREATE TABLE mcp_servers (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
  display_name text NOT NULL,
  url text NOT NULL,
  transport text NOT NULL DEFAULT 'streamable_http' CHECK (transport IN ('streamable_http', 'sse')),
  auth_type text NOT NULL DEFAULT 'none' CHECK (auth_type IN ('none', 'api_key', 'custom_headers', 'oauth2')),
  auth_config_sealed text,
  identity_headers boolean NOT NULL DEFAULT false,
  signing_secret_sealed text,
  tool_allow_list text[] NOT NULL DEFAULT '{}',
  tool_deny_list text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT mcp_servers_auth_config CHECK ((auth_type = 'none') = (auth_config_sealed IS NULL)),
  CONSTRAINT mcp_servers_identity_signed CHECK (NOT identity_headers OR signing_secret_sealed IS NOT NULL)
);

CREATE TABLE mcp_server_user_tokens (
  server_id uuid NOT NULL REFERENCES mcp_servers(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  access_token_sealed text NOT NULL,
  refresh_token_sealed text,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server_id, user_id)
);

ALTER TABLE chats ADD COLUMN mcp_server_ids uuid[] NOT NULL DEFAULT '{}';
`;
