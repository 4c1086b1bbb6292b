/** The admin's advisor settings, one `chatd_settings` row (like the title model). */
import { AdvisorSettings, DEFAULT_ADVISOR_SETTINGS } from '../domain/advisor.js';
import { type Pool, type Queryable } from './pool.js';

const ADVISOR_SETTING = 'advisor';

export async function getAdvisorSettings(db: Queryable): Promise<AdvisorSettings> {
  const { rows } = await db.query<{ value: unknown }>('SELECT value FROM chatd_settings WHERE key = $1', [ADVISOR_SETTING]);
  const parsed = AdvisorSettings.safeParse(rows[0]?.value);
  return parsed.success ? parsed.data : DEFAULT_ADVISOR_SETTINGS;
}

export async function setAdvisorSettings(pool: Pool, settings: AdvisorSettings): Promise<void> {
  await pool.query(
    `INSERT INTO chatd_settings (key, value) VALUES ($1, $2::jsonb)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [ADVISOR_SETTING, JSON.stringify(settings)],
  );
}
