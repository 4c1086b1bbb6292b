/**
 * Replays every recorded chat workflow history in this folder against the current workflow
 * bundle. A change that would break running chats (non-determinism) fails here. Histories are
 * captured by src/workflows/replay-scenarios.int.test.ts with UPDATE_REPLAY_HISTORIES=1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const directory = path.dirname(fileURLToPath(import.meta.url));
const files = readdirSync(directory).filter((file) => file.endsWith('.json')).sort();

describe('workflow replay', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  it('replays every recorded history without a determinism error', async () => {
    const histories = files.map((file) => ({ workflowId: `chat/${file.replace(/\.json$/, '')}`, history: JSON.parse(readFileSync(path.join(directory, file), 'utf8')) }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      if (result.error !== undefined) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
  });
});
