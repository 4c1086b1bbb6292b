/**
 * Development conveniences for `chatd start`: a default `echo` model so a chat works without
 * API keys, a development user whose key is kept in the data directory (mode 0600) so a
 * second start prints the same key (the database stores only its digest), and a secret key
 * for sealing provider keys when CHATD_SECRET_KEY is not set.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Pool } from '../db/pool.js';
import { createApiKey, ensureUser, hasApiKey } from '../db/users.js';
import { generateSecretKey } from '../security/secret-box.js';

export async function ensureDevelopmentModels(pool: Pool): Promise<void> {
  const { rows } = await pool.query('SELECT 1 FROM model_configs LIMIT 1');
  if (rows.length > 0) return;
  await pool.query(
    `INSERT INTO model_configs (id, provider, model, display_name, is_default, context_limit, max_output_tokens)
     VALUES ($1, 'echo', 'echo', 'Echo (built-in, no API key)', true, 128000, 4096)`,
    [randomUUID()],
  );
}

export async function ensureDevelopmentApiKey(pool: Pool, dataDir: string): Promise<string> {
  const keyFile = path.join(dataDir, 'dev-api-key');
  if (existsSync(keyFile)) {
    const key = (await readFile(keyFile, 'utf8')).trim();
    if (await hasApiKey(pool, key)) return key;
  }
  const user = await ensureUser(pool, 'developer', true);
  const key = await createApiKey(pool, user.id, 'development');
  await writeFile(keyFile, `${key}\n`, { mode: 0o600 });
  return key;
}

/** A secret key for sealing provider keys, generated once and kept in the data directory (mode 0600). */
export async function ensureDevelopmentSecretKey(dataDir: string): Promise<string> {
  const keyFile = path.join(dataDir, 'secret-key');
  if (existsSync(keyFile)) return (await readFile(keyFile, 'utf8')).trim();
  const key = generateSecretKey();
  await writeFile(keyFile, `${key}\n`, { mode: 0o600 });
  return key;
}
