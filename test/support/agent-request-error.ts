/** The AgentRequestError a call to a workspace agent fails with; fails loudly on anything else. */
import { AgentRequestError } from '../../src/agent/agent-client.js';

export async function requestError(work: Promise<unknown>): Promise<AgentRequestError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AgentRequestError)) throw new Error(`expected an AgentRequestError, got ${String(error)}`);
  return error;
}
