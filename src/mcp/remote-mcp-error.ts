/**
 * Why a remote MCP server could not be used. Discovery turns it into a warning (the server's
 * tools are left out); a tool call throws it so the caller can make it a result the model
 * reads. Messages name the server by slug and never carry credentials.
 */

/**
 * - `unreachable`: no connection, or the server answered HTTP with an error.
 * - `timeout`: no answer within the connect or call timeout.
 * - `unauthorized`: the server refused chatd's credentials (HTTP 401/403).
 * - `needs_user_token`: an OAuth2 server for which the user has no usable token.
 * - `misconfigured`: chatd cannot open the server's stored credentials.
 * - `not_selected`: the server is not one of the chat's enabled servers.
 */
export type RemoteMcpFailureKind = 'unreachable' | 'timeout' | 'unauthorized' | 'needs_user_token' | 'misconfigured' | 'not_selected';

export class RemoteMcpUnavailableError extends Error {
  override readonly name = 'RemoteMcpUnavailableError';
  constructor(
    readonly kind: RemoteMcpFailureKind,
    readonly serverId: string,
    readonly slug: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
