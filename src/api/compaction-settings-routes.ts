/**
 * The caller's own compaction thresholds, per model config: `GET` lists them, `PUT` sets one
 * (`threshold_percent` 1–100, 100 disables compaction; null removes the override so the model
 * config's threshold applies again). Any user may set their own; nothing here is service-wide.
 */
import { Router } from 'express';
import { createChatCompactions } from '../db/chat-compactions.js';
import { type Pool } from '../db/pool.js';
import { SetCompactionThresholdRequest } from '../domain/compaction.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

export function createCompactionSettingsRouter(dependencies: { pool: Pool }): Router {
  const router = Router();
  const compactions = createChatCompactions(dependencies.pool);

  router.get('/settings/compaction-threshold', async (request, response) => {
    response.json({ thresholds: await compactions.listUserThresholds(currentUser(request).id) });
  });

  router.put('/settings/compaction-threshold', async (request, response) => {
    const body = parseRequest(SetCompactionThresholdRequest, request.body);
    const { rows } = await dependencies.pool.query('SELECT 1 FROM model_configs WHERE id = $1', [body.model_config_id]);
    if (rows.length === 0) throw new HttpError(400, 'Invalid model config ID.', 'Use the id of a model config (GET /api/v1/models).');
    await compactions.setUserThreshold(currentUser(request).id, body.model_config_id, body.threshold_percent);
    response.json(body);
  });

  return router;
}
