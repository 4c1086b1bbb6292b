/**
 * Admin API: providers, model configs and spend limits. Every route needs an admin key
 * (`chatd users create --admin`); others get 403. Provider keys go in, never out.
 */
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  CreateModelConfigRequest,
  CreateProviderRequest,
  UpdateModelConfigRequest,
  UpdateProviderRequest,
} from '../domain/provider.js';
import { SetUsageLimitRequest } from '../domain/usage.js';
import { type ModelCatalogue } from '../db/model-catalogue.js';
import { catalogueCall } from './catalogue-call.js';
import { type UsageLedger } from '../db/usage.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

const IdParams = z.object({ id: z.uuid() });

/** Answers 403 unless the caller's key belongs to an admin. */
export const requireAdmin: RequestHandler = (request, _response, next) => {
  next(currentUser(request).isAdmin ? undefined : new HttpError(403, 'Admin access required.', 'Use an API key of an admin user (chatd users create --admin).'));
};

function idParam(request: Request, what: string): string {
  const parsed = IdParams.safeParse(request.params);
  if (!parsed.success) throw new HttpError(404, `${what} not found.`);
  return parsed.data.id;
}

export function createAdminRouter(dependencies: { catalogue: ModelCatalogue; usage: UsageLedger }): Router {
  const router = Router();
  const { catalogue, usage } = dependencies;
  router.use(['/providers', '/model-configs', '/usage-limits'], requireAdmin);

  router.get('/providers', async (_request, response) => {
    response.json({ providers: await catalogue.listProviders() });
  });

  router.post('/providers', async (request, response) => {
    const body = parseRequest(CreateProviderRequest, request.body);
    response.status(201).json(await catalogueCall(() => catalogue.createProvider(body)));
  });

  router.get('/providers/:id', async (request, response) => {
    const provider = await catalogue.getProvider(idParam(request, 'Provider'));
    if (provider === undefined) throw new HttpError(404, 'Provider not found.');
    response.json(provider);
  });

  router.patch('/providers/:id', async (request, response) => {
    const id = idParam(request, 'Provider');
    const body = parseRequest(UpdateProviderRequest, request.body);
    const provider = await catalogueCall(() => catalogue.updateProvider(id, body));
    if (provider === undefined) throw new HttpError(404, 'Provider not found.');
    response.json(provider);
  });

  router.delete('/providers/:id', async (request, response) => {
    const id = idParam(request, 'Provider');
    if (!(await catalogueCall(() => catalogue.deleteProvider(id)))) throw new HttpError(404, 'Provider not found.');
    response.status(204).end();
  });

  router.get('/model-configs', async (_request, response) => {
    response.json({ model_configs: await catalogue.listModelConfigs() });
  });

  router.post('/model-configs', async (request, response) => {
    const body = parseRequest(CreateModelConfigRequest, request.body);
    response.status(201).json(await catalogueCall(() => catalogue.createModelConfig(body)));
  });

  router.patch('/model-configs/:id', async (request, response) => {
    const id = idParam(request, 'Model config');
    const body = parseRequest(UpdateModelConfigRequest, request.body);
    const config = await catalogueCall(() => catalogue.updateModelConfig(id, body));
    if (config === undefined) throw new HttpError(404, 'Model config not found.');
    response.json(config);
  });

  router.delete('/model-configs/:id', async (request, response) => {
    const outcome = await catalogue.deleteModelConfig(idParam(request, 'Model config'));
    if (outcome === 'missing') throw new HttpError(404, 'Model config not found.');
    // Messages still refer to it: it is disabled instead, so their history keeps its model.
    if (outcome === 'disabled') response.json({ message: 'Model config is in use; it was disabled instead of deleted.' });
    else response.status(204).end();
  });

  router.get('/usage-limits', async (_request, response) => {
    response.json({ usage_limits: await usage.listLimits() });
  });

  router.put('/usage-limits/default', async (request, response) => {
    response.json(await usage.setLimit(null, parseRequest(SetUsageLimitRequest, request.body)));
  });

  router.put('/usage-limits/users/:id', async (request, response) => {
    const userId = idParam(request, 'User');
    const limit = await usage.setLimit(userId, parseRequest(SetUsageLimitRequest, request.body));
    if (limit === undefined) throw new HttpError(404, 'User not found.');
    response.json(limit);
  });

  router.delete('/usage-limits/default', async (_request, response) => {
    await usage.clearLimit(null);
    response.status(204).end();
  });

  router.delete('/usage-limits/users/:id', async (request, response) => {
    await usage.clearLimit(idParam(request, 'User'));
    response.status(204).end();
  });

  return router;
}
