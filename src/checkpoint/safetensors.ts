import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { writeFileAtomically } from '../util/atomicFile.ts';
import { NotRegularFileError, openRegularFile } from '../util/regularFile.ts';
import {
  CheckpointError,
  type NamedTensor,
  type SafetensorsFile,
  decodeSafetensorsWith,
  encodeSafetensorsWith,
  headerEnd,
  parseSafetensorsHeader,
} from './safetensorsCodec.ts';

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

/**
 * Reads and verifies a checkpoint. The header is read and checked against the
 * file's size first, so a damaged or hostile file (a sparse 1.5 GB file with
 * an empty header) is refused before its payload is read into memory; a FIFO
 * or device in its place is refused by name, not waited on.
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let handle: FileHandle;
  try {
    handle = await openRegularFile(path);
  } catch (e) {
    if (e instanceof NotRegularFileError) throw new CheckpointError(path, e.what);
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === 'ENOENT' ? 'no such file' : `cannot be read (${(e as Error).message})`);
  }
  try {
    const size = (await handle.stat()).size;
    const head = await readAt(handle, 0, Math.min(8, size));
    parseSafetensorsHeader(await readAt(handle, 0, Math.min(headerEnd(head), size)), size, path);
    const bytes = await readAt(handle, 0, size);
    return decodeSafetensors(bytes, path);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(path, `cannot be read (${(e as Error).message})`);
  } finally {
    await handle.close();
  }
}

/** `length` bytes from `position`, or fewer when the file ends first. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(out, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return out.subarray(0, filled);
}

export async function writeSafetensors(path: string, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomically(path, encodeSafetensors(tensors, metadata));
}
