/**
 * `npm run bench`: chatd's overhead and crash recovery, measured side by side in one run.
 *
 * 1. Send → first token, over N turns on the same fake model (the built-in `script` model):
 *    through chatd (HTTP POST → workflow Update → LLM activity → event log → PostgreSQL
 *    NOTIFY, the path a stream subscriber is woken by) versus a direct in-process `streamText`
 *    call of the same model. Prints p50, p99 and the differences, for sends to a chat whose
 *    workflow has settled and, interleaved, sends the moment the previous turn reads waiting.
 * 2. Recovery: two worker processes; the one running a streaming step is SIGKILLed; prints
 *    the time from the kill to the next token from its replacement.
 *
 * Real components throughout: a Temporal dev server, an embedded PostgreSQL, real HTTP.
 * Options (environment): BENCH_TURNS (default 200), BENCH_RECOVERIES (default 5), and
 * BENCH_AB=<NAME>: sets process.env[NAME] to '0' and '1' for alternate pairs of turns and prints
 * each half's figures, to compare two versions of a change (guarded by that variable while it is
 * tried) side by side in one run, where this machine's drift cannot tell them apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamText } from 'ai';
import type pg from 'pg';
import { ScriptModel, scriptMessage } from '../src/llm/script-model.js';
import { createLogger } from '../src/logger.js';
import { startApiServer } from '../src/main/api.js';
import { chatViewQuery, chatWorkflowId } from '../src/workflows/definitions.js';
import { listenToChatEvents, percentile, runBenchmark, startBenchEnvironment, startInProcessChatd } from './bench-environment.js';


const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const AB_VARIABLE = process.env.BENCH_AB;
const RECOVERIES = Number(process.env.BENCH_RECOVERIES ?? 5);
const WORKER_SCRIPT = fileURLToPath(new URL('../test/support/worker-process.ts', import.meta.url));


const format = (ms: number) => `${ms.toFixed(1)} ms`;

/** Resolves with the time of the next message_part event of `chatId` after `afterSeq`. */
class PartWatcher {
  private waiters: Array<{ chatId: string; afterSeq: number; resolve: (time: number) => void }> = [];

  constructor(
    private readonly listener: pg.Client,
    private readonly pool: pg.Pool,
  ) {
    listener.on('notification', (notification) => {
      const [chatId] = (notification.payload ?? '').split(':');
      const time = performance.now();
      for (const waiter of this.waiters.filter((entry) => entry.chatId === chatId)) {
        void this.check(waiter, time);
      }
    });
  }

  private async check(waiter: { chatId: string; afterSeq: number; resolve: (time: number) => void }, time: number): Promise<void> {
    const { rows } = await this.pool.query(`SELECT 1 FROM chat_events WHERE chat_id = $1 AND seq > $2 AND type = 'message_part' LIMIT 1`, [waiter.chatId, waiter.afterSeq]);
    if (rows.length > 0 && this.waiters.includes(waiter)) {
      this.waiters = this.waiters.filter((entry) => entry !== waiter);
      waiter.resolve(time);
    }
  }

  next(chatId: string, afterSeq: number): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ chatId, afterSeq, resolve }));
  }
}

async function lastSeq(pool: pg.Pool, chatId: string): Promise<number> {
  const { rows } = await pool.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM chat_events WHERE chat_id = $1', [chatId]);
  return Number(rows[0]?.seq ?? 0);
}

