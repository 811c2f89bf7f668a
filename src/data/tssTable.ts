// The gene table of a bigWig-backed cell: one TSS (and strand, when known)
// per gene, from a BED file or from a GTF/GFF3 gene annotation. Plain or
// gzip. Coordinates are kept 0-based: the TSS is the 0-based position of the
// gene's first transcribed base.
//
// BED (0-based, half-open): chrom, start, end, name[, score, strand]. The TSS
// is `start` on + or unknown strand and `end - 1` on −, so both a one-base TSS
// BED and a BED of whole gene bodies give the right base.
// GTF/GFF3 (1-based, closed): rows of type `gene` (GFF3 also `*_gene` and
// `pseudogene`); TSS = start − 1 on +, end − 1 on −. The id is the gene_id
// attribute (GFF3: else ID without its `gene:` prefix).

import { DataError } from './dataset.ts';
import type { LineCursor } from './lineCursor.ts';
import { readLines } from './lineReader.ts';

export type Strand = '+' | '-' | '.';
export type GeneTableFormat = 'bed' | 'gtf' | 'gff3';

export interface TssTable {
  readonly path: string;
  readonly format: GeneTableFormat;
  readonly ids: readonly string[];
  readonly chroms: readonly string[];
  /** 0-based TSS per gene. */
  readonly tss: Float64Array;
  readonly strands: readonly Strand[];
  /** Line of each gene in the file, for messages. */
  readonly lines: Int32Array;
}

/** The format from the file name: .bed, .gtf, .gff/.gff3, each optionally .gz. */
export function geneTableFormat(path: string): GeneTableFormat | undefined {
  const m = /\.(bed|gtf|gff3?)(\.gz)?$/i.exec(path);
  if (m === null) return undefined;
  const ext = (m[1] as string).toLowerCase();
  return ext === 'bed' ? 'bed' : ext === 'gtf' ? 'gtf' : 'gff3';
}

export const GENE_TABLE_FILE = /\.(bed|gtf|gff3?)(\.gz)?$/i;

export async function readTssTable(path: string, format: GeneTableFormat | undefined = geneTableFormat(path)): Promise<TssTable> {
  if (format === undefined) {
    throw new DataError(path, undefined, 'cannot tell the gene table format from the name: expected .bed, .gtf, .gff3 or .gff (optionally .gz)');
  }
  const ids: string[] = [];
  const chroms: string[] = [];
  const strands: Strand[] = [];
  let tss = new Float64Array(1 << 15);
  let lines = new Int32Array(1 << 15);
  const firstLine = new Map<string, number>();
  const add = (cur: LineCursor, id: string, chrom: string, pos: number, strand: Strand): void => {
    const prev = firstLine.get(id);
    if (prev !== undefined) cur.fail(`gene ${id} appears twice (first at line ${prev}): each gene needs one TSS`);
    firstLine.set(id, cur.lineNo);
    const g = ids.length;
    if (g === tss.length) {
      tss = grown(tss, g * 2);
      lines = grown(lines, g * 2);
    }
    ids.push(id);
    chroms.push(chrom);
    strands.push(strand);
    tss[g] = pos;
    lines[g] = cur.lineNo;
  };
  const parse = format === 'bed' ? bedLine : format === 'gtf' ? gtfLine : gff3Line;
  await readLines(path, (cur) => parse(cur, add), { separators: 'any' });
  if (ids.length === 0) throw new DataError(path, undefined, `no genes: the file holds no ${format === 'bed' ? 'BED records' : '"gene" rows'}`);
  return { path, format, ids, chroms, tss: tss.slice(0, ids.length), strands, lines: lines.slice(0, ids.length) };
}

type Add = (cur: LineCursor, id: string, chrom: string, tss: number, strand: Strand) => void;

function isComment(line: string): boolean {
  return line.startsWith('#') || line.startsWith('track ') || line.startsWith('track\t') || line.startsWith('browser ');
}

