// Binary cache of a parsed Dataset, so that a cell is parsed from CSV once.
//
// File layout (little-endian):
//   0   8 bytes  magic "SCHRDSET"
//   8   u32      format version
//   12  u32      header length H (bytes of UTF-8 JSON)
//   16  u32      CRC-32 of the header
//   20  H bytes  header JSON: identity (layout, options, source paths), the
//                sources' sizes and SHA-256 of their bytes, shape, payload
//                length and SHA-256
//   pad to a multiple of 4, then the payload:
//       features f32[genes*bins*marks], labels u8[genes], split u8[genes],
//       binMask u8[genes*bins] (if any), gene ids as UTF-8 joined by "\n".
//
// A cache is used only when the magic, version, header CRC, identity, every
// source's size and content hash, the payload length and the payload's
// SHA-256 all match; anything else means "rebuild", never "trust". A CRC is
// what a tool that edits the payload recomputes as a matter of course (the
// labels of a cache were flipped so and read back as good); a SHA-256 is not
// recomputed by accident. (Anyone who means to can recompute either: the
// cache guards against damage and careless edits, not a forger with write
// access beside the data.) A file at the cache's name that does not begin
// with the magic is not the cache's: it is left as it is, never replaced.
// The sources are keyed by their bytes, not by size and mtime: a file edited to other content of
// the same size with its mtime restored (touch -r, cp -p, rsync -t, a
// checkout) is not the file the cache was made from (stampSources reads
// them). Files are written to a temporary name and renamed, so a reader never
// sees half a cache.

