import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { forgetTemporary, trackTemporary } from '../util/temporaryFiles.ts';
import { WriteFailedError } from '../util/writeFailure.ts';

// The safetensors format (what PyTorch and Hugging Face load):
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   JSON: {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//                    "__metadata__": {"<key>": "<string>", ...}}
//             padded with spaces so the data starts 8-byte aligned
//   the rest  the tensors' bytes, little-endian, offsets relative to here;
//             every byte belongs to exactly one tensor (no holes, no overlaps)
//
// On top of it, one rule of ours: __metadata__.sha256 holds the SHA-256 of the
// whole file as written with those 64 hex digits set to "0". It covers the
// header (shapes, offsets, every metadata string) and the data, and any
// reader can check it with a byte replace and a hash.

export type SafetensorsDType = 'F32' | 'U8' | 'U32';

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | Uint8Array | Uint32Array;
}

export interface LoadedTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Uint8Array | Uint32Array;
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, LoadedTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A file that is not a checkpoint we can trust; the message names the file and what is wrong. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    what: string,
  ) {
    super(`${file}: ${what}`);
  }
}

export const CHECKSUM_KEY = 'sha256';
const ZERO_DIGEST = '0'.repeat(64);
const BYTES: Readonly<Record<SafetensorsDType, number>> = { F32: 4, U8: 1, U32: 4 };
/** No header of ours comes near this; a larger length field means a corrupted or foreign file. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function dtypeOf(data: NamedTensor['data']): SafetensorsDType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Uint32Array) return 'U32';
  return 'U8';
}

/** The bytes of a safetensors file, checksum included. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`safetensors: tensor name "${t.name}" is reserved or repeated`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`safetensors: tensor "${t.name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
    const bytes = t.data.length * BYTES[dtypeOf(t.data)];
    header[t.name] = { dtype: dtypeOf(t.data), shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  if (CHECKSUM_KEY in metadata) throw new Error(`safetensors: metadata key "${CHECKSUM_KEY}" is written by the encoder`);
  header.__metadata__ = { ...metadata, [CHECKSUM_KEY]: ZERO_DIGEST };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    const dtype = dtypeOf(t.data);
    if (dtype === 'U8') out.set(t.data, at);
    else {
      for (let i = 0; i < t.data.length; i++) {
        if (dtype === 'F32') view.setFloat32(at + 4 * i, t.data[i] as number, true);
        else view.setUint32(at + 4 * i, t.data[i] as number, true);
      }
    }
    at += t.data.length * BYTES[dtype];
  }
  const digest = createHash('sha256').update(out).digest('hex');
  const where = digestPosition(out, 8 + json.length);
  if (where < 0) throw new Error('safetensors: checksum placeholder not found in the header');
  out.set(Buffer.from(digest, 'ascii'), where);
  return out;
}

/** Byte position of the checksum's 64 hex digits inside the header. */
function digestPosition(bytes: Uint8Array, headerEnd: number): number {
  const needle = Buffer.from(`"${CHECKSUM_KEY}":"`, 'ascii');
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, headerEnd);
  const at = header.lastIndexOf(needle);
  return at < 0 ? -1 : at + needle.length;
}

/** Parses and verifies a safetensors file held in memory; `file` names it in every error. */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (what: string): never => {
    throw new CheckpointError(file, what);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`not a safetensors file: header length field says ${n} bytes`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    fail(`truncated: the header needs ${headerLength} bytes after the length field, the file has ${bytes.length - 8}`);
  }
  const headerText = Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(headerText);
  } catch (e) {
    return fail(`corrupted header: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('corrupted header: not a JSON object');
  const entries = raw as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const dataBytes = bytes.length - dataStart;

  const metadata: Record<string, string> = {};
  const meta = entries.__metadata__;
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail('corrupted header: __metadata__ is not an object');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`corrupted header: __metadata__.${k} is not a string`);
      metadata[k] = v as string;
    }
  }

  const spans: { name: string; begin: number; end: number; dtype: SafetensorsDType; shape: number[] }[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null) fail(`corrupted header: tensor "${name}" is not an object`);
    if (e.dtype !== 'F32' && e.dtype !== 'U8' && e.dtype !== 'U32') {
      fail(`tensor "${name}" has dtype ${JSON.stringify(e.dtype)}; this reader knows F32, U8 and U32`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`corrupted header: tensor "${name}" has shape ${JSON.stringify(shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      fail(`corrupted header: tensor "${name}" has data_offsets ${JSON.stringify(off)}`);
    }
    const dtype = e.dtype as SafetensorsDType;
    const [begin, end] = off as [number, number];
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (end - begin !== expected) {
      fail(`corrupted header: tensor "${name}" spans ${end - begin} bytes, its shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected}`);
    }
    if (end > dataBytes) {
      fail(`truncated: tensor "${name}" ends at data byte ${end}, the file holds ${dataBytes} bytes of data`);
    }
    spans.push({ name, begin, end, dtype, shape: shape as number[] });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const s of spans) {
    if (s.begin !== covered) {
      fail(s.begin < covered ? `corrupted header: tensor "${s.name}" overlaps the one before it` : `corrupted header: data bytes ${covered}..${s.begin} belong to no tensor`);
    }
    covered = s.end;
  }
  if (covered !== dataBytes) {
    fail(covered < dataBytes ? `${dataBytes - covered} bytes after the last tensor (a file with something appended?)` : `truncated at ${dataBytes} bytes of data`);
  }

  const stored = metadata[CHECKSUM_KEY];
  if (stored === undefined) fail(`no ${CHECKSUM_KEY} in __metadata__: not written by simplechrome, or damaged`);
  if (!/^[0-9a-f]{64}$/.test(stored as string)) fail(`corrupted header: ${CHECKSUM_KEY} is ${JSON.stringify(stored)}`);
  const where = digestPosition(bytes, dataStart);
  if (where < 0) fail(`corrupted header: ${CHECKSUM_KEY} not found where it was written`);
  const zeroed = Uint8Array.from(bytes);
  zeroed.set(Buffer.from(ZERO_DIGEST, 'ascii'), where);
  const actual = createHash('sha256').update(zeroed).digest('hex');
  if (actual !== stored) fail(`checksum mismatch: the file is corrupted (stored sha256 ${stored}, computed ${actual})`);
  delete metadata[CHECKSUM_KEY];

  const tensors = new Map<string, LoadedTensor>();
  for (const s of spans) {
    const count = (s.end - s.begin) / BYTES[s.dtype];
    const at = dataStart + s.begin;
    let data: LoadedTensor['data'];
    if (s.dtype === 'U8') data = bytes.slice(at, at + count);
    else {
      const out = s.dtype === 'F32' ? new Float32Array(count) : new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = s.dtype === 'F32' ? view.getFloat32(at + 4 * i, true) : view.getUint32(at + 4 * i, true);
      data = out;
    }
    tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data });
  }
  return { tensors, metadata };
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
