/** A minimal Server-Sent Events client for tests: real HTTP, frames parsed per the SSE spec. */
import { waitFor } from './http.js';

export interface SseEvent {
  id: number | undefined;
  event: string;
  data: any;
}

export interface SseConnection {
  events: SseEvent[];
  comments: number;
  /** The id of the last event that carried one (what a browser would send as Last-Event-ID). */
  lastEventId(): number | undefined;
  waitUntil(predicate: (events: SseEvent[]) => boolean, description: string, timeoutMs?: number): Promise<void>;
  close(): void;
  closed: Promise<void>;
}

export async function openSse(url: string, key: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers }, signal: controller.signal });
  if (response.status !== 200 || response.body === null) throw new Error(`stream answered ${response.status}: ${await response.text()}`);
  const connection: SseConnection = {
    events: [],
    comments: 0,
    lastEventId: () => [...connection.events].reverse().find((event) => event.id !== undefined)?.id,
    waitUntil: async (predicate, description, timeoutMs = 45_000) => {
      await waitFor(async () => (predicate(connection.events) ? true : undefined), description, timeoutMs);
    },
    close: () => controller.abort(),
    closed: Promise.resolve(),
  };
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  connection.closed = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: number | undefined;
          let event = 'message';
          const data: string[] = [];
          let comment = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comment = true;
            else if (line.startsWith('id: ')) id = Number(line.slice(4));
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (comment && data.length === 0) connection.comments++;
          else connection.events.push({ id, event, data: JSON.parse(data.join('\n')) });
        }
      }
    } catch {
      // Aborted by close() or the server went away.
    }
  })();
  return connection;
}

/** The text a client shows for the step in progress: deltas after the last retry. */
export function streamedText(events: SseEvent[]): string {
  let text = '';
  for (const event of events) {
    if (event.event === 'retry' || event.event === 'message') text = '';
    if (event.event === 'message_part' && event.data.part.type === 'text') text += event.data.part.text;
  }
  return text;
}
