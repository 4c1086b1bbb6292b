/**
 * A crash in the middle of a family: the only worker process is SIGKILLed while a sub-agent
 * streams and its parent waits for it; a new worker process resumes both. The child's step is
 * persisted once, and the parent's wait returns the child's whole answer.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient, waitFor } from '../../../test/support/http.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { createChat, listMessages, script, textOf, toolResultParts, waitForFirstDelta, waitForIdle } from '../../../test/support/chat-helpers.js';
import { spawnWorkerProcess, type WorkerProcess } from '../../../test/support/worker-process-control.js';

describe('a sub-agent family across a worker crash', () => {
  let harness: Harness;
  let alice: ApiClient;
  let scratch: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-family-crash-'));
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.kill();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('resumes the sub-agent mid-stream and the parent wait on another worker process', async () => {
    const toolLog = path.join(scratch, 'tools.log');
    workers.push(await spawnWorkerProcess(harness, toolLog));
    const answer = 'a sub-agent answer streamed slowly enough to be cut by a crash';
    const parent = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'explore', prompt: script({ steps: [{ text: answer, chunks: 60, delayMs: 100 }] }) } }] }, { text: 'spawned' }] }),
    });
    await waitForIdle(alice, parent.id);
    const childId = (await toolResultParts(alice, parent.id))[0].result.chat_id as string;
    const sent = await alice.post(`/api/v1/chats/${parent.id}/messages`, { content: script({ steps: [{ toolCalls: [{ name: 'wait_agent', args: { chat_id: childId } }] }, { text: 'collected' }] }) });
    expect(sent.status).toBe(200);
    await waitForFirstDelta(harness.pool, childId);
    await waitFor(async () => {
      const { rows } = await harness.pool.query(`SELECT 1 FROM tool_call_ledger WHERE chat_id = $1 AND tool_name = 'wait_agent' AND status = 'started'`, [parent.id]);
      return rows.length > 0 ? true : undefined;
    }, 'the parent to be waiting');
    await workers[0]!.kill();
    workers.push(await spawnWorkerProcess(harness, toolLog));

    await waitForIdle(alice, parent.id);
    const waited = (await toolResultParts(alice, parent.id)).find((part) => part.tool_name === 'wait_agent');
    expect(waited).toMatchObject({ is_error: false, result: { status: 'completed', answer } });
    const child = await listMessages(alice, childId);
    expect(child.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(child.messages[1])).toBe(answer);
  });
});
