/**
 * Users and their API keys. A key is `chatd_<random>`; only its SHA-256 digest is stored, so a
 * database leak does not leak usable keys. Keys are shown once, when created.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { prepared, type Queryable } from './pool.js';

export interface User {
  id: string;
  name: string;
  isAdmin: boolean;
}

/** A user as authenticated by one of their API keys; the key id attributes what they start. */
export interface AuthenticatedUser extends User {
  apiKeyId: string;
}

const KEY_PREFIX = 'chatd_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
}

interface UserRow {
  id: string;
  name: string;
  is_admin: boolean;
}

function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, isAdmin: row.is_admin };
}

/** Creates a user (or returns the existing one with that name). */
export async function ensureUser(db: Queryable, name: string, isAdmin: boolean): Promise<User> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (id, name, is_admin) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET is_admin = users.is_admin OR EXCLUDED.is_admin
     RETURNING id, name, is_admin`,
    [randomUUID(), name, isAdmin],
  );
  return toUser(rows[0]!);
}

/** Issues a new API key for the user and returns it; only its digest is stored. */
export async function createApiKey(db: Queryable, userId: string, name = ''): Promise<string> {
  const key = generateApiKey();
  await db.query('INSERT INTO api_keys (id, user_id, key_hash, key_prefix, name) VALUES ($1, $2, $3, $4, $5)', [
    randomUUID(),
    userId,
    hashApiKey(key),
    key.slice(0, KEY_PREFIX.length + 4),
    name,
  ]);
  return key;
}

/** Resolves the user an API key belongs to, or undefined for an unknown key. */
export async function findUserByApiKey(db: Queryable, key: string): Promise<AuthenticatedUser | undefined> {
  const { rows } = await db.query<UserRow & { api_key_id: string }>(
    prepared(
      'user-by-api-key',
      'SELECT users.id, users.name, users.is_admin, api_keys.id AS api_key_id FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE api_keys.key_hash = $1',
      [hashApiKey(key)],
    ),
  );
  return rows[0] === undefined ? undefined : { ...toUser(rows[0]), apiKeyId: rows[0].api_key_id };
}

export async function hasApiKey(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM api_keys WHERE key_hash = $1', [hashApiKey(key)]);
  return rows.length > 0;
}
