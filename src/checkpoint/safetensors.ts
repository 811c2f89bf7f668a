import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { forgetTemporary, trackTemporary } from '../util/temporaryFiles.ts';
import { WriteFailedError } from '../util/writeFailure.ts';
import { CheckpointError, type NamedTensor, type SafetensorsFile, decodeSafetensorsWith, encodeSafetensorsWith } from './safetensorsCodec.ts';

// Checkpoint files on disk; the format itself is safetensorsCodec.ts.

export {
  CHECKSUM_KEY,
  CheckpointError,
  type LoadedTensor,
  type NamedTensor,
  type SafetensorsDType,
  type SafetensorsFile,
} from './safetensorsCodec.ts';

const nodeSha256 = () => createHash('sha256');

/** The bytes of a safetensors file, checksum included. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Uint8Array {
  return encodeSafetensorsWith(nodeSha256, tensors, metadata);
}

/** Parses and verifies a safetensors file held in memory; `file` names it in every error. */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  return decodeSafetensorsWith(nodeSha256, bytes, file);
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === 'ENOENT' ? 'no such file' : `cannot be read (${(e as Error).message})`);
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

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

export async function writeSafetensors(path: string, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomically(path, encodeSafetensors(tensors, metadata));
}

/** Temporary files left by a writer that was killed mid-write. */
export function isTemporaryOf(file: string, name: string): boolean {
  return basename(file).startsWith(`${name}.tmp-`);
}
