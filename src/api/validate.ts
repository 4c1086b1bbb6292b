/** Parses request input with a zod schema, turning failures into a 400 a person can act on. */
import { type z } from 'zod';
import { HttpError, validationsFromZod } from './http-error.js';

export function parseRequest<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' = 'body'): z.infer<T> {
  const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const validations = validationsFromZod(parsed.error);
  const message = validations.length === 1 ? `Invalid request ${where}: ${validations[0]!.field}: ${validations[0]!.detail}` : `Invalid request ${where}.`;
  throw new HttpError(400, message, undefined, validations);
}
