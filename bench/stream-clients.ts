/**
 * The client side of the stream benchmark, run as its own process: opens SSE connections to
 * the given chats and measures, for every text delta, the time from when the LLM activity
 * received it (the wall-clock stamp the bench's clock model wrote into it) to its arrival here.
 * Input (env): API_URL, API_KEY, CHAT_IDS (comma separated), SUBSCRIBERS_PER_CHAT,
 * EXPECTED_TOKENS (per chat). Prints "connected" when every stream is open, then one JSON line
 * of latencies when every subscriber has seen every token.
 */
import http from 'node:http';

const apiUrl = process.env.API_URL!;
const key = process.env.API_KEY!;
const chatIds = process.env.CHAT_IDS!.split(',');
const perChat = Number(process.env.SUBSCRIBERS_PER_CHAT);
const expected = Number(process.env.EXPECTED_TOKENS);

const now = () => performance.timeOrigin + performance.now();
const latencies: number[] = [];
let open = 0;
let finished = 0;
const total = chatIds.length * perChat;
const progress: number[] = [];
// Report stragglers if the run takes long (a lost event would show up here).
setInterval(() => {
  const unfinished = progress.filter((seen) => seen < expected);
  process.stderr.write(`clients: ${finished}/${total} finished; unfinished have seen ${[...new Set(unfinished)].slice(0, 10).join(',')} tokens\n`);
}, 10_000).unref();

/**
 * One subscriber over node:http, its arrival time taken as each chunk comes off the socket.
 * Web streams (fetch) cost this process enough per event that with 100 subscribers its own
 * delays showed in the tail of the figures; chatd's latency is what is measured here.
 */
function subscribe(chatId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${apiUrl}/api/v1/chats/${chatId}/stream`, { headers: { authorization: `Bearer ${key}` }, agent: false }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`stream answered ${response.statusCode}`));
        return;
      }
      open++;
      if (open === total) process.stdout.write('connected\n');
      response.setEncoding('utf8');
      let buffer = '';
      let seen = 0;
      const index = progress.push(0) - 1;
      response.on('data', (chunk: string) => {
        const arrived = now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.includes('event: message_part')) continue;
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data === undefined) continue;
          const part = (JSON.parse(data.slice(6)) as { part: { type: string; text?: string } }).part;
          if (part.type !== 'text' || part.text === undefined) continue;
          // Batched deltas may hold several stamped tokens: "<stamp>;<stamp>;…"
          for (const stamp of part.text.split(';')) {
            if (stamp === '') continue;
            latencies.push(arrived - Number(stamp));
            seen++;
            progress[index] = seen;
          }
        }
        if (seen >= expected) {
          finished++;
          response.destroy();
          resolve();
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

await Promise.all(chatIds.flatMap((chatId) => Array.from({ length: perChat }, () => subscribe(chatId))));
const sorted = latencies.sort((a, b) => a - b);
const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
// Exit only once the line is flushed: stdout to a pipe is asynchronous.
process.stdout.write(`${JSON.stringify({ p50: at(0.5), p99: at(0.99), deliveries: sorted.length, finished })}\n`, () => process.exit(0));
