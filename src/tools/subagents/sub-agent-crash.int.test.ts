/**
 * A crash in the middle of a family: the only worker process is SIGKILLed while a sub-agent
 * streams and its parent waits for it; a new worker process resumes both. The child's step is
 * persisted once, and the parent's wait returns the child's whole answer.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/http.js';
import { createChat, listMessages, script, textOf, toolResultParts, waitForFirstDelta, waitForIdle } from '../../../test/support/chat-helpers.js';
import { spawnWorkerProcess, useWorkerProcessSuite } from '../../../test/support/worker-process-control.js';

describe('a sub-agent family across a worker crash', () => {
  const crash = useWorkerProcessSuite('chatd-family-crash-');

  it('resumes the sub-agent mid-stream and the parent wait on another worker process', async () => {
    const toolLog = path.join(crash.scratch, 'tools.log');
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));
    const answer = 'a sub-agent answer streamed slowly enough to be cut by a crash';
    const parent = await createChat(crash.alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'explore', prompt: script({ steps: [{ text: answer, chunks: 60, delayMs: 100 }] }) } }] }, { text: 'spawned' }] }),
    });
    await waitForIdle(crash.alice, parent.id);
    const childId = (await toolResultParts(crash.alice, parent.id))[0].result.chat_id as string;
    const sent = await crash.alice.post(`/api/v1/chats/${parent.id}/messages`, { content: script({ steps: [{ toolCalls: [{ name: 'wait_agent', args: { chat_id: childId } }] }, { text: 'collected' }] }) });
    expect(sent.status).toBe(200);
    await waitForFirstDelta(crash.harness.pool, childId);
    await waitFor(async () => {
      const { rows } = await crash.harness.pool.query(`SELECT 1 FROM tool_call_ledger WHERE chat_id = $1 AND tool_name = 'wait_agent' AND status = 'started'`, [parent.id]);
      return rows.length > 0 ? true : undefined;
    }, 'the parent to be waiting');
    await crash.workers[0]!.kill();
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog));

    await waitForIdle(crash.alice, parent.id);
    const waited = (await toolResultParts(crash.alice, parent.id)).find((part) => part.tool_name === 'wait_agent');
    expect(waited).toMatchObject({ is_error: false, result: { status: 'completed', answer } });
    const child = await listMessages(crash.alice, childId);
    expect(child.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(child.messages[1])).toBe(answer);
  });
});
