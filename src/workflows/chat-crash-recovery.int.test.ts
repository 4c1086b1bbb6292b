/**
 * Crash recovery with real processes: a worker is SIGKILLed mid-stream or mid-tool and a
 * second worker process finishes the turn. Nothing is lost, each step's assistant message is
 * persisted once, and no completed tool call runs twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOL_CRASHED_TEXT } from '../activities/run-tool.activity.js';
import { waitFor } from '../../test/support/http.js';
import { createChat, listMessages, script, textOf, waitForFirstDelta, waitForIdle } from '../../test/support/chat-helpers.js';
import { spawnWorkerProcess, useWorkerProcessSuite } from '../../test/support/worker-process-control.js';

function toolRuns(logFile: string): Array<{ tool: string; toolCallId: string }> {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { tool: string; toolCallId: string });
}

describe('crash recovery across worker processes', () => {
  const crash = useWorkerProcessSuite('chatd-crash-');

  /** Starts a worker and a chat streaming `text` slowly on it (30 chunks); resolves at its first part. */
  async function slowStreamOnNewWorker(logName: string, text: string, chunkDelayMs = 100): Promise<{ chatId: string; toolLog: string }> {
    const toolLog = path.join(crash.scratch, logName);
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    const chat = await createChat(crash.alice, { content: script({ steps: [{ text, chunks: 30, delayMs: chunkDelayMs }] }) });
    await waitForFirstDelta(crash.harness.pool, chat.id);
    return { chatId: chat.id, toolLog };
  }

  it('resumes a turn killed mid-stream on another worker, persisting the step once', async () => {
    const text = 'streamed slowly enough to be killed in the middle of it';
    const { chatId, toolLog } = await slowStreamOnNewWorker('stream.log', text);
    const chat = { id: chatId };
    await crash.workers[0]!.kill();
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    await waitForIdle(crash.alice, chat.id);
    const { messages } = await listMessages(crash.alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe(text);
    const { rows } = await crash.harness.pool.query(`SELECT count(*)::int AS count FROM chat_messages WHERE chat_id = $1 AND role = 'assistant'`, [chat.id]);
    expect(rows[0].count).toBe(1);
  });

  it('keeps a step whole when its worker shuts down in the middle of it: the cut-short attempt stores nothing', async () => {
    const text = 'streamed slowly enough for its worker to shut down in the middle of it';
    // 9 s of streaming: still mid-stream once the second worker has started, even on a loaded machine.
    const { chatId, toolLog } = await slowStreamOnNewWorker('shutdown.log', text, 300);
    const chat = { id: chatId };
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    // A graceful shutdown with no grace period cancels the step; the other worker redoes it.
    crash.workers[0]!.child.kill('SIGTERM');
    await waitForIdle(crash.alice, chat.id);
    const { messages } = await listMessages(crash.alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe(text);
    // The step was cut short and redone (a retry), and subscribers were told to drop the
    // cut-short attempt's parts before the retry's.
    const { rows } = await crash.harness.pool.query(`SELECT type FROM chat_events WHERE chat_id = $1 AND type <> 'message_part' ORDER BY seq`, [chat.id]);
    expect(rows.map((row) => row.type)).toEqual(['status', 'message', 'retry', 'message', 'status']);
  });

  it('does not run a tool call again when its worker died during it', async () => {
    const toolLog = path.join(crash.scratch, 'mid-tool.log');
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    const chat = await createChat(crash.alice, {
      content: script({ steps: [{ text: 'adding', toolCalls: [{ name: 'add', args: { numbers: [20, 22], delay_ms: 4_000 } }] }, { text: 'after the crash' }] }),
    });
    await waitFor(async () => {
      const { rows } = await crash.harness.pool.query(`SELECT 1 FROM tool_call_ledger WHERE chat_id = $1 AND status = 'started'`, [chat.id]);
      return rows.length > 0 ? true : undefined;
    }, 'the tool call to start');
    await crash.workers[0]!.kill();
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    await waitForIdle(crash.alice, chat.id);
    const { messages } = await listMessages(crash.alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    // The interrupted call is reported to the model, not silently run a second time.
    expect(messages[2].content[0]).toMatchObject({ result: TOOL_CRASHED_TEXT, is_error: true });
    expect(toolRuns(toolLog)).toEqual([]);
    expect(textOf(messages[3])).toBe('after the crash');
  });

  it('runs a completed tool call exactly once when its worker dies right after it', async () => {
    const toolLog = path.join(crash.scratch, 'after-tool.log');
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    const chat = await createChat(crash.alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'add', args: { numbers: [1, 1], delay_ms: 300 } }] }, { text: 'two', chunks: 20, delayMs: 100 }] }),
    });
    // "Right after" means once the ledger holds the result: the tool's own log line comes first.
    await waitFor(async () => {
      const { rows } = await crash.harness.pool.query(`SELECT 1 FROM tool_call_ledger WHERE chat_id = $1 AND status = 'completed'`, [chat.id]);
      return rows.length > 0 ? true : undefined;
    }, 'the tool call to complete', 30_000);
    await crash.workers[0]!.kill();
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    await waitForIdle(crash.alice, chat.id);
    const { messages } = await listMessages(crash.alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(messages[2].content[0]).toMatchObject({ result: { sum: 2 }, is_error: false });
    expect(toolRuns(toolLog)).toHaveLength(1);
  });
});
