/**
 * The workspace agent's own entrypoint, what the workspace provider spawns. `chatd agent` runs
 * the same agent, but through the whole CLI, which loads Temporal, the AI SDK and the API on
 * start-up; one agent per workspace should load only itself (it starts in a fraction of the
 * time and memory).
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../logger.js';
import { runAgent } from './agent-main.js';

const { values } = parseArgs({ options: { root: { type: 'string' }, 'state-dir': { type: 'string' } }, strict: true });
const root = values.root;
const stateDir = values['state-dir'];
if (root === undefined || stateDir === undefined) {
  process.stderr.write('usage: agent-cli --root <dir> --state-dir <dir>\n');
  process.exit(2);
}
await runAgent({ root, stateDir, logger: createLogger('info', 'chatd-agent') });
