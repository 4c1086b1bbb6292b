/**
 * The API's error shape, `{message, detail?, validations?}`, and the one place that turns any
 * thrown value into a response. Unexpected errors are logged and answered with a generic 500
 * that leaks nothing.
 */
import { type ErrorRequestHandler, type RequestHandler } from 'express';
import { type z } from 'zod';
import { type Logger } from '../logger.js';

export interface FieldValidation {
  field: string;
  detail: string;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
    readonly validations?: FieldValidation[],
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function validationsFromZod(error: z.ZodError, prefix = ''): FieldValidation[] {
  return error.issues.map((issue) => {
    const field = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
    if (issue.code === 'unrecognized_keys') {
      return { field: field === '' ? '(body)' : field, detail: `Unknown field(s): ${issue.keys.join(', ')}.` };
    }
    return { field: field === '' ? '(body)' : field, detail: issue.message };
  });
}

export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new HttpError(404, `No route for ${request.method} ${request.path}.`));
};

export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    if (response.headersSent) {
      response.end();
      return;
    }
    if (error instanceof HttpError) {
      response.status(error.status).json({
        message: error.message,
        ...(error.detail === undefined ? {} : { detail: error.detail }),
        ...(error.validations === undefined ? {} : { validations: error.validations }),
        ...error.extra,
      });
      return;
    }
    // body-parser errors carry an HTTP status and a `type`.
    const bodyError = error as { status?: number; type?: string; message?: string };
    if (bodyError.type === 'entity.parse.failed') {
      response.status(400).json({ message: 'Request body is not valid JSON.', detail: bodyError.message });
      return;
    }
    if (bodyError.type === 'entity.too.large') {
      response.status(413).json({ message: 'Request body is too large.' });
      return;
    }
    if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      response.status(bodyError.status).json({ message: bodyError.message ?? 'Bad request.' });
      return;
    }
    logger.error({ err: error, method: request.method, path: request.path }, 'unhandled API error');
    response.status(500).json({ message: 'Internal server error.' });
  };
}
