/**
 * The model catalogue in PostgreSQL: providers (API keys stored sealed by a `SecretBox`) and
 * model configs. Rows are parsed with the domain schemas on the way out; keys never are.
 */
import { randomUUID } from 'node:crypto';
import {
  BUILTIN_PROVIDERS,
  ModelConfig,
  PROVIDER_TOOL_KINDS,
  type ProviderToolName,
  Provider,
  type CreateModelConfigRequest,
  type CreateProviderRequest,
  type ProviderKind,
  type UpdateModelConfigRequest,
  type UpdateProviderRequest,
  UserProviderKey,
} from '../domain/provider.js';
import { type Pool, withTransaction, type Queryable } from './pool.js';
import { DEFAULT_COMPACTION_THRESHOLD_PERCENT } from '../domain/compaction.js';

interface ProviderRow {
  id: string;
  name: string;
  kind: ProviderKind;
  base_url: string | null;
  api_key_ciphertext: string | null;
  enabled: boolean;
  allow_user_api_key: boolean;
  allow_central_api_key_fallback: boolean;
  created_at: Date;
  updated_at: Date;
}

function providerFromRow(row: ProviderRow): Provider {
  return Provider.parse({
    id: row.id,
    name: row.name,
    kind: row.kind,
    base_url: row.base_url,
    enabled: row.enabled,
    has_api_key: row.api_key_ciphertext !== null,
    allow_user_api_key: row.allow_user_api_key,
    allow_central_api_key_fallback: row.allow_central_api_key_fallback,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  });
}

function modelConfigFromRow(row: Record<string, unknown>): ModelConfig {
  return ModelConfig.parse({ ...row, created_at: (row.created_at as Date).toISOString(), updated_at: (row.updated_at as Date).toISOString() });
}

