import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { forgetTemporary, trackTemporary } from './temporaryFiles.ts';
import { WriteFailedError } from './writeFailure.ts';

// Every file the engine writes (checkpoints, the tuner's cache, metrics,
// tables, plans) goes through here, so a crash never leaves half a file.

let temporaries = 0;

/** Writes `bytes` to `path` so that a crash at any moment leaves either the old
 * file or the new one: a temporary file in the same directory, fsync, rename,
 * fsync of the directory (so the rename itself survives a power cut). A write
 * that fails (a full disk) removes its temporary file and names `path`. */
export async function writeFileAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${++temporaries}`;
  trackTemporary(tmp);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new WriteFailedError(path, e);
  } finally {
    forgetTemporary(tmp);
  }
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename has happened either way.
  }
}

/** Temporary files left by a writer that was killed mid-write. */
export function isTemporaryOf(file: string, name: string): boolean {
  return basename(file).startsWith(`${name}.tmp-`);
}
