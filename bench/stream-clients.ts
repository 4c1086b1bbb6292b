/**
 * The client side of the stream benchmark, run as its own process: opens SSE connections to
 * the given chats and measures, for every text delta, the time from when the LLM activity
 * received it (the wall-clock stamp the bench's clock model wrote into it) to its arrival here.
 * Input (env): API_URL, API_KEY, CHAT_IDS (comma separated), SUBSCRIBERS_PER_CHAT,
 * EXPECTED_TOKENS (per chat). Prints "connected" when every stream is open, then one JSON line
 * of latencies when every subscriber has seen every token.
 */
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

async function subscribe(chatId: string): Promise<void> {
  const response = await fetch(`${apiUrl}/api/v1/chats/${chatId}/stream`, { headers: { authorization: `Bearer ${key}` } });
  if (response.status !== 200 || response.body === null) throw new Error(`stream answered ${response.status}`);
  open++;
  if (open === total) process.stdout.write('connected\n');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let seen = 0;
  const index = progress.push(0) - 1;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const arrived = now();
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').find((line) => line.startsWith('data: '));
      if (data === undefined || !block.includes('event: message_part')) continue;
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
    if (seen >= expected) break;
  }
  await reader.cancel().catch(() => undefined);
  finished++;
}

await Promise.all(chatIds.flatMap((chatId) => Array.from({ length: perChat }, () => subscribe(chatId))));
const sorted = latencies.sort((a, b) => a - b);
const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
// Exit only once the line is flushed: stdout to a pipe is asynchronous.
process.stdout.write(`${JSON.stringify({ p50: at(0.5), p99: at(0.99), deliveries: sorted.length, finished })}\n`, () => process.exit(0));
