/**
 * Personal skills, per user. A user's row is locked while a new skill is counted and inserted,
 * so two concurrent PUTs can never take a user past MAX_PERSONAL_SKILLS. Every read is scoped
 * to one user: another user's skill is indistinguishable from one that does not exist.
 */
import { MAX_PERSONAL_SKILLS, type PersonalSkill, type PersonalSkillSummary } from '../domain/skill.js';
import { type Pool, type Queryable, withTransaction } from './pool.js';

export class SkillLimitError extends Error {
  override readonly name = 'SkillLimitError';
  constructor(readonly limit: number) {
    super(`You already have ${limit} personal skills, the most a user may keep. Delete one (DELETE /api/v1/skills/:name) or update an existing one instead.`);
  }
}

interface SkillRow {
  name: string;
  description: string;
  body?: string;
  created_at: Date;
  updated_at: Date;
}

function summary(row: SkillRow): PersonalSkillSummary {
  return { name: row.name, description: row.description, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

export async function listUserSkills(db: Queryable, userId: string): Promise<PersonalSkillSummary[]> {
  const { rows } = await db.query<SkillRow>('SELECT name, description, created_at, updated_at FROM user_skills WHERE user_id = $1 ORDER BY name', [userId]);
  return rows.map(summary);
}

export async function getUserSkill(db: Queryable, userId: string, name: string): Promise<PersonalSkill | undefined> {
  const { rows } = await db.query<SkillRow>('SELECT name, description, body, created_at, updated_at FROM user_skills WHERE user_id = $1 AND name = $2', [userId, name]);
  const row = rows[0];
  return row === undefined ? undefined : { ...summary(row), body: row.body ?? '' };
}

/** Creates or replaces a skill; throws SkillLimitError for a new one past the limit. */
export async function putUserSkill(pool: Pool, userId: string, skill: { name: string; description: string; body: string }): Promise<{ skill: PersonalSkill; created: boolean }> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
    const updated = await client.query<SkillRow>(
      'UPDATE user_skills SET description = $3, body = $4, updated_at = now() WHERE user_id = $1 AND name = $2 RETURNING name, description, body, created_at, updated_at',
      [userId, skill.name, skill.description, skill.body],
    );
    if (updated.rows[0] !== undefined) return { skill: { ...summary(updated.rows[0]), body: skill.body }, created: false };
    const { rows: counted } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM user_skills WHERE user_id = $1', [userId]);
    if ((counted[0]?.count ?? 0) >= MAX_PERSONAL_SKILLS) throw new SkillLimitError(MAX_PERSONAL_SKILLS);
    const inserted = await client.query<SkillRow>(
      'INSERT INTO user_skills (user_id, name, description, body) VALUES ($1, $2, $3, $4) RETURNING name, description, body, created_at, updated_at',
      [userId, skill.name, skill.description, skill.body],
    );
    return { skill: { ...summary(inserted.rows[0]!), body: skill.body }, created: true };
  });
}

export async function deleteUserSkill(db: Queryable, userId: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM user_skills WHERE user_id = $1 AND name = $2', [userId, name]);
  return (rowCount ?? 0) > 0;
}
