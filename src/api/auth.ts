/**
 * Bearer-key authentication. Every /api/v1 route needs a valid key; the user it belongs to
 * is attached to the request for owner scoping.
 */
import { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { type Pool } from '../db/pool.js';
import { findUserByApiKey, type AuthenticatedUser } from '../db/users.js';
import { HttpError } from './http-error.js';

const authenticatedUsers = new WeakMap<Request, AuthenticatedUser>();

export function createAuthMiddleware(pool: Pool): RequestHandler {
  return (request: Request, _response: Response, next: NextFunction) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match === null) {
      next(new HttpError(401, 'Missing API key.', 'Send "Authorization: Bearer <api key>".'));
      return;
    }
    findUserByApiKey(pool, match[1]!)
      .then((user) => {
        if (user === undefined) next(new HttpError(401, 'Invalid API key.'));
        else {
          authenticatedUsers.set(request, user);
          next();
        }
      })
      .catch(next);
  };
}

/** The authenticated caller; only valid behind the auth middleware. */
export function currentUser(request: Request): AuthenticatedUser {
  const user = authenticatedUsers.get(request);
  if (user === undefined) throw new Error('currentUser called on an unauthenticated request');
  return user;
}
