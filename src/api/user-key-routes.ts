/**
 * Bring-your-own-key: `GET /user-provider-keys` lists the providers that accept user keys and
 * whether you stored one; `PUT /user-provider-keys/:provider {api_key}` stores yours (sealed,
 * never returned); `DELETE` removes it. Your chats on that provider then use your key.
 */
import { Router } from 'express';
import { z } from 'zod';
import { SetUserProviderKeyRequest } from '../domain/provider.js';
import { type ModelCatalogue } from '../db/model-catalogue.js';
import { catalogueCall } from './catalogue-call.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

const ProviderParams = z.object({ provider: z.string().min(1).max(63) });

export function createUserKeyRouter(dependencies: { catalogue: ModelCatalogue }): Router {
  const router = Router();
  const { catalogue } = dependencies;

  router.get('/user-provider-keys', async (request, response) => {
    response.json({ user_provider_keys: await catalogue.listUserKeys(currentUser(request).id) });
  });

  router.put('/user-provider-keys/:provider', async (request, response) => {
    const { provider } = parseRequest(ProviderParams, request.params, 'query');
    const body = parseRequest(SetUserProviderKeyRequest, request.body);
    const stored = await catalogueCall(() => catalogue.setUserKey(currentUser(request).id, provider, body.api_key));
    if (!stored) throw new HttpError(404, 'Provider not found.');
    response.json({ provider, has_api_key: true });
  });

  router.delete('/user-provider-keys/:provider', async (request, response) => {
    const { provider } = parseRequest(ProviderParams, request.params, 'query');
    if (!(await catalogue.deleteUserKey(currentUser(request).id, provider))) throw new HttpError(404, 'No key of yours is stored for that provider.');
    response.status(204).end();
  });

  return router;
}
