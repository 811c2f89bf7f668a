// The mark tracks of a bigWig-backed cell: which file holds which mark, and
// opening each through @gmod/bbi (JBrowse's reader) with the checks that turn
// its low-level failures into messages a user can act on: not a bigWig at all,
// a bigBed, a file cut short by an interrupted download.

import { BigWig } from '@gmod/bbi';
import { closeSync, fstatSync, read, readdirSync, readFile } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { NotRegularFileError, openRegularFileSync } from '../util/regularFile.ts';
import { DataError, MARKS, markOrder } from './dataset.ts';
import { describeIoError } from './lineReader.ts';
import { pathKind } from './sourceFiles.ts';

const BIGWIG_MAGIC = 0x888ffc26;
const BIGBED_MAGIC = 0x8789f2eb;
/** Fixed header (64 bytes) of every bbi file. */
const BBI_HEADER_BYTES = 64;
/** An R-tree index starts with a 48-byte header; a file must hold at least that much of its last index. */
const RTREE_HEADER_BYTES = 48;
/** Bytes a track's reader may have read (and cached) before it is replaced by a fresh one. */
const RENEW_AFTER_BYTES = 32 << 20;

export const BIGWIG_FILE = /\.(bw|bigwig)$/i;

export interface TrackFile {
  readonly mark: string;
  readonly path: string;
}

/** `MARK=path`: a track given with its mark (ENCODE files are named by accession). */
export const MARK_AND_PATH = /^([A-Za-z0-9][A-Za-z0-9._-]*)=(.+)$/;

/**
 * Marks a file name can name, each with its usual spelling: histone
 * modifications (H3K27ac, H3K4me3, H2BK120ub1, …), the variant H2A.Z, and
 * the accessibility assays DNase and ATAC.
 */
const KNOWN_MARKS: readonly { readonly pattern: string; readonly spell: (m: RegExpExecArray) => string }[] = [
  { pattern: 'H([234])([AB]?)K(\\d{1,3})(me[123]|ac|ub1?|cr)', spell: (m) => `H${m[1]}${(m[2] as string).toUpperCase()}K${m[3]}${(m[4] as string).toLowerCase()}` },
  { pattern: 'H2A\\.?Z', spell: () => 'H2A.Z' },
  { pattern: 'DNase(?:I|1)?', spell: () => 'DNase' },
  { pattern: 'ATAC', spell: () => 'ATAC' },
];

/** The mark `text` is wholly the name of, in its usual spelling (h3k27ac → H3K27ac), or undefined. */
function knownMark(text: string): string | undefined {
  for (const k of KNOWN_MARKS) {
    const m = new RegExp(`^${k.pattern}$`, 'i').exec(text);
    if (m !== null) return k.spell(m);
  }
  return undefined;
}

/** The marks whose name appears in `name` (case-insensitive, not inside a longer word), each spelled as usual. */
export function marksNamedIn(name: string): string[] {
  const found = new Set<string>();
  for (const k of KNOWN_MARKS) {
    const re = new RegExp(`(?:^|[^A-Za-z0-9])(${k.pattern})(?=$|[^A-Za-z0-9])`, 'gi');
    for (const m of name.matchAll(re)) found.add(knownMark(m[1] as string) as string);
  }
  return [...found];
}

/** A mark as given in MARK=path: a known mark in its usual spelling, any other name as given. */
export function markNamed(given: string): string {
  return knownMark(given) ?? given;
}

export interface ResolvedTracks {
  /** One per mark, in markOrder. */
  readonly tracks: readonly TrackFile[];
  /** Files that were passed over (a directory's bigWigs that name no mark). */
  readonly ignored: readonly string[];
}

/**
 * The mark tracks from `spec`: a directory of `*.bw`/`*.bigWig` files each
 * naming its mark, or a comma-separated list of files, each either named by
 * its mark or given as `MARK=path`. Any set of one or more marks, one file
 * each; they are held in markOrder (the five of DeepChrome's layout first).
 */
