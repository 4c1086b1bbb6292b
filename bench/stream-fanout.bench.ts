/**
 * `npm run bench:stream` (also part of `npm run bench`): token latency from the LLM activity to
 * SSE clients in another process, through an API server in a third process, with 1, 100 and
 * 1,000 subscribers on one chat and 100 and 1,000 spread over 100 chats; plus the API
 * process's CPU time and memory, and the worker's CPU time, while it streams.
 * BENCH_SCENARIOS (e.g. `100x1,1x100`: chats x subscribers per chat) runs a subset. A `clock` model stamps each token with the
 * wall-clock time the activity received it; the client process subtracts on arrival.
 * BENCH_PROFILE=<file> writes a CPU profile of this (the worker's) process over the last scenario's window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LanguageModelV3CallOptions, type LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { resolveBuiltinModel } from '../src/llm/model-registry.js';
import { BuiltinStreamModel, delay, usageOf } from '../src/llm/stream-model.js';
import { createChatWorker } from '../src/main/worker.js';
import { runBenchmark, startBenchEnvironment } from './bench-environment.js';
import { profileWindow } from './cpu-profile.js';


const TOKENS = Number(process.env.BENCH_STREAM_TOKENS ?? 50);
const TOKEN_INTERVAL_MS = 20;
const API_PROCESS = fileURLToPath(new URL('../test/support/api-process.ts', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./stream-clients.ts', import.meta.url));

/** Streams TOKENS deltas, each the wall-clock time (ms, fractional) at which it was produced. */
class ClockModel extends BuiltinStreamModel {
  constructor() {
    super('clock', 'clock');
  }

  protected async *parts(options: LanguageModelV3CallOptions): AsyncGenerator<LanguageModelV3StreamPart> {
    yield { type: 'stream-start', warnings: [] };
    yield { type: 'text-start', id: 't' };
    for (let index = 0; index < TOKENS; index++) {
      await delay(TOKEN_INTERVAL_MS, options.abortSignal);
      yield { type: 'text-delta', id: 't', delta: `${performance.timeOrigin + performance.now()};` };
    }
    yield { type: 'text-end', id: 't' };
    yield { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage: usageOf(1, TOKENS) };
  }
}

interface ClientResult {
  p50: number;
  p99: number;
  deliveries: number;
}

