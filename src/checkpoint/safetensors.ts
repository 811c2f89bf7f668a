import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../util/atomicFile.ts';
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

export async function writeSafetensors(path: string, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomically(path, encodeSafetensors(tensors, metadata));
}
