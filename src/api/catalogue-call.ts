/** Runs a model-catalogue change, answering its refusals (`CatalogueError`) with their HTTP status. */
import { CatalogueError } from '../db/model-catalogue.js';
import { HttpError } from './http-error.js';

export async function catalogueCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CatalogueError) throw new HttpError(error.status, error.message);
    throw error;
  }
}