/** A catalogue change that cannot be made, with the HTTP status it stands for. */
export class CatalogueError extends Error {
  override readonly name = 'CatalogueError';
  constructor(
    readonly status: 400 | 403 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Seals provider keys for storage. Absent when the server has no CHATD_SECRET_KEY. */
export interface KeySealer {
  seal(plaintext: string): string;
}

export function createModelCatalogue(pool: Pool, sealer: KeySealer | undefined) {
  const seal = (key: string): string => {
    if (sealer === undefined) throw new CatalogueError(503, 'Provider API keys cannot be stored: this server has no CHATD_SECRET_KEY.');
    return sealer.seal(key);
  };

  return {
    async listProviders(): Promise<Provider[]> {
      const { rows } = await pool.query<ProviderRow>('SELECT * FROM providers ORDER BY name');
      return rows.map(providerFromRow);
    },

    async getProvider(id: string): Promise<Provider | undefined> {
      const { rows } = await pool.query<ProviderRow>('SELECT * FROM providers WHERE id = $1', [id]);
      return rows[0] === undefined ? undefined : providerFromRow(rows[0]);
    },

    async createProvider(input: CreateProviderRequest): Promise<Provider> {
      const ciphertext = input.api_key === undefined ? null : seal(input.api_key);
      const { rows } = await pool.query<ProviderRow>(
        `INSERT INTO providers (id, name, kind, base_url, api_key_ciphertext, enabled, allow_user_api_key, allow_central_api_key_fallback) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name) DO NOTHING RETURNING *`,
        [randomUUID(), input.name, input.kind, input.base_url ?? null, ciphertext, input.enabled ?? true, input.allow_user_api_key ?? false, input.allow_central_api_key_fallback ?? true],
      );
      if (rows[0] === undefined) throw new CatalogueError(409, `A provider named "${input.name}" already exists.`);
      return providerFromRow(rows[0]);
    },

    async updateProvider(id: string, input: UpdateProviderRequest): Promise<Provider | undefined> {
      const sets: string[] = [];
      const values: unknown[] = [id];
      const set = (column: string, value: unknown) => {
        values.push(value);
        sets.push(`${column} = $${values.length}`);
      };
      if (input.base_url !== undefined) set('base_url', input.base_url);
      if (input.api_key !== undefined) set('api_key_ciphertext', input.api_key === null ? null : seal(input.api_key));
      if (input.enabled !== undefined) set('enabled', input.enabled);
      if (input.allow_user_api_key !== undefined) set('allow_user_api_key', input.allow_user_api_key);
      if (input.allow_central_api_key_fallback !== undefined) set('allow_central_api_key_fallback', input.allow_central_api_key_fallback);
      const { rows } = await pool.query<ProviderRow>(`UPDATE providers SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`, values);
      return rows[0] === undefined ? undefined : providerFromRow(rows[0]);
    },

    /** Deletes a provider no model config uses; returns false when there was none. */
    async deleteProvider(id: string): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ name: string }>('SELECT name FROM providers WHERE id = $1 FOR UPDATE', [id]);
        if (rows[0] === undefined) return false;
        const used = await client.query('SELECT 1 FROM model_configs WHERE provider = $1 LIMIT 1', [rows[0].name]);
        if (used.rows.length > 0) throw new CatalogueError(409, `Provider "${rows[0].name}" still has model configs; delete or move them first.`);
        await client.query('DELETE FROM providers WHERE id = $1', [id]);
        return true;
      });
    },

    /** The providers that accept user keys, with whether this user stored one. */
    async listUserKeys(userId: string): Promise<UserProviderKey[]> {
      const { rows } = await pool.query<{ name: string; kind: ProviderKind; allow_central_api_key_fallback: boolean; updated_at: Date | null }>(
        `SELECT p.name, p.kind, p.allow_central_api_key_fallback, k.updated_at FROM providers p
         LEFT JOIN user_provider_keys k ON k.provider_id = p.id AND k.user_id = $1
         WHERE p.allow_user_api_key ORDER BY p.name`,
        [userId],
      );
      return rows.map((row) =>
        UserProviderKey.parse({ provider: row.name, kind: row.kind, has_api_key: row.updated_at !== null, central_key_fallback: row.allow_central_api_key_fallback, updated_at: row.updated_at?.toISOString() ?? null }),
      );
    },

    /** Stores the user's own key for a provider that allows it; false when there is no such provider. */
    async setUserKey(userId: string, providerName: string, apiKey: string): Promise<boolean> {
      const { rows } = await pool.query<{ id: string; allow_user_api_key: boolean }>('SELECT id, allow_user_api_key FROM providers WHERE name = $1', [providerName]);
      const provider = rows[0];
      if (provider === undefined) return false;
      if (!provider.allow_user_api_key) throw new CatalogueError(403, `Provider "${providerName}" does not accept user API keys.`);
      await pool.query(
        `INSERT INTO user_provider_keys (user_id, provider_id, api_key_ciphertext) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, provider_id) DO UPDATE SET api_key_ciphertext = EXCLUDED.api_key_ciphertext, updated_at = now()`,
        [userId, provider.id, seal(apiKey)],
      );
      return true;
    },

    async deleteUserKey(userId: string, providerName: string): Promise<boolean> {
      const { rowCount } = await pool.query('DELETE FROM user_provider_keys k USING providers p WHERE k.provider_id = p.id AND p.name = $2 AND k.user_id = $1', [userId, providerName]);
      return rowCount === 1;
    },

    async listModelConfigs(): Promise<ModelConfig[]> {
      const { rows } = await pool.query('SELECT * FROM model_configs ORDER BY is_default DESC, display_name');
      return rows.map(modelConfigFromRow);
    },

    async createModelConfig(input: CreateModelConfigRequest): Promise<ModelConfig> {
      return withTransaction(pool, async (client) => {
        await assertProviderTools(client, input.provider, input.provider_tools ?? []);
        if (input.is_default === true) await client.query('UPDATE model_configs SET is_default = false WHERE is_default');
        const { rows } = await client.query(
          `INSERT INTO model_configs (id, provider, model, display_name, enabled, is_default, context_limit, max_output_tokens, prices, provider_options, provider_tools, compression_threshold)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
          [
            randomUUID(),
            input.provider,
            input.model,
            input.display_name ?? input.model,
            input.enabled ?? true,
            input.is_default ?? false,
            input.context_limit ?? 128_000,
            input.max_output_tokens ?? 32_000,
            JSON.stringify(input.prices ?? {}),
            JSON.stringify(input.provider_options ?? {}),
            input.provider_tools ?? [],
            input.compression_threshold ?? DEFAULT_COMPACTION_THRESHOLD_PERCENT,
          ],
        );
        return modelConfigFromRow(rows[0]);
      });
    },

    async updateModelConfig(id: string, input: UpdateModelConfigRequest): Promise<ModelConfig | undefined> {
      return withTransaction(pool, async (client) => {
        if (input.is_default === true) await client.query('UPDATE model_configs SET is_default = false WHERE is_default AND id <> $1', [id]);
        if (input.provider_tools !== undefined && input.provider_tools.length > 0) {
          const { rows: existing } = await client.query<{ provider: string }>('SELECT provider FROM model_configs WHERE id = $1', [id]);
          if (existing[0] !== undefined) await assertProviderTools(client, existing[0].provider, input.provider_tools);
        }
        const sets: string[] = [];
        const values: unknown[] = [id];
        for (const [column, value] of Object.entries(input)) {
          if (value === undefined) continue;
          values.push(column === 'prices' || column === 'provider_options' ? JSON.stringify(value) : value);
          sets.push(`${column} = $${values.length}`);
        }
        const { rows } = await client.query(`UPDATE model_configs SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`, values);
        return rows[0] === undefined ? undefined : modelConfigFromRow(rows[0]);
      });
    },

    /** Disables rather than deletes a model config that messages refer to. */
    async deleteModelConfig(id: string): Promise<'deleted' | 'disabled' | 'missing'> {
      const { rowCount } = await pool.query('DELETE FROM model_configs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM chat_messages WHERE model_config_id = $1) AND NOT EXISTS (SELECT 1 FROM chats WHERE last_model_config_id = $1)', [id]);
      if (rowCount === 1) return 'deleted';
      const disabled = await pool.query('UPDATE model_configs SET enabled = false, is_default = false, updated_at = now() WHERE id = $1', [id]);
      return disabled.rowCount === 1 ? 'disabled' : 'missing';
    },
  };
}

/** The provider exists (or is built in) and its kind offers every requested provider tool. */
async function assertProviderTools(db: Queryable, provider: string, tools: readonly ProviderToolName[]): Promise<void> {
  const builtin = (BUILTIN_PROVIDERS as readonly string[]).includes(provider);
  const { rows } = builtin ? { rows: [] } : await db.query<{ kind: ProviderKind }>('SELECT kind FROM providers WHERE name = $1', [provider]);
  if (!builtin && rows[0] === undefined) throw new CatalogueError(400, `Unknown provider "${provider}": create it first (POST /api/v1/providers) or use a built-in model (echo).`);
  for (const tool of tools) {
    const kinds = PROVIDER_TOOL_KINDS[tool];
    if (rows[0] === undefined || !kinds.includes(rows[0].kind)) throw new CatalogueError(400, `The provider tool "${tool}" needs a provider of kind ${kinds.join(' or ')}.`);
  }
}

export type ModelCatalogue = ReturnType<typeof createModelCatalogue>;
