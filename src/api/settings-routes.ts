/**
 * Service-wide settings (admin only). `title-model`: the model config that writes chat titles
 * and turn status labels; unset (null), each chat's own model does. `advisor`: whether root
 * chats are offered the `advisor` tool, its model (null: the chat's), output bound and per-turn cap.
 */
import { Router } from 'express';
import { getAdvisorSettings, setAdvisorSettings } from '../db/advisor-settings.js';
import { AdvisorSettings } from '../domain/advisor.js';
import { SetTitleModelRequest } from '../domain/chat-title.js';
import { createChatTitles } from '../db/chat-titles.js';
import { type Pool } from '../db/pool.js';
import { requireAdmin } from './admin-routes.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

export function createSettingsRouter(dependencies: { pool: Pool }): Router {
  const router = Router();
  const titles = createChatTitles(dependencies.pool);
  // Per-user settings (compaction thresholds) live on their own router; these are service-wide.
  router.use(['/settings/title-model', '/settings/advisor'], requireAdmin);

  router.get('/settings/title-model', async (_request, response) => {
    response.json({ model_config_id: await titles.getTitleModelConfigId() });
  });

  router.put('/settings/title-model', async (request, response) => {
    const body = parseRequest(SetTitleModelRequest, request.body);
    if (body.model_config_id !== null) {
      const { rows } = await dependencies.pool.query('SELECT 1 FROM model_configs WHERE id = $1 AND enabled', [body.model_config_id]);
      if (rows.length === 0) throw new HttpError(400, 'Invalid model config ID.', 'Use the id of an enabled model config.');
    }
    await titles.setTitleModelConfigId(body.model_config_id);
    response.json({ model_config_id: body.model_config_id });
  });

  router.get('/settings/advisor', async (_request, response) => {
    response.json(await getAdvisorSettings(dependencies.pool));
  });

  router.put('/settings/advisor', async (request, response) => {
    const body = parseRequest(AdvisorSettings, request.body);
    if (body.model_config_id !== null) {
      const { rows } = await dependencies.pool.query('SELECT 1 FROM model_configs WHERE id = $1 AND enabled', [body.model_config_id]);
      if (rows.length === 0) throw new HttpError(400, 'Invalid model config ID.', 'Use the id of an enabled model config.');
    }
    await setAdvisorSettings(dependencies.pool, body);
    response.json(body);
  });

  return router;
}
