/** Real built-in tools for tests: they do work, record each run, and fail loudly when misused. */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { type ChatTool } from '../../src/tools/chat-tool.js';

export interface ToolRun {
  tool: string;
  toolCallId: string;
  startedAt: number;
  finishedAt: number;
}

/**
 * `add` sums numbers after `delay_ms`; `fail` always reports an error result; `finish` ends the
 * turn when it succeeds (a stop-after tool). Every run is appended to `runs` and, when given,
 * to `logFile` (one JSON line per run) so runs in another process can be counted.
 */
export function createTestTools(options: { runs?: ToolRun[]; logFile?: string } = {}): ChatTool[] {
  const record = (run: ToolRun) => {
    options.runs?.push(run);
    if (options.logFile !== undefined) appendFileSync(options.logFile, `${JSON.stringify(run)}\n`);
  };
  return [
    {
      name: 'add',
      description: 'Adds numbers.',
      inputSchema: z.object({ numbers: z.array(z.number()), delay_ms: z.number().int().min(0).default(0) }),
      idempotent: false,
      async execute(input, context) {
        const { numbers, delay_ms } = input as { numbers: number[]; delay_ms: number };
        const startedAt = Date.now();
        const deadline = startedAt + delay_ms;
        while (Date.now() < deadline) {
          if (context.signal.aborted) throw new Error('aborted');
          context.heartbeat();
          await new Promise((resolve) => setTimeout(resolve, Math.min(50, deadline - Date.now())));
        }
        record({ tool: 'add', toolCallId: context.toolCallId, startedAt, finishedAt: Date.now() });
        return { result: { sum: numbers.reduce((total, value) => total + value, 0) }, isError: false };
      },
    },
    {
      name: 'fail',
      description: 'Always fails.',
      inputSchema: z.object({}),
      idempotent: true,
      async execute(_input, context) {
        record({ tool: 'fail', toolCallId: context.toolCallId, startedAt: Date.now(), finishedAt: Date.now() });
        return { result: 'this tool always fails', isError: true };
      },
    },
    {
      name: 'finish',
      description: 'Ends the turn when it succeeds.',
      inputSchema: z.object({ ok: z.boolean() }),
      idempotent: true,
      stopAfter: true,
      async execute(input, context) {
        record({ tool: 'finish', toolCallId: context.toolCallId, startedAt: Date.now(), finishedAt: Date.now() });
        return (input as { ok: boolean }).ok ? { result: 'finished', isError: false } : { result: 'not finished', isError: true };
      },
    },
  ];
}
