/**
 * `npm run bench:breakdown`: where the time from a send to its first token goes, stage by stage,
 * read afterwards from what the components recorded (Temporal's history timestamps, PostgreSQL
 * `created_at`s) plus the client's own clock. All on one machine, so the clocks agree to ~1 ms.
 *
 * Stages, each from the send's start (medians and p90 over BENCH_TURNS sends to settled chats):
 *   update accepted      the workflow task that ran the Update's handler started
 *   llmStep scheduled    the workflow task that scheduled the turn's first model step completed
 *   llmStep started      a worker picked the step up
 *   user message stored  the send's message row committed (its transaction's start time)
 *   first part stored    the first message_part event committed
 *   first part notified  this client received the NOTIFY for it
 *   message write done   the write's activity completed (in history)
 *   Update completed     the workflow answered the send's Update
 *   HTTP answer          the send's response arrived
 * BENCH_PROFILE=<file> writes a CPU profile of this process (API and worker) over the sends.
 */
import { randomUUID } from 'node:crypto';
import proto from '@temporalio/proto';
const { temporal } = proto;
import { scriptMessage } from '../src/llm/script-model.js';
import { chatViewQuery, chatWorkflowId } from '../src/workflows/definitions.js';
import { profileWindow } from './cpu-profile.js';
import { coreLatencySnapshot, listenToChatEvents, percentile, printCoreLatencies, runBenchmark, startBenchEnvironment, startInProcessChatd } from './bench-environment.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 60);
const EventType = temporal.api.enums.v1.EventType;


function eventMillis(event: proto.temporal.api.history.v1.IHistoryEvent): number {
  const time = event.eventTime!;
  return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

async function main(): Promise<void> {
  const bench = await startBenchEnvironment();
  const { pool } = bench;
  try {
    await pool.query(`INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'script', 'script', 'Script', true)`, [randomUUID()]);
    const taskQueue = 'bench-breakdown';
    const chatd = await startInProcessChatd(bench, taskQueue);
    const { client } = chatd;
    const listener = await listenToChatEvents(bench);
    const notified = new Map<string, number>();
    listener.on('notification', (notification) => {
      // Parts travel inline in the NOTIFY (see appendChatEvents): the first one carrying a part.
      const payload = notification.payload ?? '';
      const [chatId] = payload.split(':');
      if (chatId !== undefined && payload.includes('"message_part"') && !notified.has(chatId)) notified.set(chatId, Date.now());
    });
    const content = scriptMessage({ steps: [{ text: 'hello from the fake model', chunks: 4 }] });
    const post = (pathName: string, body: unknown) =>
      fetch(`${chatd.apiUrl}${pathName}`, { method: 'POST', headers: { authorization: `Bearer ${bench.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const settle = async (chatId: string) => {
      const handle = client.workflow.getHandle(chatWorkflowId(chatId));
      for (;;) {
        const view = await handle.query(chatViewQuery);
        if (view.status === 'waiting' && !view.turnActive) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    const chats: string[] = [];
    for (let index = 0; index < 6; index++) {
      const chat = (await (await post('/api/v1/chats', { content })).json()) as { id: string };
      chats.push(chat.id);
      await settle(chat.id);
    }

    const profile = profileWindow();
    await profile.start();
    const latenciesBefore = await coreLatencySnapshot();
    const stages = new Map<string, number[]>();
    const record = (stage: string, value: number) => stages.set(stage, [...(stages.get(stage) ?? []), value]);
    for (let turn = 0; turn < TURNS; turn++) {
      const chatId = chats[turn % chats.length]!;
      await settle(chatId);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { rows: before } = await pool.query<{ seq: string | null; id: string | null }>(
        `SELECT (SELECT max(seq) FROM chat_events WHERE chat_id = $1) AS seq, (SELECT max(id) FROM chat_messages WHERE chat_id = $1) AS id`,
        [chatId],
      );
      const historyBefore = (await client.workflow.getHandle(chatWorkflowId(chatId)).fetchHistory()).events?.length ?? 0;
      notified.delete(chatId);
      const started = Date.now();
      const response = await post(`/api/v1/chats/${chatId}/messages`, { content });
      const answered = Date.now();
      if (response.status !== 200) throw new Error(`send failed: ${response.status}`);
      await settle(chatId);
      const events = ((await client.workflow.getHandle(chatWorkflowId(chatId)).fetchHistory()).events ?? []).slice(historyBefore);
      const accepted = events.findIndex((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
      const taskStarted = events.slice(0, accepted).reverse().find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
      const stepScheduled = events.findIndex((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === 'llmStep');
      const scheduledBy = events.slice(0, stepScheduled).reverse().find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
      const stepStarted = events.find(
        (event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && event.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === events[stepScheduled]?.eventId?.toString(),
      );
      const insertScheduled = events.find((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === 'insertUserMessage');
      const insertCompleted = events.find(
        (event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && event.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === insertScheduled?.eventId?.toString(),
      );
      const updateCompleted = events.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
      const { rows } = await pool.query<{ message: Date; part: Date }>(
        `SELECT (SELECT created_at FROM chat_messages WHERE chat_id = $1 AND id > $2 AND role = 'user' ORDER BY id LIMIT 1) AS message,
                (SELECT created_at FROM chat_events WHERE chat_id = $1 AND seq > $3 AND type = 'message_part' ORDER BY seq LIMIT 1) AS part`,
        [chatId, before[0]?.id ?? 0, before[0]?.seq ?? 0],
      );
      if (taskStarted !== undefined) record('update accepted (its task started)', eventMillis(taskStarted) - started);
      if (scheduledBy !== undefined) record('llmStep scheduled (task completed)', eventMillis(scheduledBy) - started);
      if (stepStarted !== undefined) record('llmStep started', eventMillis(stepStarted) - started);
      if (rows[0]?.message != null) record('user message stored (tx start)', rows[0].message.getTime() - started);
      if (rows[0]?.part != null) record('first part stored (tx start)', rows[0].part.getTime() - started);
      const notice = notified.get(chatId);
      if (notice !== undefined) record('first part notified', notice - started);
      if (insertCompleted !== undefined) record('user message write completed', eventMillis(insertCompleted) - started);
      if (updateCompleted !== undefined) record('Update completed', eventMillis(updateCompleted) - started);
      record('HTTP answer', answered - started);
    }

    await profile.stop();
    const latenciesAfter = await coreLatencySnapshot();
    console.log(`\nSend → first token, stage by stage, over ${TURNS} sends to settled chats (ms from the send's start)`);
    for (const [stage, values] of stages) console.log(`  ${stage.padEnd(38)} p50 ${percentile(values, 0.5).toFixed(0).padStart(4)}   p90 ${percentile(values, 0.9).toFixed(0).padStart(4)}`);
    printCoreLatencies(latenciesBefore, latenciesAfter);
    await chatd.stop();
    await listener.end();
  } finally {
    await bench.stop();
  }
}

runBenchmark(main);
