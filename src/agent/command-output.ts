/**
 * Bounded capture of a command's output. A command may print without end, so capture never
 * grows past its cap, and it keeps accepting (and discarding) bytes so the child's pipe is
 * always drained and the child never blocks on a full pipe.
 *
 * A foreground command keeps the FIRST bytes (the start of a build log says what ran); a
 * background process keeps the LAST bytes (a server's recent lines say what it is doing).
 */

export interface OutputSink {
  write(chunk: Buffer): void;
}

/** Leading bytes, without a multi-byte character cut in half at the end. */
function utf8Head(buffer: Buffer): string {
  let end = buffer.length;
  // Walk back over at most 3 continuation bytes to the start of the last character.
  let start = end - 1;
  while (start >= 0 && end - start <= 3 && (buffer[start]! & 0xc0) === 0x80) start -= 1;
  if (start >= 0) {
    const lead = buffer[start]!;
    const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - start < length) end = start;
  }
  return buffer.subarray(0, end).toString('utf8');
}

/** Trailing bytes, without a multi-byte character cut in half at the start. */
function utf8Tail(buffer: Buffer): string {
  let start = 0;
  while (start < buffer.length && start < 3 && (buffer[start]! & 0xc0) === 0x80) start += 1;
  return buffer.subarray(start).toString('utf8');
}

/** Keeps the first `capBytes` bytes. */
export class HeadOutput implements OutputSink {
  private readonly chunks: Buffer[] = [];
  private keptBytes = 0;
  private droppedBytes = 0;

  constructor(private readonly capBytes: number) {}

  write(chunk: Buffer): void {
    const room = this.capBytes - this.keptBytes;
    if (room > 0) {
      const kept = chunk.subarray(0, room);
      this.chunks.push(kept);
      this.keptBytes += kept.length;
    }
    this.droppedBytes += Math.max(0, chunk.length - Math.max(room, 0));
  }

  get truncated(): boolean {
    return this.droppedBytes > 0;
  }

  text(): string {
    const buffer = Buffer.concat(this.chunks);
    return this.truncated ? utf8Head(buffer) : buffer.toString('utf8');
  }
}

/** Keeps the most recent `capBytes` bytes. */
export class TailOutput implements OutputSink {
  private chunks: Buffer[] = [];
  private keptBytes = 0;
  private droppedBytes = 0;

  constructor(private readonly capBytes: number) {}

  write(chunk: Buffer): void {
    const tail = chunk.length > this.capBytes ? chunk.subarray(chunk.length - this.capBytes) : chunk;
    this.droppedBytes += chunk.length - tail.length;
    this.chunks.push(tail);
    this.keptBytes += tail.length;
    while (this.keptBytes > this.capBytes) {
      const excess = this.keptBytes - this.capBytes;
      const first = this.chunks[0]!;
      if (first.length <= excess) {
        this.chunks.shift();
        this.keptBytes -= first.length;
        this.droppedBytes += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.keptBytes -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  /** The last `maxBytes` bytes, and whether anything before them was dropped. */
  text(maxBytes: number): { text: string; truncated: boolean } {
    const buffer = Buffer.concat(this.chunks);
    const cut = buffer.length > maxBytes;
    const truncated = cut || this.droppedBytes > 0;
    const shown = cut ? buffer.subarray(buffer.length - maxBytes) : buffer;
    return { text: truncated ? utf8Tail(shown) : shown.toString('utf8'), truncated };
  }
}
