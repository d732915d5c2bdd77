// Output files appear whole or not at all: the bytes go to a temporary file in the output's own
// directory (so that the rename stays on one file system and is atomic), which is flushed and
// then renamed over the output. A failure or a signal removes the temporary file.
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, rm, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './command.js';

const pending = new Set<string>();

/** Removes the temporary files of writes still in progress (for a signal handler). */
export function removeTemporaryFiles(): void {
  for (const temp of pending) {
    try {
      unlinkSync(temp);
    } catch {
      // Already gone.
    }
  }
  pending.clear();
}

/** Writes `parts` one after the other as the file `path`, replacing it atomically. */
export async function writeAtomically(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  pending.add(temp);
  try {
    const handle = await open(temp, 'wx');
    try {
      for (const part of parts) {
        for (let at = 0; at < part.length;) at += (await handle.write(part, at, part.length - at)).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw writeError(path, e);
  } finally {
    pending.delete(temp);
  }
}

// A path that cannot be written is bad input (exit 2); a disk that fills up or fails is not (1).
const PATH_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG', 'ELOOP']);

function writeError(path: string, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === undefined ? String((e as Error).message) : systemMessage(e as NodeJS.ErrnoException);
  return new CliError(`cannot write ${path}: ${reason}`, code !== undefined && PATH_ERRORS.has(code) ? 2 : 1);
}

/** `ENOENT: no such file or directory`, without the syscall and the (temporary) path. */
export function systemMessage(e: NodeJS.ErrnoException): string {
  const message = e.message.replace(/, \w+ '.*$/, '');
  return message.startsWith(`${e.code}:`) ? message : `${e.code}: ${message}`;
}
