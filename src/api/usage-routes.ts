/**
 * `GET /usage`: the caller's token usage and spend for a period (default: the current month,
 * or the period of their spend limit), by model, with their limit status.
 */
import { Router } from 'express';
import { periodBounds, UsageQuery, type UsageReport } from '../domain/usage.js';
import { type UsageLedger } from '../db/usage.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

export function createUsageRouter(dependencies: { usage: UsageLedger }): Router {
  const router = Router();
  router.get('/usage', async (request, response) => {
    const user = currentUser(request);
    const query = parseRequest(UsageQuery, request.query, 'query');
    const limit = await dependencies.usage.limitStatus(user.id);
    const defaults = periodBounds(limit?.period ?? 'month', new Date());
    const from = query.from === undefined ? defaults.start : new Date(query.from);
    const to = query.to === undefined ? defaults.end : new Date(query.to);
    if (from >= to) throw new HttpError(400, 'Invalid request query: from must be before to.');
    const [{ total, byModel }, byKey] = await Promise.all([dependencies.usage.totals(user.id, from, to), dependencies.usage.totalsByKey(user.id, from, to)]);
    const report: UsageReport = { from: from.toISOString(), to: to.toISOString(), total, by_model: byModel, by_api_key: byKey, limit };
    response.json(report);
  });
  return router;
}