import { createHash, type Hash, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fstatSync, readSync, statSync } from 'node:fs';
import { type FileHandle, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { NotRegularFileError, openRegularFile, openRegularFileSync } from '../util/regularFile.ts';
import { forgetTemporary, trackTemporary } from '../util/temporaryFiles.ts';
import { openDataFile } from './lineReader.ts';
import type { Dataset } from './dataset.ts';

export const CACHE_MAGIC = 'SCHRDSET';
export const CACHE_VERSION = 3;
export const CACHE_EXTENSION = '.scds';
const FIXED_BYTES = 20;

/** What a cache stands for: the same identity means the same Dataset, given unchanged sources. */
export interface CacheIdentity {
  readonly layout: string;
  /** Reader options that change the Dataset (JSON-serialisable). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly sources: readonly string[];
}

export interface SourceStamp {
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the file's bytes as stored (compressed, for a .gz), hex. */
  readonly sha256: string;
}

export type CacheStatus = 'hit' | 'miss' | 'stale' | 'corrupt' | 'foreign' | 'off';

export interface CacheReport {
  /** True when the Dataset came from the cache. */
  readonly used: boolean;
  /** hit; miss (no cache file); stale (sources or format changed); corrupt (bad bytes: damaged or altered; rebuilt);
   * foreign (a file that is not a cache holds its name: left as it is, nothing written); off (disabled). */
  readonly status: CacheStatus;
  readonly file?: string;
  /** Why the cache was not used, for stale, corrupt and foreign. */
  readonly reason?: string;
  /** Set when the rebuilt cache could not be written (the Dataset is still returned). */
  readonly writeError?: string;
}

interface CacheHeader {
  readonly key: string;
  readonly identity: CacheIdentity;
  readonly stamps: readonly SourceStamp[];
  readonly littleEndian: boolean;
  readonly cell: string;
  readonly genes: number;
  readonly bins: number;
  readonly marks: readonly string[];
  readonly hasMask: boolean;
  readonly source: readonly string[];
  readonly payloadBytes: number;
  /** SHA-256 of the payload, hex. */
  readonly payloadSha256: string;
  readonly notes?: readonly string[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Stable hash of an identity (key order does not matter). */
export function identityKey(identity: CacheIdentity): string {
  const canonical = JSON.stringify({
    layout: identity.layout,
    options: sortKeys(identity.options),
    sources: identity.sources.map((s) => resolve(s)),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export function cacheFileName(cell: string, identity: CacheIdentity): string {
  const safe = cell.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return `${safe}.${identity.layout}.${identityKey(identity).slice(0, 16)}${CACHE_EXTENSION}`;
}

const HASH_CHUNK_BYTES = 1 << 20;

/**
 * Size and SHA-256 of each source's bytes, read in 1 MB pieces through one
 * buffer per call. The reads are asynchronous so that Ctrl-C is heard while a
 * slow disk or a stalled network mount is read; a FIFO or device in place of
 * a source is refused before anything waits on it.
 */
export async function stampSources(paths: readonly string[]): Promise<SourceStamp[]> {
  const chunk = Buffer.allocUnsafeSlow(HASH_CHUNK_BYTES);
  const stamps: SourceStamp[] = [];
  for (const p of paths) {
    const handle = await openDataFile(p);
    const h = createHash('sha256');
    let size = 0;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        size += bytesRead;
        h.update(chunk.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
    stamps.push({ path: resolve(p), size, sha256: h.digest('hex') });
  }
  return stamps;
}

export function userCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return xdg !== undefined && xdg !== '' ? join(xdg, 'simplechrome') : join(homedir(), '.cache', 'simplechrome');
}

/**
 * Where the cache of data in `dataDir` lives: `cacheDir` when given; else
 * `<dataDir>/.simplechrome-cache` when dataDir is writable; else the user
 * cache (~/.cache/simplechrome). A directory whose mode has no write bit
 * counts as read-only even for root, who could write it anyway: shared data
 * marked read-only must stay untouched.
 */
export function resolveCacheDir(dataDir: string, opts: { cacheDir?: string; fallbackDir?: string } = {}): string {
  if (opts.cacheDir !== undefined) return opts.cacheDir;
  if (isWritableDirectory(dataDir)) return join(dataDir, '.simplechrome-cache');
  return opts.fallbackDir ?? userCacheDir();
}

export function isWritableDirectory(dir: string): boolean {
  try {
    const s = statSync(dir);
    if (!s.isDirectory() || (s.mode & 0o222) === 0) return false;
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export type CacheLookup = { readonly dataset: Dataset } | { readonly status: 'miss' | 'stale' | 'corrupt' | 'foreign'; readonly reason: string };

/** Loads a cache file if, and only if, it is intact and matches `identity` and the sources' current stamps. */
export async function readCache(file: string, identity: CacheIdentity, stamps: readonly SourceStamp[]): Promise<CacheLookup> {
  let read: WholeFile;
  try {
    read = await readWhole(file);
  } catch {
    return { status: 'miss', reason: 'no cache file' };
  }
  return decodeCache(read.buf, identity, stamps, read.payloadSha256, read.fileBytes);
}

const READ_CHUNK_BYTES = 1 << 20;

interface WholeFile {
  /** The file's bytes; only its fixed header and header when the file's size is not the size its header states. */
  readonly buf: Buffer;
  readonly payloadSha256: string | undefined;
  readonly fileBytes: number;
}

/**
 * Reads the cache file without blocking: opened without waiting on what is
 * not a regular file (a FIFO at its name is "no cache"), then read in 1 MB
 * chunks through the thread pool, so Ctrl-C and SIGTERM are heard between
 * chunks and a mount that stalls holds a worker thread, not the process. Each
 * chunk of the payload is hashed right after it is read, while it is still
 * in the CPU cache: a hit is one pass over memory, and one thread-pool round
 * trip per MB costs nothing beside it. The header is read first: a file whose
 * size is not the one its header states (cut short, or a huge sparse file at
 * the cache's name) is judged from the header alone, without reading or
 * allocating its payload. A fresh ArrayBuffer starts 4-aligned, so the
 * features can be a view of it.
 */
async function readWhole(file: string): Promise<WholeFile> {
  const handle = await openRegularFile(file);
  try {
    const { size } = await handle.stat();
    const fixed = await readInto(handle, Buffer.alloc(Math.min(size, FIXED_BYTES)));
    const headerEnd = fixed.length === FIXED_BYTES && isCacheFile(fixed) ? FIXED_BYTES + fixed.readUInt32LE(12) : 0;
    const head = headerEnd > 0 && headerEnd <= size ? await readInto(handle, Buffer.alloc(headerEnd)) : fixed;
    // Not a cache, or not the size its header states: decodeCache says which from the header; nothing past it is read.
    if (statedBytes(head) !== size) return { buf: head, payloadSha256: undefined, fileBytes: size };
    const hash = createHash('sha256');
    const buf = await readInto(handle, Buffer.allocUnsafeSlow(size), { from: align4(headerEnd), hash });
    return { buf, payloadSha256: buf.length === size ? hash.digest('hex') : undefined, fileBytes: buf.length };
  } finally {
    await handle.close();
  }
}

/** Fills `buf` from the start of the file, a chunk at a time, hashing what lies at or after byte `hashing.from`; the
 * bytes read (fewer when the file ended first). */
async function readInto(handle: FileHandle, buf: Buffer, hashing?: { readonly from: number; readonly hash: Hash }): Promise<Buffer> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await handle.read(buf, filled, Math.min(READ_CHUNK_BYTES, buf.length - filled), filled);
    if (bytesRead === 0) break;
    if (hashing !== undefined && filled + bytesRead > hashing.from) hashing.hash.update(buf.subarray(Math.max(filled, hashing.from), filled + bytesRead));
    filled += bytesRead;
  }
  return buf.subarray(0, filled);
}

/** The file size a cache's header states (its header and payload), or undefined when the header cannot say. */
function statedBytes(head: Buffer): number | undefined {
  if (head.length < FIXED_BYTES) return undefined;
  const headerEnd = FIXED_BYTES + head.readUInt32LE(12);
  if (head.length < headerEnd) return undefined;
  try {
    const payloadBytes = (JSON.parse(head.toString('utf8', FIXED_BYTES, headerEnd)) as { payloadBytes?: unknown }).payloadBytes;
    return typeof payloadBytes === 'number' && Number.isSafeInteger(payloadBytes) && payloadBytes >= 0 ? align4(headerEnd) + payloadBytes : undefined;
  } catch {
    return undefined;
  }
}

/** `payloadSha256`: the payload's hash when the caller has computed it already (readCache does, while reading);
 * `fileBytes`: the file's size, when `buf` holds only its header (readWhole reads no more of a file whose size is not
 * the one its header states). */
export function decodeCache(buf: Buffer, identity: CacheIdentity, stamps: readonly SourceStamp[], payloadSha256?: string, fileBytes = buf.length): CacheLookup {
  const corrupt = (reason: string): CacheLookup => ({ status: 'corrupt', reason });
  if (!isCacheFile(buf)) return { status: 'foreign', reason: `not a simplechrome cache (it does not begin with ${CACHE_MAGIC})` };
  if (buf.length < FIXED_BYTES) return corrupt('truncated in its fixed header');
  const version = buf.readUInt32LE(8);
  if (version !== CACHE_VERSION) return { status: 'stale', reason: `format version ${version}, expected ${CACHE_VERSION}` };
  const headerBytes = buf.readUInt32LE(12);
  if (FIXED_BYTES + headerBytes > buf.length) return corrupt('header runs past the end of the file');
  const headerRaw = buf.subarray(FIXED_BYTES, FIXED_BYTES + headerBytes);
  if (crc32(headerRaw) !== buf.readUInt32LE(16)) return corrupt('header checksum mismatch');
  let header: CacheHeader;
  try {
    header = JSON.parse(headerRaw.toString('utf8')) as CacheHeader;
  } catch {
    return corrupt('header is not JSON');
  }
  if (!validHeader(header)) return corrupt('header fields are missing or malformed');
  if (header.key !== identityKey(identity)) return { status: 'stale', reason: 'made for other sources or options' };
  if (header.littleEndian !== LITTLE_ENDIAN) return { status: 'stale', reason: 'made on a machine of other endianness' };
  const changed = sourcesChanged(header.stamps, stamps);
  if (changed !== undefined) return { status: 'stale', reason: changed };

  const payloadStart = align4(FIXED_BYTES + headerBytes);
  if (fileBytes - payloadStart !== header.payloadBytes || buf.length !== fileBytes) {
    return corrupt(`payload is ${fileBytes - payloadStart} bytes, the header says ${header.payloadBytes}`);
  }
  const payload = buf.subarray(payloadStart);
  if ((payloadSha256 ?? sha256(payload)) !== header.payloadSha256) return corrupt('payload SHA-256 mismatch: the file was damaged or altered');

  const { genes, bins } = header;
  const marks = header.marks.length;
  const featureCount = genes * bins * marks;
  const maskBytes = header.hasMask ? genes * bins : 0;
  const fixed = featureCount * 4 + 2 * genes + maskBytes;
  if (fixed > payload.length) return corrupt('payload shorter than its shape');
  let o = 0;
  const features = float32At(payload, o, featureCount);
  o += featureCount * 4;
  const labels = payload.subarray(o, o + genes);
  o += genes;
  const split = payload.subarray(o, o + genes);
  o += genes;
  const binMask = header.hasMask ? payload.subarray(o, o + maskBytes) : undefined;
  o += maskBytes;
  const geneIds = genes === 0 ? [] : payload.toString('utf8', o).split('\n');
  if (geneIds.length !== genes) return corrupt(`${geneIds.length} gene ids for ${genes} genes`);
  const dataset: Dataset = {
    cell: header.cell,
    genes,
    bins,
    marks: header.marks,
    features,
    labels: new Uint8Array(labels.buffer, labels.byteOffset, labels.length),
    split: new Uint8Array(split.buffer, split.byteOffset, split.length),
    geneIds,
    source: header.source,
    ...(Array.isArray(header.notes) && header.notes.every((n) => typeof n === 'string') ? { notes: header.notes } : {}),
  };
  return { dataset: binMask === undefined ? dataset : { ...dataset, binMask: new Uint8Array(binMask.buffer, binMask.byteOffset, binMask.length) } };
}

/** Serialises a Dataset with its identity and source stamps. */
export function encodeCache(dataset: Dataset, identity: CacheIdentity, stamps: readonly SourceStamp[]): Buffer {
  const ids = Buffer.from(dataset.geneIds.join('\n'), 'utf8');
  if (dataset.geneIds.some((id) => id.includes('\n'))) throw new RangeError('a gene id contains a newline');
  const mask = dataset.binMask;
  const featureBytes = dataset.features.length * 4;
  const payloadBytes = featureBytes + 2 * dataset.genes + (mask?.length ?? 0) + ids.length;
  const payload = Buffer.alloc(payloadBytes);
  let o = 0;
  payload.set(new Uint8Array(dataset.features.buffer, dataset.features.byteOffset, featureBytes), o);
  o += featureBytes;
  payload.set(dataset.labels, o);
  o += dataset.genes;
  payload.set(dataset.split, o);
  o += dataset.genes;
  if (mask !== undefined) {
    payload.set(mask, o);
    o += mask.length;
  }
  payload.set(ids, o);
  const header: CacheHeader = {
    key: identityKey(identity),
    identity,
    stamps,
    littleEndian: LITTLE_ENDIAN,
    cell: dataset.cell,
    genes: dataset.genes,
    bins: dataset.bins,
    marks: dataset.marks,
    hasMask: mask !== undefined,
    source: dataset.source,
    payloadBytes,
    payloadSha256: sha256(payload),
    ...(dataset.notes ? { notes: dataset.notes } : {}),
  };
  const headerRaw = Buffer.from(JSON.stringify(header), 'utf8');
  const payloadStart = align4(FIXED_BYTES + headerRaw.length);
  const out = Buffer.alloc(payloadStart + payloadBytes);
  out.write(CACHE_MAGIC, 0, 'latin1');
  out.writeUInt32LE(CACHE_VERSION, 8);
  out.writeUInt32LE(headerRaw.length, 12);
  out.writeUInt32LE(crc32(headerRaw), 16);
  headerRaw.copy(out, FIXED_BYTES);
  payload.copy(out, payloadStart);
  return out;
}

/** Writes atomically: a temporary file in the same directory, then rename; never over a file that is not a cache. */
export async function writeCache(file: string, dir: string, dataset: Dataset, identity: CacheIdentity, stamps: readonly SourceStamp[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  trackTemporary(tmp);
  try {
    await writeFile(tmp, encodeCache(dataset, identity, stamps));
    if (holdsForeignFile(file)) throw new Error(`${file} is not a simplechrome cache; it is left as it is`);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  } finally {
    forgetTemporary(tmp);
  }
}

function sourcesChanged(cached: readonly SourceStamp[], now: readonly SourceStamp[]): string | undefined {
  if (cached.length !== now.length) return 'the set of source files changed';
  for (let i = 0; i < now.length; i++) {
    const a = cached[i] as SourceStamp;
    const b = now[i] as SourceStamp;
    if (a.path !== b.path) return 'the set of source files changed';
    if (a.size !== b.size) return `${b.path} changed size (${a.size} → ${b.size} bytes)`;
    if (a.sha256 !== b.sha256) return `${b.path} has other content than when the cache was written (SHA-256 differs)`;
  }
  return undefined;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Whether `bytes` begin as every cache file does; a file that does not is someone else's. */
const isCacheFile = (bytes: Buffer): boolean => bytes.length >= CACHE_MAGIC.length && bytes.toString('latin1', 0, CACHE_MAGIC.length) === CACHE_MAGIC;

/** Whether `file` exists and is not a cache (its first bytes are not the magic, or it is a FIFO or device: never waited on). */
function holdsForeignFile(file: string): boolean {
  let fd: number;
  try {
    fd = openRegularFileSync(file);
  } catch (e) {
    return e instanceof NotRegularFileError;
  }
  try {
    const head = Buffer.alloc(CACHE_MAGIC.length);
    return !isCacheFile(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
  } finally {
    closeSync(fd);
  }
}

function validHeader(h: unknown): h is CacheHeader {
  if (typeof h !== 'object' || h === null) return false;
  const r = h as Record<string, unknown>;
  const count = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  return (
    typeof r.key === 'string' &&
    typeof r.cell === 'string' &&
    typeof r.littleEndian === 'boolean' &&
    typeof r.hasMask === 'boolean' &&
    count(r.genes) &&
    count(r.bins) &&
    count(r.payloadBytes) &&
    typeof r.payloadSha256 === 'string' &&
    Array.isArray(r.marks) &&
    r.marks.length > 0 &&
    r.marks.every((m) => typeof m === 'string' && m !== '') &&
    new Set(r.marks).size === r.marks.length &&
    Array.isArray(r.source) &&
    r.source.every((s) => typeof s === 'string') &&
    Array.isArray(r.stamps) &&
    r.stamps.every((s) => typeof s === 'object' && s !== null && typeof (s as SourceStamp).path === 'string' && typeof (s as SourceStamp).size === 'number' && typeof (s as SourceStamp).sha256 === 'string')
  );
}

function float32At(payload: Buffer, offset: number, count: number): Float32Array {
  const byteOffset = payload.byteOffset + offset;
  if (byteOffset % 4 === 0) return new Float32Array(payload.buffer, byteOffset, count);
  const copy = new Float32Array(count);
  new Uint8Array(copy.buffer).set(payload.subarray(offset, offset + count * 4));
  return copy;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