async function waitForStatus(baseUrl: string, key: string, chatId: string, statuses: string[]): Promise<void> {
  for (;;) {
    const response = await fetch(`${baseUrl}/api/v1/chats/${chatId}`, { headers: { authorization: `Bearer ${key}` } });
    const chat = (await response.json()) as { status: string; queued_count: number };
    if (statuses.includes(chat.status) && chat.queued_count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return child;
}

async function main(): Promise<void> {
  const bench = await startBenchEnvironment();
  const { pool, bundlePath, scratch, children } = bench;
  const key = bench.apiKey;
  try {
    const modelId = randomUUID();
    await pool.query(`INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'script', 'script', 'Script', true)`, [modelId]);
    const taskQueue = 'bench-latency';
    const chatd = await startInProcessChatd(bench, taskQueue);
    const { client } = chatd;
    const listener = await listenToChatEvents(bench);
    const watcher = new PartWatcher(listener, pool);

    const content = scriptMessage({ steps: [{ text: 'hello from the fake model', chunks: 4 }] });
    const post = (pathName: string, body: unknown) =>
      fetch(`${chatd.apiUrl}${pathName}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    // Warm-up: first workflow tasks, JIT, connection pools.
    const chats: string[] = [];
    for (let index = 0; index < 10; index++) {
      const response = await post('/api/v1/chats', { content });
      const chat = (await response.json()) as { id: string };
      chats.push(chat.id);
      await waitForStatus(chatd.apiUrl, key, chat.id, ['waiting']);
    }

    // Two series, interleaved: a send the moment the chat's status reads `waiting` (its
    // workflow may still be finishing the previous turn's last write, so the send queues
    // behind it), and a send to a chat whose workflow has settled (it says so when queried).
    const series = { justFinished: { firstToken: [] as number[], answered: [] as number[] }, settled: { firstToken: [] as number[], answered: [] as number[] } };
    const direct: number[] = [];
    const byVariant = new Map<string, number[]>();
    const model = new ScriptModel();
    const waitForSettledWorkflow = async (chatId: string) => {
      const handle = client.workflow.getHandle(chatWorkflowId(chatId));
      for (;;) {
        const view = await handle.query(chatViewQuery);
        if (view.status === 'waiting' && !view.turnActive) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    for (let turn = 0; turn < TURNS; turn++) {
      const chatId = chats[turn % chats.length]!;
      const kind = turn % 2 === 0 ? 'justFinished' : 'settled';
      if (kind === 'settled') {
        await waitForSettledWorkflow(chatId);
        // Let the workflow task that answered the query finish its bookkeeping.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const variant = Math.floor(turn / 2) % 2 === 0 ? '0' : '1';
      if (AB_VARIABLE !== undefined) process.env[AB_VARIABLE] = variant;
      const after = await lastSeq(pool, chatId);
      const firstToken = watcher.next(chatId, after);
      const started = performance.now();
      const response = await post(`/api/v1/chats/${chatId}/messages`, { content });
      if (response.status !== 200) throw new Error(`send failed: ${response.status} ${await response.text()}`);
      series[kind].answered.push(performance.now() - started);
      const latency = (await firstToken) - started;
      series[kind].firstToken.push(latency);
      byVariant.set(`${kind} with ${AB_VARIABLE}=${variant}`, [...(byVariant.get(`${kind} with ${AB_VARIABLE}=${variant}`) ?? []), latency]);
      await waitForStatus(chatd.apiUrl, key, chatId, ['waiting']);
      // Directly, in process, same model and prompt shape.
      const directStart = performance.now();
      const result = streamText({ model, messages: [{ role: 'user', content }], maxRetries: 0 });
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta') break;
      }
      direct.push(performance.now() - directStart);
    }

    const p50Direct = percentile(direct, 0.5);
    const p99Direct = percentile(direct, 0.99);
    console.log(`\nSend → first token over ${TURNS} turns (script model; same machine, same run)`);
    console.log(`  direct call:    p50 ${format(p50Direct)}   p99 ${format(p99Direct)}`);
    const describeSeries = (label: string, values: { firstToken: number[]; answered: number[] }) => {
      const p50 = percentile(values.firstToken, 0.5);
      const p99 = percentile(values.firstToken, 0.99);
      console.log(`  ${label} (${values.firstToken.length} turns)`);
      console.log(`    through chatd:  p50 ${format(p50)}   p99 ${format(p99)}`);
      console.log(`      of which the send's HTTP answer (Update accepted, message stored): p50 ${format(percentile(values.answered, 0.5))}   p99 ${format(percentile(values.answered, 0.99))}`);
      console.log(`    overhead:       p50 +${format(p50 - p50Direct)}   p99 +${format(p99 - p99Direct)}   (targets: +25 ms p50, +100 ms p99)`);
    };
    if (AB_VARIABLE !== undefined) {
      for (const [name, values] of [...byVariant].sort()) console.log(`  ${name}: p50 ${format(percentile(values, 0.5))}   p90 ${format(percentile(values, 0.9))}   (${values.length} turns)`);
    }
    describeSeries('to a chat whose workflow has settled', series.settled);
    describeSeries('the moment the previous turn reads waiting', series.justFinished);

    // Recovery: two worker processes on their own queue; kill the one streaming.
    const recoveryQueue = 'bench-recovery';
    const workerEnv = { DATABASE_URL: bench.databaseUrl, TEMPORAL_ADDRESS: bench.temporalAddress, TASK_QUEUE: recoveryQueue, WORKFLOW_BUNDLE: bundlePath, TOOL_LOG: path.join(scratch, 'tools.log') };
    const recoveryApi = await startApiServer({ pool, temporalClient: client, logger: createLogger('silent'), taskQueue: recoveryQueue, host: '127.0.0.1', port: 0 });
    const byIdentity = new Map<string, ChildProcess>();
    const ensureWorkers = async () => {
      while (byIdentity.size < 2) {
        const child = await spawnWorker(workerEnv);
        children.push(child);
        byIdentity.set(`crash-test-worker-${child.pid}`, child);
      }
    };
    const recoveries: number[] = [];
    for (let attempt = 0; attempt < RECOVERIES; attempt++) {
      await ensureWorkers();
      const response = await fetch(`${recoveryApi.url}/api/v1/chats`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: scriptMessage({ steps: [{ text: 'x'.repeat(400), chunks: 400, delayMs: 25 }] }) }),
      });
      const chat = (await response.json()) as { id: string };
      await watcher.next(chat.id, 0);
      const handle = client.workflow.getHandle(chatWorkflowId(chat.id));
      let identity: string | undefined;
      while (identity === undefined) {
        const description = await handle.describe();
        identity = description.raw.pendingActivities?.find((activity) => activity.activityType?.name === 'llmStep')?.lastWorkerIdentity ?? undefined;
        if (identity === undefined || identity === '') {
          identity = undefined;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      const victim = byIdentity.get(identity);
      if (victim === undefined) throw new Error(`no worker process with identity ${identity}`);
      // Let a heartbeat be recorded so the kill lands mid-stream.
      await new Promise((resolve) => setTimeout(resolve, 600));
      victim.kill('SIGKILL');
      const killedAt = performance.now();
      byIdentity.delete(identity);
      // Writes the dead process had already sent may still commit; count tokens after those.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const nextToken = await watcher.next(chat.id, await lastSeq(pool, chat.id));
      recoveries.push(nextToken - killedAt);
      await waitForStatus(recoveryApi.url, key, chat.id, ['waiting']);
    }
    // BENCH_RECOVERIES=0 measures latency only.
    if (recoveries.length > 0) {
      console.log(`\nRecovery: SIGKILL of the streaming worker → next token from its replacement (${RECOVERIES} kills)`);
      console.log(`  median ${format(percentile(recoveries, 0.5))}   max ${format(Math.max(...recoveries))}   (target: within 5000 ms)`);
      console.log(`  each: ${recoveries.map((value) => value.toFixed(0)).join(', ')} ms\n`);
    }

    await recoveryApi.close();
    await chatd.stop();
    await listener.end();
  } finally {
    await bench.stop();
  }
}

runBenchmark(main);
