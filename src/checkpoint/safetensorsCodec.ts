import type { Sha256 } from '../util/sha256.ts';

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
//
// The codec works on bytes in memory with the hash it is given (Node's in
// safetensors.ts, a plain JavaScript one in the page), so a checkpoint a page
// downloads is the file the command line writes.

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

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function dtypeOf(data: NamedTensor['data']): SafetensorsDType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Uint32Array) return 'U32';
  return 'U8';
}

/** The bytes of a safetensors file, checksum included. */
export function encodeSafetensorsWith(hash: () => Sha256, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Uint8Array {
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
  const text = new TextEncoder().encode(JSON.stringify(header));
  const json = new Uint8Array(Math.ceil((8 + text.length) / 8) * 8 - 8).fill(0x20);
  json.set(text);
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
  const digest = hash().update(out).digest('hex');
  const where = digestPosition(out, 8 + json.length);
  if (where < 0) throw new Error('safetensors: checksum placeholder not found in the header');
  out.set(ascii(digest), where);
  return out;
}

/** Byte position of the checksum's 64 hex digits inside the header. */
function digestPosition(bytes: Uint8Array, headerEnd: number): number {
  const needle = ascii(`"${CHECKSUM_KEY}":"`);
  for (let at = headerEnd - needle.length; at >= 0; at--) {
    let i = 0;
    while (i < needle.length && bytes[at + i] === needle[i]) i++;
    if (i === needle.length) return at + needle.length;
  }
  return -1;
}

interface Span {
  readonly name: string;
  readonly begin: number;
  readonly end: number;
  readonly dtype: SafetensorsDType;
  readonly shape: number[];
}

/** What the header of a safetensors file says, checked against the size of the whole file. */
export interface SafetensorsHeader {
  readonly metadata: Record<string, string>;
  readonly spans: readonly Span[];
  /** Bytes before the tensor data: 8 plus the header's length. */
  readonly dataStart: number;
}

/** The bytes of the header that `head` (the file's first 8 bytes) announces: the file's first headerEnd(head) bytes. */
export function headerEnd(head: Uint8Array): number {
  if (head.length < 8) return head.length;
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  return n > BigInt(MAX_HEADER_BYTES) ? 8 : 8 + Number(n);
}

/**
 * Parses the header in `head` (at least the file's first headerEnd bytes, or
 * all of a shorter file) and checks that its tensors fill exactly the
 * `fileBytes` the whole file holds, so a reader can refuse a damaged file
 * before it reads a payload of any size.
 */
export function parseSafetensorsHeader(head: Uint8Array, fileBytes: number, file: string): SafetensorsHeader {
  const fail = (what: string): never => {
    throw new CheckpointError(file, what);
  };
  if (fileBytes < 8) fail(`truncated: ${fileBytes} bytes, shorter than the 8-byte header length`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`not a safetensors file: header length field says ${n} bytes`);
  const headerLength = Number(n);
  if (8 + headerLength > fileBytes) {
    fail(`truncated: the header needs ${headerLength} bytes after the length field, the file has ${fileBytes - 8}`);
  }
  const headerText = new TextDecoder().decode(head.subarray(8, 8 + headerLength));
  let raw: unknown;
  try {
    raw = JSON.parse(headerText);
  } catch (e) {
    return fail(`corrupted header: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('corrupted header: not a JSON object');
  const entries = raw as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const dataBytes = fileBytes - dataStart;

  const metadata: Record<string, string> = {};
  const meta = entries.__metadata__;
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail('corrupted header: __metadata__ is not an object');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`corrupted header: __metadata__.${k} is not a string`);
      metadata[k] = v as string;
    }
  }

  const spans: Span[] = [];
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
  return { metadata, spans, dataStart };
}

/** Parses and verifies a safetensors file held in memory; `file` names it in every error. */
export function decodeSafetensorsWith(hash: () => Sha256, bytes: Uint8Array, file: string): SafetensorsFile {
  const parsed = parseSafetensors(bytes, file);
  return verifiedTensors(parsed, hash().update(parsed.checksummed).digest('hex'));
}

/** As decodeSafetensorsWith, with an asynchronous digest: a page passes crypto.subtle's, which Chromium runs off the
 * main thread, so a big checkpoint's hash does not freeze the tab. */
export async function decodeSafetensorsAsync(digestHex: (bytes: Uint8Array) => Promise<string>, bytes: Uint8Array, file: string): Promise<SafetensorsFile> {
  const parsed = parseSafetensors(bytes, file);
  return verifiedTensors(parsed, await digestHex(parsed.checksummed));
}

/** A file whose header and layout are checked; its checksum not yet. */
interface ParsedSafetensors {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly dataStart: number;
  readonly spans: readonly Span[];
  readonly metadata: Record<string, string>;
  readonly stored: string;
  /** The bytes the stored digest is of: the file with the digest zeroed. */
  readonly checksummed: Uint8Array;
}

function parseSafetensors(bytes: Uint8Array, file: string): ParsedSafetensors {
  const fail = (what: string): never => {
    throw new CheckpointError(file, what);
  };
  const { metadata, spans, dataStart } = parseSafetensorsHeader(bytes, bytes.length, file);
  const stored = metadata[CHECKSUM_KEY];
  if (stored === undefined) fail(`no ${CHECKSUM_KEY} in __metadata__: not written by simplechrome, or damaged`);
  if (!/^[0-9a-f]{64}$/.test(stored as string)) fail(`corrupted header: ${CHECKSUM_KEY} is ${JSON.stringify(stored)}`);
  const where = digestPosition(bytes, dataStart);
  if (where < 0) fail(`corrupted header: ${CHECKSUM_KEY} not found where it was written`);
  const zeroed = Uint8Array.from(bytes);
  zeroed.set(ascii(ZERO_DIGEST), where);
  return { file, bytes, dataStart, spans, metadata, stored: stored as string, checksummed: zeroed };
}

function verifiedTensors(p: ParsedSafetensors, actual: string): SafetensorsFile {
  const { bytes, dataStart, spans, metadata, stored } = p;
  if (actual !== stored) throw new CheckpointError(p.file, `checksum mismatch: the file is corrupted (stored sha256 ${stored}, computed ${actual})`);
  delete metadata[CHECKSUM_KEY];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