export function resolveTracks(spec: string | readonly string[]): ResolvedTracks {
  const items = typeof spec === 'string' ? spec.split(',').filter((s) => s !== '') : spec;
  if (items.length === 0) throw new DataError(String(spec), undefined, 'no tracks given');
  const byMark = new Map<string, string>();
  const ignored: string[] = [];
  const take = (mark: string, path: string): void => {
    const same = [...byMark.keys()].find((m) => m.toLowerCase() === mark.toLowerCase());
    if (same !== undefined) throw new DataError(path, undefined, `a second track for ${mark} (the first is ${byMark.get(same)}): give one file per mark`);
    byMark.set(mark, path);
  };
  for (const item of items) {
    const eq = MARK_AND_PATH.exec(item);
    if (eq !== null) {
      requireFile(eq[2] as string);
      take(markNamed(eq[1] as string), eq[2] as string);
      continue;
    }
    const kind = pathKind(item);
    if (kind === 'directory') {
      const files = bigWigsIn(item);
      if (files.length === 0) throw new DataError(item, undefined, 'no bigWig files (*.bw, *.bigWig) in this directory');
      for (const f of files) {
        const marks = marksNamedIn(basename(f));
        if (marks.length === 0) ignored.push(f);
        else if (marks.length > 1) throw new DataError(f, undefined, `the name names several marks (${marks.join(', ')}): rename it or pass MARK=${f}`);
        else take(marks[0] as string, f);
      }
      continue;
    }
    requireFile(item);
    const marks = marksNamedIn(basename(item));
    if (marks.length !== 1) {
      throw new DataError(item, undefined, `cannot tell the mark from the file name (${marks.length === 0 ? 'it names none' : `it names ${marks.join(' and ')}`}): pass it as MARK=${item}`);
    }
    take(marks[0] as string, item);
  }
  if (byMark.size === 0) {
    throw new DataError(
      String(spec),
      undefined,
      `no track names a mark (a histone mark such as ${MARKS.join(', ')} or H3K27ac, or DNase, ATAC): ${ignored.map((f) => basename(f)).join(', ')}; ` +
        'name each file by its mark or pass MARK=FILE',
    );
  }
  return { tracks: markOrder([...byMark.keys()]).map((mark) => ({ mark, path: byMark.get(mark) as string })), ignored };
}

export function bigWigsIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => BIGWIG_FILE.test(n)).map((n) => join(dir, n));
}

function requireFile(path: string): void {
  const kind = pathKind(path);
  if (kind === 'missing') throw new DataError(path, undefined, 'no such file');
  if (kind === 'directory') throw new DataError(path, undefined, 'a directory, expected a bigWig file');
}

export interface Chromosome {
  readonly name: string;
  readonly length: number;
}

/** One opened track: its chromosomes and a reader of the intervals in a region. */
export interface OpenTrack {
  readonly mark: string;
  readonly path: string;
  readonly chromosomes: ReadonlyMap<string, number>;
  /** Intervals overlapping [start, end) of `chrom`, sorted, as the file holds them (not clipped). */
  intervals(chrom: string, start: number, end: number): Promise<TrackIntervals>;
  close(): void;
}

export interface TrackIntervals {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly values: Float32Array;
}

