/**
 * Schema migrations: an ordered list of SQL scripts, applied once each inside a transaction
 * under an advisory lock, so several processes may run `migrate` at the same time.
 */
import { type Pool, withTransaction } from './pool.js';
import { sql as initial } from './migrations/0001-initial.js';
import { sql as watchFeed } from './migrations/0002-watch-feed.js';
import { sql as providers } from './migrations/0003-providers.js';
import { sql as keyAttribution } from './migrations/0004-key-attribution.js';
import { sql as chatFiles } from './migrations/0005-chat-files.js';
import { sql as userProviderKeys } from './migrations/0006-user-provider-keys.js';
import { sql as providerResponseId } from './migrations/0007-provider-response-id.js';
import { sql as providerTools } from './migrations/0008-provider-tools.js';
import { sql as workspaces } from './migrations/0009-workspaces.js';
import { sql as mcpServers } from './migrations/0010-mcp-servers.js';
import { sql as titlesAndSummaries } from './migrations/0011-titles-and-summaries.js';
import { sql as agentModes } from './migrations/0012-agent-modes.js';
import { sql as skillsAndContext } from './migrations/0013-skills-and-context.js';
import { sql as compaction } from './migrations/0014-compaction.js';
import { sql as streamFence } from './migrations/0015-stream-fence.js';
import { sql as turnInterrupted } from './migrations/0016-turn-interrupted.js';
import { sql as mcpPlanMode } from './migrations/0017-mcp-plan-mode.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'watch-feed', sql: watchFeed },
  { version: 3, name: 'providers', sql: providers },
  { version: 4, name: 'key-attribution', sql: keyAttribution },
  { version: 5, name: 'chat-files', sql: chatFiles },
  { version: 6, name: 'user-provider-keys', sql: userProviderKeys },
  { version: 7, name: 'provider-response-id', sql: providerResponseId },
  { version: 8, name: 'provider-tools', sql: providerTools },
  { version: 9, name: 'workspaces', sql: workspaces },
  { version: 10, name: 'mcp-servers', sql: mcpServers },
  { version: 11, name: 'titles-and-summaries', sql: titlesAndSummaries },
  { version: 12, name: 'agent-modes', sql: agentModes },
  { version: 13, name: 'skills-and-context', sql: skillsAndContext },
  { version: 14, name: 'compaction', sql: compaction },
  { version: 15, name: 'stream-fence', sql: streamFence },
  { version: 16, name: 'turn-interrupted', sql: turnInterrupted },
  { version: 17, name: 'mcp-plan-mode', sql: mcpPlanMode },
];

/** Arbitrary constant naming chatd's migration lock. */
const MIGRATION_LOCK_ID = 7_402_113;

/** Applies every migration not yet applied; returns the versions it applied. */
export async function migrate(pool: Pool): Promise<number[]> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const newlyApplied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      newlyApplied.push(migration.version);
    }
    return newlyApplied;
  });
}
