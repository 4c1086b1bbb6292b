/** Starts a Server-Sent Events response: headers that keep proxies from buffering or caching it. */
import { type Response } from 'express';

export function startEventStream(response: Response, extraHeaders: Record<string, string> = {}): void {
  response.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...extraHeaders,
  });
  response.flushHeaders();
  response.socket?.setNoDelay(true);
}
