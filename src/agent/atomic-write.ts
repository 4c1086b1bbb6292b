/**
 * Writing a file so that readers see the old content or the new, never a torn mix: write a
 * temporary file next to the target, fsync it, rename it over the target. An existing
 * file's mode (and owner, when the agent may set it) carries over to the new one.
 */
import { randomBytes } from 'node:crypto';
import { type Stats } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** The file being replaced, whose mode and owner the new file keeps. */
  existing?: Stats;
  /** Mode of a new file (default 0o666 less the umask). */
  mode?: number;
}

export async function writeFileAtomically(target: string, data: string | Buffer, options: AtomicWriteOptions = {}): Promise<void> {
  // Short and hidden: a name built from a long basename could exceed NAME_MAX.
  const temporary = path.join(path.dirname(target), `.chatd-${randomBytes(6).toString('hex')}.tmp`);
  const mode = options.existing === undefined ? options.mode : options.existing.mode & 0o7777;
  const handle = await open(temporary, 'wx', mode ?? 0o666);
  try {
    try {
      await handle.writeFile(data);
      // open() applied the umask; an explicit mode must hold exactly.
      if (mode !== undefined) await handle.chmod(mode);
      if (options.existing !== undefined) await handle.chown(options.existing.uid, options.existing.gid).catch(() => undefined);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