/** CPU seconds (user + system) and resident memory (MiB) of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuSeconds: ticks / 100, rssMiB: rssKiB / 1024 };
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
    }
  });
}

async function main(): Promise<void> {
  const bench = await startBenchEnvironment();
  const { pool, bundlePath, children } = bench;
  const key = bench.apiKey;
  try {
    const echoModel = randomUUID();
    const clockModel = randomUUID();
    await pool.query(`INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'echo', 'echo', 'Echo', true), ($2, 'clock', 'clock', 'Clock', false)`, [
      echoModel,
      clockModel,
    ]);
    const taskQueue = 'bench-stream';
    const { worker } = await createChatWorker({
      address: bench.temporalAddress,
      namespace: 'default',
      taskQueue,
      activityDependencies: { pool, streamWriter: bench.streamWriter, resolveModel: (config) => (config.provider === 'clock' ? new ClockModel() : resolveBuiltinModel(config)) },
      workflowBundle: { codePath: bundlePath },
    });
    const workerRun = worker.run();

    // The API server in its own process.
    const api = spawn(process.execPath, ['--import', 'tsx', API_PROCESS], {
      env: { ...process.env, DATABASE_URL: bench.databaseUrl, TEMPORAL_ADDRESS: bench.temporalAddress, TASK_QUEUE: taskQueue },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(api);
    const apiUrl = await new Promise<string>((resolve) =>
      lines(api, (line) => {
        if (line.startsWith('api ready ')) resolve(line.slice('api ready '.length));
      }),
    );
    process.stderr.write(`API process at ${apiUrl}\n`);
    const post = async (pathName: string, body: unknown) => {
      const response = await fetch(`${apiUrl}${pathName}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await response.json()) as { id: string; status?: string };
    };
    const waitIdle = async (chatId: string) => {
      for (;;) {
        const response = await fetch(`${apiUrl}/api/v1/chats/${chatId}`, { headers: { authorization: `Bearer ${key}` } });
        const chat = (await response.json()) as { status: string };
        if (chat.status === 'waiting') return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    const scenarios: Array<{ chats: number; perChat: number }> = [
      { chats: 1, perChat: 1 },
      { chats: 1, perChat: 100 },
      { chats: 1, perChat: 1000 },
      { chats: 100, perChat: 1 },
      { chats: 100, perChat: 10 },
    ].filter((scenario) => process.env.BENCH_SCENARIOS === undefined || process.env.BENCH_SCENARIOS.split(',').includes(`${scenario.chats}x${scenario.perChat}`));
    console.log(`\nToken latency, LLM activity → SSE client in another process (${TOKENS} tokens per chat, one every ${TOKEN_INTERVAL_MS} ms)`);
    console.log('  subscribers        chats   p50        p99        API CPU   API RSS   worker CPU (% of a core)');
    const verbose = process.env.BENCH_VERBOSE === '1';
    const note = (text: string): void => {
      if (verbose) process.stderr.write(`bench: ${text}\n`);
    };
    for (const scenario of scenarios) {
      note(`scenario ${scenario.chats}x${scenario.perChat}: creating chats`);
      const chatIds: string[] = [];
      for (let index = 0; index < scenario.chats; index++) chatIds.push((await post('/api/v1/chats', { content: 'warm up', model_config_id: echoModel })).id);
      await Promise.all(chatIds.map(waitIdle));
      const clients = spawn(process.execPath, ['--import', 'tsx', CLIENTS], {
        env: { ...process.env, API_URL: apiUrl, API_KEY: key, CHAT_IDS: chatIds.join(','), SUBSCRIBERS_PER_CHAT: String(scenario.perChat), EXPECTED_TOKENS: String(TOKENS) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(clients);
      let resolveConnected: () => void = () => undefined;
      let resolveResult: (value: ClientResult) => void = () => undefined;
      const connected = new Promise<void>((resolve) => (resolveConnected = resolve));
      const result = new Promise<ClientResult>((resolve) => (resolveResult = resolve));
      lines(clients, (line) => {
        if (line === 'connected') resolveConnected();
        else if (line.startsWith('{')) resolveResult(JSON.parse(line) as ClientResult);
      });
      note('spawned clients');
      await connected;
      note('clients connected');
      const profile = profileWindow();
      await profile.start();
      const before = processUsage(api.pid!);
      const workerBefore = process.cpuUsage();
      const started = performance.now();
      await Promise.all(chatIds.map((chatId) => post(`/api/v1/chats/${chatId}/messages`, { content: 'tick', model_config_id: clockModel })));
      note('messages sent');
      const { p50, p99, deliveries } = await result;
      const seconds = (performance.now() - started) / 1000;
      const after = processUsage(api.pid!);
      const workerCpu = process.cpuUsage(workerBefore);
      await profile.stop();
      const subscribers = scenario.chats * scenario.perChat;
      const cpu = `${(((after.cpuSeconds - before.cpuSeconds) / seconds) * 100).toFixed(0)}%`;
      const workerCpuShare = `${(((workerCpu.user + workerCpu.system) / 1e6 / seconds) * 100).toFixed(0)}%`;
      console.log(
        `  ${String(subscribers).padEnd(18)} ${String(scenario.chats).padEnd(7)} ${`${p50.toFixed(1)} ms`.padEnd(10)} ${`${p99.toFixed(1)} ms`.padEnd(10)} ${cpu.padEnd(9)} ${`${after.rssMiB.toFixed(0)} MiB`.padEnd(9)} ${workerCpuShare.padEnd(10)} (${deliveries} deliveries)`,
      );
      await Promise.all(chatIds.map(waitIdle));
    }
    console.log('  targets with 100 subscribers: p50 ≤ 10 ms, p99 ≤ 50 ms (anchor: Workflow Streams ≈ 100 ms a round trip)\n');
    worker.shutdown();
    await workerRun;
  } finally {
    await bench.stop();
  }
}

runBenchmark(main);