function bedLine(cur: LineCursor, add: Add): void {
  const line = cur.lineText();
  if (isComment(line)) return;
  const f = line.split('\t');
  if (f.length < 4) {
    cur.fail(`a BED line needs at least 4 tab-separated columns (chrom, start, end, gene id), found ${f.length}: ${JSON.stringify(line.slice(0, 60))}`);
  }
  const [chrom, s, e, id] = f as [string, string, string, string];
  if (chrom === '') cur.fail('column 1 (chrom) is empty');
  const start = coordinate(cur, s, 2, 'start');
  const end = coordinate(cur, e, 3, 'end');
  if (end <= start) cur.fail(`end ${end} is not after start ${start} (BED is 0-based, half-open)`);
  checkId(cur, id, 4);
  const strand = f.length >= 6 ? strandOf(cur, f[5] as string, 6) : '.';
  add(cur, id, chrom, strand === '-' ? end - 1 : start, strand);
}

function gtfLine(cur: LineCursor, add: Add): void {
  const f = annotationFields(cur);
  if (f === undefined || f[2] !== 'gene') return;
  const id = /(?:^|;)\s*gene_id\s+"([^"]*)"/.exec(f[8] as string)?.[1];
  if (id === undefined) cur.fail('gene row without a gene_id "…" attribute in column 9');
  checkId(cur, id, 9);
  addAnnotated(cur, f, id, add);
}

function gff3Line(cur: LineCursor, add: Add): void {
  const f = annotationFields(cur);
  if (f === undefined) return;
  const type = f[2] as string;
  if (!(type === 'gene' || type === 'pseudogene' || type.endsWith('_gene'))) return;
  const attrs = f[8] as string;
  const attr = (key: string): string | undefined => new RegExp(`(?:^|;)${key}=([^;]*)`).exec(attrs)?.[1];
  const raw = attr('gene_id') ?? attr('ID')?.replace(/^gene:/, '');
  if (raw === undefined) cur.fail('gene row with neither a gene_id= nor an ID= attribute in column 9');
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return cur.fail(`column 9: the gene id ${JSON.stringify(raw)} has a malformed %-escape`);
  }
  checkId(cur, id, 9);
  addAnnotated(cur, f, id, add);
}

/** The 9 columns of a GTF/GFF3 line; undefined for comments and the FASTA section's lines. */
function annotationFields(cur: LineCursor): string[] | undefined {
  const line = cur.lineText();
  if (line.startsWith('#')) return undefined;
  const f = line.split('\t');
  if (f.length !== 9) cur.fail(`expected 9 tab-separated columns (GTF/GFF3), found ${f.length}: ${JSON.stringify(line.slice(0, 60))}`);
  return f;
}

function addAnnotated(cur: LineCursor, f: readonly string[], id: string, add: Add): void {
  const start = coordinate(cur, f[3] as string, 4, 'start');
  const end = coordinate(cur, f[4] as string, 5, 'end');
  if (start < 1) cur.fail(`column 4 (start): ${start}, but GTF/GFF3 positions start at 1`);
  if (end < start) cur.fail(`end ${end} is before start ${start}`);
  const strand = strandOf(cur, f[6] as string, 7);
  if (f[0] === '') cur.fail('column 1 (seqid) is empty');
  add(cur, id, f[0] as string, strand === '-' ? end - 1 : start - 1, strand);
}

function coordinate(cur: LineCursor, text: string, column: number, name: string): number {
  if (!/^\d+$/.test(text)) cur.fail(`column ${column} (${name}): ${JSON.stringify(text)} is not a non-negative integer`);
  const v = Number(text);
  if (!Number.isSafeInteger(v)) cur.fail(`column ${column} (${name}): ${text} is too large`);
  return v;
}

function strandOf(cur: LineCursor, text: string, column: number): Strand {
  if (text === '+' || text === '-' || text === '.') return text;
  return cur.fail(`column ${column} (strand): ${JSON.stringify(text)}, expected +, - or .`);
}

function checkId(cur: LineCursor, id: string, column: number): void {
  if (!/^[\x21-\x7e]+$/.test(id)) cur.fail(`column ${column} (gene id): ${JSON.stringify(id)} is empty or not printable ASCII`);
}

function grown<T extends Float64Array | Int32Array>(a: T, n: number): T {
  const next = new (a.constructor as new (n: number) => T)(n);
  next.set(a);
  return next;
}
