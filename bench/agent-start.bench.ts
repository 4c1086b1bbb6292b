/**
 * `npm run bench:agent`: how long a workspace agent takes to be ready and how much memory it
 * holds, started the way the local provider starts it (its own light entrypoint) and, side by
 * side in the same run, through the whole `chatd agent` CLI. Prints medians and the ratio.
 * Options (environment): BENCH_AGENT_STARTS (default 7 of each, interleaved).
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AgentClient } from '../src/agent/agent-client.js';
import { agentLaunchEnvironment } from '../src/agent/agent-environment.js';
import { agentTokenPath, waitForAgentReady } from '../src/agent/agent-state.js';
import { writeFileAtomically } from '../src/agent/atomic-write.js';
import { spawnAgent } from '../src/agent/spawn-agent.js';

const STARTS = Number(process.env.BENCH_AGENT_STARTS ?? 7);
const TOKEN = 'bench-token-'.padEnd(43, 'x');

interface Sample {
  readyMs: number;
  rssKb: number;
}

/** The whole CLI, as `chatd agent` from a checkout runs it. */
async function spawnThroughCli(root: string, stateDir: string): Promise<number> {
  await writeFileAtomically(agentTokenPath(stateDir), TOKEN, { mode: 0o600 });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const cli = fileURLToPath(new URL('../src/main/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', tsx, cli, 'agent', '--root', root, '--state-dir', stateDir], {
    cwd: fileURLToPath(new URL('../', import.meta.url)),
    env: agentLaunchEnvironment(process.env, {}),
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child.pid!;
}

async function measure(start: (root: string, stateDir: string) => Promise<number>): Promise<Sample> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'chatd-agent-bench-'));
  const root = path.join(directory, 'root');
  const stateDir = path.join(directory, 'state');
  await mkdir(root, { recursive: true });
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const started = performance.now();
  const pid = await start(root, stateDir);
  try {
    const info = await waitForAgentReady({ stateDir, pid, timeoutMs: 60_000 });
    await new AgentClient({ url: info.url, token: TOKEN }).health();
    const readyMs = performance.now() - started;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    return { readyMs, rssKb };
  } finally {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await rm(directory, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const light: Sample[] = [];
const full: Sample[] = [];
for (let index = 0; index < STARTS; index++) {
  light.push(await measure(async (root, stateDir) => (await spawnAgent({ root, stateDir, token: TOKEN, logFile: path.join(stateDir, 'agent.log') })).pid));
  full.push(await measure(spawnThroughCli));
}
const report = (name: string, samples: Sample[]) =>
  console.log(`${name.padEnd(28)} ready p50 ${median(samples.map((sample) => sample.readyMs)).toFixed(0)} ms   RSS p50 ${(median(samples.map((sample) => sample.rssKb)) / 1024).toFixed(1)} MiB`);
console.log(`workspace agent start-up, ${STARTS} starts of each, interleaved`);
report('provider entry (agent-cli)', light);
report('whole CLI (chatd agent)', full);
console.log(
  `ratio whole/provider: ready ${(median(full.map((sample) => sample.readyMs)) / median(light.map((sample) => sample.readyMs))).toFixed(2)}x, RSS ${(median(full.map((sample) => sample.rssKb)) / median(light.map((sample) => sample.rssKb))).toFixed(2)}x`,
);