/** Opens a track, checking that it is a whole bigWig file; DataError otherwise. */
export async function openTrack(track: TrackFile, renewAfterBytes = RENEW_AFTER_BYTES): Promise<OpenTrack> {
  const { path, mark } = track;
  const head = Buffer.alloc(BBI_HEADER_BYTES);
  const fd = openTrackFile(path);
  let got: number;
  let size: number;
  try {
    size = fstatSync(fd).size;
    got = await readAt(fd, head, BBI_HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  const magic = got >= 4 ? head.readUInt32LE(0) : -1;
  if (magic === BIGBED_MAGIC) throw new DataError(path, undefined, `a bigBed file, not a bigWig: a ${mark} track must be a bigWig of signal values`);
  if (magic !== BIGWIG_MAGIC) {
    throw new DataError(path, undefined, size === 0 ? 'empty file, expected a bigWig' : `not a bigWig file (its first bytes are not the bigWig signature; ${size} bytes)`);
  }
  if (got < BBI_HEADER_BYTES) throw new DataError(path, undefined, `truncated: ${size} bytes, shorter than a bigWig header`);
  const file = new HeldFile(path);
  let bw = new BigWig({ filehandle: file });
  let header: Awaited<ReturnType<BigWig['getHeader']>>;
  try {
    header = await bw.getHeader();
  } catch (e) {
    file.closeNow();
    throw new DataError(path, undefined, `truncated or corrupt bigWig: its header cannot be read (${errorText(e)})`);
  }
  // Zoom levels and their indexes come last in the file: a cut-off download loses them first.
  const lastIndex = Math.max(header.unzoomedIndexOffset, ...header.zoomLevels.map((z) => z.indexOffset));
  if (lastIndex + RTREE_HEADER_BYTES > size) {
    file.closeNow();
    throw new DataError(path, undefined, `truncated: the file is ${size} bytes but its header places an index at byte ${lastIndex} (an interrupted download? fetch it again)`);
  }
  const chromosomes = new Map<string, number>();
  for (const ref of Object.values(header.refsByNumber)) chromosomes.set(ref.name, ref.length);
  return {
    mark,
    path,
    chromosomes,
    close: () => file.closeNow(),
    intervals: async (chrom, start, end) => {
      // The package keeps up to 1000 of its reads per open file; a genome's
      // worth of them would be the whole file in memory. A fresh reader (its
      // header is a few kB) drops them.
      if (file.bytesRead > renewAfterBytes) {
        file.bytesRead = 0;
        bw = new BigWig({ filehandle: file });
      }
      try {
        const r = await bw.getFeaturesAsArrays(chrom, start, end);
        return { starts: r.starts, ends: r.ends, values: r.scores };
      } catch (e) {
        throw new DataError(path, undefined, `truncated or corrupt bigWig: reading ${chrom}:${start}-${end} failed (${errorText(e)})`);
      }
    },
  };
}

type FileHandle = NonNullable<ConstructorParameters<typeof BigWig>[0]['filehandle']>;

/**
 * A file kept open for all of a track's reads. The package's own local file
 * opens and closes the file on every read, which costs more than the read
 * itself when a genome is read in thousands of range queries.
 */
class HeldFile implements FileHandle {
  private fd: number | undefined;
  /** Bytes read since the count was last reset. */
  bytesRead = 0;

  constructor(private readonly path: string) {}

  async read(length: number, position: number): Promise<Uint8Array<ArrayBuffer>> {
    const fd = (this.fd ??= openTrackFile(this.path));
    const out = new Uint8Array(length);
    const n = await readAt(fd, out, length, position);
    this.bytesRead += n;
    return out.subarray(0, n);
  }

  readFile(): Promise<Uint8Array<ArrayBuffer>>;
  readFile(options: unknown): Promise<string>;
  async readFile(options?: unknown): Promise<Uint8Array<ArrayBuffer> | string> {
    const fd = openTrackFile(this.path);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(await new Promise<Buffer>((resolve, reject) => readFile(fd, (e, b) => (e ? reject(e) : resolve(b)))));
    } finally {
      closeSync(fd);
    }
    return typeof options === 'string' ? Buffer.from(bytes).toString(options as BufferEncoding) : bytes;
  }

  async stat(): Promise<{ size: number }> {
    return { size: (await stat(this.path)).size };
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  closeNow(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Reads through the thread pool, not synchronously: Ctrl-C and SIGTERM are heard between a track's reads, and a mount
 * that stalls holds a worker thread, not the process. (Loading bigwig_E116, 16,699 genes × 5 tracks, took 1.0–3.7 s
 * either way on a loaded 2-core machine: the round trips cost no measurable time, as reads of the five tracks overlap.)
 */
function readAt(fd: number, into: Uint8Array, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, into, 0, length, position, (e, bytes) => (e ? reject(e) : resolve(bytes))));
}

/** A track's descriptor; a FIFO or device in its place is refused by name, not waited on. */
function openTrackFile(path: string): number {
  try {
    return openRegularFileSync(path);
  } catch (e) {
    if (e instanceof NotRegularFileError) throw new DataError(path, undefined, e.what);
    throw new DataError(path, undefined, `cannot open: ${describeIoError(e)}`);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
