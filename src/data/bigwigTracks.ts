// The mark tracks of a bigWig-backed cell: which file holds which mark, and
// opening each through @gmod/bbi (JBrowse's reader) with the checks that turn
// its low-level failures into messages a user can act on: not a bigWig at all,
// a bigBed, a file cut short by an interrupted download.

import { BigWig } from '@gmod/bbi';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataError, MARKS, type Mark } from './dataset.ts';
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
  readonly mark: Mark;
  readonly path: string;
}

/** The marks whose name appears in `name` (case-insensitive, not inside a longer mark name). */
export function marksNamedIn(name: string): Mark[] {
  return MARKS.filter((m) => new RegExp(`(^|[^A-Za-z0-9])${m}($|[^A-Za-z0-9])`, 'i').test(name));
}

export interface ResolvedTracks {
  readonly tracks: readonly TrackFile[];
  /** Files that were passed over (a directory's bigWigs that name none of the five marks). */
  readonly ignored: readonly string[];
}

/**
 * The five mark tracks from `spec`: a directory of `*.bw`/`*.bigWig` files
 * each naming its mark, or a comma-separated list of files, each either named
 * by its mark or given as `MARK=path` (ENCODE files are named by accession).
 */
export function resolveTracks(spec: string | readonly string[]): ResolvedTracks {
  const items = typeof spec === 'string' ? spec.split(',').filter((s) => s !== '') : spec;
  if (items.length === 0) throw new DataError(String(spec), undefined, 'no tracks given');
  const byMark = new Map<Mark, string>();
  const ignored: string[] = [];
  const take = (mark: Mark, path: string): void => {
    const prev = byMark.get(mark);
    if (prev !== undefined) throw new DataError(path, undefined, `a second track for ${mark} (the first is ${prev}): give one file per mark`);
    byMark.set(mark, path);
  };
  for (const item of items) {
    const eq = /^([A-Za-z0-9]+)=(.+)$/.exec(item);
    if (eq !== null) {
      const mark = MARKS.find((m) => m.toLowerCase() === (eq[1] as string).toLowerCase());
      if (mark === undefined) throw new DataError(item, undefined, `unknown mark ${eq[1]}: the marks are ${MARKS.join(', ')}`);
      requireFile(eq[2] as string);
      take(mark, eq[2] as string);
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
        else take(marks[0] as Mark, f);
      }
      continue;
    }
    requireFile(item);
    const marks = marksNamedIn(basename(item));
    if (marks.length !== 1) {
      throw new DataError(item, undefined, `cannot tell the mark from the file name (${marks.length === 0 ? 'it names none' : `it names ${marks.join(' and ')}`} of ${MARKS.join(', ')}): pass it as MARK=${item}`);
    }
    take(marks[0] as Mark, item);
  }
  const missing = MARKS.filter((m) => !byMark.has(m));
  if (missing.length > 0) {
    const found = [...byMark.entries()].map(([m, p]) => `${m} (${basename(p)})`).join(', ');
    throw new DataError(
      String(spec),
      undefined,
      `missing track${missing.length > 1 ? 's' : ''} for ${missing.join(', ')}: the models read all five marks ${MARKS.join(', ')}; found ${found || 'none'}` +
        (ignored.length > 0 ? `; files naming no mark: ${ignored.map((f) => basename(f)).join(', ')}` : ''),
    );
  }
  return { tracks: MARKS.map((mark) => ({ mark, path: byMark.get(mark) as string })), ignored };
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
  readonly mark: Mark;
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
  const size = statSync(path).size;
  const head = Buffer.alloc(BBI_HEADER_BYTES);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, BBI_HEADER_BYTES, 0);
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
    this.fd ??= openSync(this.path, 'r');
    const out = new Uint8Array(length);
    const n = readSync(this.fd, out, 0, length, position);
    this.bytesRead += n;
    return out.subarray(0, n);
  }

  readFile(): Promise<Uint8Array<ArrayBuffer>>;
  readFile(options: unknown): Promise<string>;
  async readFile(options?: unknown): Promise<Uint8Array<ArrayBuffer> | string> {
    const bytes = new Uint8Array(readFileSync(this.path));
    return typeof options === 'string' ? Buffer.from(bytes).toString(options as BufferEncoding) : bytes;
  }

  async stat(): Promise<{ size: number }> {
    return { size: statSync(this.path).size };
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  closeNow(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
