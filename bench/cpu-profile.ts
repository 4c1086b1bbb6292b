/**
 * Opt-in CPU profiling of a benchmark's measured window in its own process: with
 * BENCH_PROFILE=<file>, `profileWindow` records a V8 CPU profile (loadable in Chrome DevTools)
 * from `start()` to `stop()`; without it both are free. Profiling only the window keeps set-up
 * (bundling, migrations) out of the figures.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export interface ProfileWindow {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function profileWindow(file = process.env.BENCH_PROFILE): ProfileWindow {
  if (file === undefined || file === '') return { start: async () => undefined, stop: async () => undefined };
  const session = new Session();
  return {
    async start() {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    },
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
      process.stderr.write(`CPU profile of the measured window written to ${file}\n`);
    },
  };
}
