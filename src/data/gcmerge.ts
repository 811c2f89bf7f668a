// Reader for GC-MERGE's genome-wide layout: a table of 10 kb bins over whole
// chromosomes (`*_hmods_10kb_bins.csv[.gz]`, header
// node_id,chr,start,end,<marks by name>) and a gene table (`*_genes.csv[.gz]`,
// header with gene_id,node_id,chr,label_binary, …) whose node_id is the row of
// the gene's TSS bin. Each gene becomes a window of ±flank bins around that
// bin; bins past the edge of its chromosome are zero and masked out. The split
// is by chromosome, so that no test gene shares a neighbourhood with training.

import { basename, dirname } from 'node:path';
import { DataError, MARKS, SPLIT_CODES, type Dataset } from './dataset.ts';
import { FieldKey, quote, type LineCursor } from './lineCursor.ts';
import { readLines } from './lineReader.ts';
import { cellNameFrom, filesMatching, pathKind, stem } from './sourceFiles.ts';

export type GcMergeSource = string | { readonly bins: string; readonly genes: string };

export interface GcMergeOptions {
  /** Dataset.cell; default: the E-number in the file names (e.g. "E116"). */
  readonly cell?: string;
  /** Bins on each side of the TSS bin (default 10 → 21 bins). */
  readonly flank?: number;
  /** Held-out test chromosomes (default chr8, chr9, chr10, as in GC-MERGE's checks). */
  readonly testChromosomes?: readonly string[];
  /** Validation chromosomes (default chr11, chr12); train is every other chromosome. */
  readonly validChromosomes?: readonly string[];
}

export const GCMERGE_DEFAULT_FLANK = 10;
export const GCMERGE_DEFAULT_TEST: readonly string[] = ['chr8', 'chr9', 'chr10'];
export const GCMERGE_DEFAULT_VALID: readonly string[] = ['chr11', 'chr12'];
export const GCMERGE_LOOKED_FOR = 'looked for GC-MERGE *_hmods_*bins.csv[.gz] with *_genes.csv[.gz]';

export const GCMERGE_BINS_FILE = /_hmods_.*bins\.csv(\.gz)?$/;
export const GCMERGE_GENES_FILE = /_genes\.csv(\.gz)?$/;

export interface GcMergeFiles {
  readonly cell: string;
  readonly bins: string;
  readonly genes: string;
}

export async function readGcMerge(source: GcMergeSource, opts: GcMergeOptions = {}): Promise<Dataset> {
  return readGcMergeFiles(await resolveGcMerge(source), opts);
}

export async function readGcMergeFiles(files: GcMergeFiles, opts: GcMergeOptions = {}): Promise<Dataset> {
  const flank = opts.flank ?? GCMERGE_DEFAULT_FLANK;
  if (!(Number.isInteger(flank) && flank >= 0)) throw new RangeError(`flank must be a non-negative integer, got ${flank}`);
  const test = opts.testChromosomes ?? GCMERGE_DEFAULT_TEST;
  const valid = opts.validChromosomes ?? GCMERGE_DEFAULT_VALID;
  const both = test.filter((c) => valid.includes(c));
  if (both.length > 0) throw new RangeError(`chromosome${both.length > 1 ? 's' : ''} ${both.join(', ')} listed as both test and valid`);

  const genome = await readBins(files.bins);
  const genes = await readGenes(files.genes, genome);

  for (const [list, name] of [[test, 'testChromosomes'], [valid, 'validChromosomes']] as const) {
    for (const c of list) {
      if (!genes.chromosomes.has(c)) {
        throw new RangeError(`${name}: no genes on ${c} in ${files.genes} (chromosomes with genes: ${[...genes.chromosomes].join(', ')})`);
      }
    }
  }

  const n = genes.ids.length;
  const width = 2 * flank + 1;
  const m = MARKS.length;
  const features = new Float32Array(n * width * m);
  const mask = new Uint8Array(n * width);
  const split = new Uint8Array(n);
  let masked = 0;
  const values = genome.values;
  const codeOf = new Map<number, number>();
  genome.chromNames.forEach((c, i) => {
    codeOf.set(i, test.includes(c) ? SPLIT_CODES.test : valid.includes(c) ? SPLIT_CODES.valid : SPLIT_CODES.train);
  });
  for (let g = 0; g < n; g++) {
    const node = genes.nodes[g] as number;
    const chrom = genome.chrom[node] as number;
    const lo = genome.chromStart[chrom] as number;
    const hi = genome.chromEnd[chrom] as number;
    split[g] = codeOf.get(chrom) as number;
    for (let b = 0; b < width; b++) {
      const row = node - flank + b;
      if (row < lo || row >= hi) {
        masked++;
        continue;
      }
      mask[g * width + b] = 1;
      const from = row * m;
      const to = (g * width + b) * m;
      for (let k = 0; k < m; k++) features[to + k] = values[from + k] as number;
    }
  }
  const base: Dataset = {
    cell: opts.cell ?? files.cell,
    genes: n,
    bins: width,
    marks: MARKS,
    features,
    labels: genes.labels,
    split,
    geneIds: genes.ids,
    source: [files.bins, files.genes],
  };
  return masked > 0 ? { ...base, binMask: mask } : base;
}

interface Genome {
  /** [bins, MARKS] counts. */
  readonly values: Float32Array;
  readonly starts: Float64Array;
  /** Chromosome index of each bin. */
  readonly chrom: Uint16Array;
  readonly chromNames: readonly string[];
  /** First row and one past the last row of each chromosome. */
  readonly chromStart: readonly number[];
  readonly chromEnd: readonly number[];
}

const ROLE_SKIP = -1;
const ROLE_NODE = -2;
const ROLE_CHR = -3;
const ROLE_START = -4;
const ROLE_END = -5;

async function readBins(path: string): Promise<Genome> {
  let roles: number[] = [];
  let capacity = 1 << 16;
  let values = new Float32Array(capacity * MARKS.length);
  let starts = new Float64Array(capacity);
  let chrom = new Uint16Array(capacity);
  const chromNames: string[] = [];
  const chromStart: number[] = [];
  const chromEnd: number[] = [];
  const chromLine = new Map<string, number>();
  const key = new FieldKey();
  let rows = 0;
  let prevEnd = 0;
  let c = -1;
  await readLines(path, (cur: LineCursor) => {
    if (cur.lineNo === 1) {
      roles = binRoles(cur);
      return;
    }
    if (rows === capacity) {
      capacity *= 2;
      values = grow(values, capacity * MARKS.length);
      starts = grow(starts, capacity);
      chrom = grow(chrom, capacity);
    }
    let start = -1;
    let end = -1;
    const o = rows * MARKS.length;
    for (const role of roles) {
      if (role >= 0) {
        values[o + role] = cur.count();
      } else if (role === ROLE_NODE) {
        const node = cur.integer();
        if (node !== rows) cur.fail(`node_id ${node} out of sequence: expected ${rows} (rows must be numbered 0, 1, 2, … in file order)`);
      } else if (role === ROLE_CHR) {
        if (cur.keyField(key)) {
          const name = key.text();
          const earlier = chromLine.get(name);
          if (earlier !== undefined) cur.fail(`bins of ${name} are not contiguous: ${name} already ended before line ${cur.lineNo} (it starts at line ${earlier})`);
          chromLine.set(name, cur.lineNo);
          if (c >= 0) chromEnd[c] = rows;
          c = chromNames.length;
          chromNames.push(name);
          chromStart.push(rows);
          chromEnd.push(rows);
          prevEnd = -1;
        }
      } else if (role === ROLE_START) {
        start = cur.position();
      } else if (role === ROLE_END) {
        end = cur.position();
      } else {
        cur.skip();
      }
    }
    cur.finish();
    if (!(end > start)) cur.fail(`bin end ${end} is not after its start ${start}`);
    if (prevEnd >= 0 && start !== prevEnd) {
      cur.fail(`bin ${chromNames[c]}:${start}-${end} does not follow the previous bin, which ends at ${prevEnd} (bins must be adjacent and in order)`);
    }
    if (c >= 0xffff) cur.fail('more than 65535 chromosomes');
    prevEnd = end;
    starts[rows] = start;
    chrom[rows] = c;
    rows++;
  });
  if (rows === 0) throw new DataError(path, 1, 'header only, no bins');
  chromEnd[c] = rows;
  return {
    values: values.subarray(0, rows * MARKS.length),
    starts: starts.subarray(0, rows),
    chrom: chrom.subarray(0, rows),
    chromNames,
    chromStart,
    chromEnd,
  };
}

function binRoles(cur: LineCursor): number[] {
  const names = cur.allFields();
  const roles = names.map((raw) => {
    const name = raw.trim();
    const mark = MARKS.indexOf(name as (typeof MARKS)[number]);
    if (mark >= 0) return mark;
    switch (name) {
      case 'node_id':
        return ROLE_NODE;
      case 'chr':
        return ROLE_CHR;
      case 'start':
        return ROLE_START;
      case 'end':
        return ROLE_END;
      default:
        return cur.fail(`header: unknown column ${quote(name)} (expected node_id, chr, start, end and the marks ${MARKS.join(', ')})`);
    }
  });
  requireColumns(cur, names, ['node_id', 'chr', 'start', 'end', ...MARKS]);
  cur.columns = names.length;
  cur.columnNames = names;
  return roles;
}

interface Genes {
  readonly ids: string[];
  readonly nodes: Int32Array;
  readonly labels: Uint8Array;
  readonly chromosomes: Set<string>;
}

const G_ID = -2;
const G_NODE = -3;
const G_CHR = -4;
const G_LABEL = -5;
const G_BIN_START = -6;

async function readGenes(path: string, genome: Genome): Promise<Genes> {
  let roles: number[] = [];
  const ids: string[] = [];
  let nodes = new Int32Array(1 << 14);
  let labels = new Uint8Array(1 << 14);
  const firstLine = new Map<string, number>();
  const chromosomes = new Set<string>();
  const m = MARKS.length;
  await readLines(path, (cur: LineCursor) => {
    if (cur.lineNo === 1) {
      roles = geneRoles(cur);
      return;
    }
    const g = ids.length;
    if (g === nodes.length) {
      nodes = grow(nodes, g * 2);
      labels = grow(labels, g * 2);
    }
    let id = '';
    let node = -1;
    let chr = '';
    let label: 0 | 1 = 0;
    let binStart: number | undefined;
    const tss: number[] = [];
    for (const role of roles) {
      switch (role) {
        case G_ID:
          id = cur.text();
          if (!/^[\x21-\x7e]+$/.test(id)) cur.fail(`${cur.column()}: gene id ${quote(id)} is empty or not printable ASCII`);
          break;
        case G_NODE:
          node = cur.integer();
          if (node < 0 || node >= genome.chrom.length) cur.fail(`${cur.column()}: node_id ${node} is not a row of the bins file (0..${genome.chrom.length - 1})`);
          break;
        case G_CHR:
          chr = cur.text();
          break;
        case G_LABEL:
          label = cur.label();
          break;
        case G_BIN_START:
          binStart = cur.position();
          break;
        case ROLE_SKIP:
          cur.skip();
          break;
        default:
          tss[role] = cur.number();
      }
    }
    cur.finish();
    const prev = firstLine.get(id);
    if (prev !== undefined) cur.fail(`duplicate gene ${id} (first at line ${prev})`);
    firstLine.set(id, cur.lineNo);
    const binChrom = genome.chromNames[genome.chrom[node] as number] as string;
    if (chr !== binChrom) cur.fail(`gene ${id} is on ${quote(chr)} but its node_id ${node} is a bin of ${binChrom}`);
    if (binStart !== undefined && binStart !== genome.starts[node]) {
      cur.fail(`gene ${id}: bin_start ${binStart} differs from the start ${genome.starts[node]} of bin ${node}`);
    }
    tss.forEach((v, mark) => {
      const inBin = genome.values[node * m + mark] as number;
      if (v !== inBin) cur.fail(`gene ${id}: ${MARKS[mark]}_tssbin ${v} differs from ${inBin} in bin ${node} of the bins file`);
    });
    ids.push(id);
    nodes[g] = node;
    labels[g] = label;
    chromosomes.add(chr);
  });
  if (ids.length === 0) throw new DataError(path, 1, 'header only, no genes');
  return { ids, nodes: nodes.slice(0, ids.length), labels: labels.slice(0, ids.length), chromosomes };
}

/** Roles of the gene table's columns; a mark's `<mark>_tssbin` column is checked against the bins. */
function geneRoles(cur: LineCursor): number[] {
  const names = cur.allFields().map((s) => s.trim());
  const roles = names.map((name) => {
    switch (name) {
      case 'gene_id':
        return G_ID;
      case 'node_id':
        return G_NODE;
      case 'chr':
        return G_CHR;
      case 'label_binary':
        return G_LABEL;
      case 'bin_start':
        return G_BIN_START;
      default: {
        const mark = MARKS.findIndex((mk) => `${mk}_tssbin` === name);
        return mark >= 0 ? mark : ROLE_SKIP;
      }
    }
  });
  requireColumns(cur, names, ['gene_id', 'node_id', 'chr', 'label_binary']);
  cur.columns = names.length;
  cur.columnNames = names;
  return roles;
}

function requireColumns(cur: LineCursor, names: readonly string[], required: readonly string[]): void {
  const missing = required.filter((r) => !names.includes(r));
  if (missing.length > 0) cur.fail(`header: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) cur.fail(`header: column ${quote(dup)} appears twice`);
}

function grow<T extends Float32Array | Float64Array | Uint16Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const Ctor = a.constructor as new (n: number) => T;
  const next = new Ctor(n);
  next.set(a);
  return next;
}

/** A directory with one bins file and one genes file, or the bins file (the genes file beside it). */
export async function resolveGcMerge(source: GcMergeSource): Promise<GcMergeFiles> {
  if (typeof source !== 'string') return { cell: cellNameFrom(stem(source.bins)), bins: source.bins, genes: source.genes };
  const kind = pathKind(source);
  const dir = kind === 'directory' ? source : dirname(source);
  const bins = kind === 'file' ? [source] : filesMatching(dir, GCMERGE_BINS_FILE);
  const genes = filesMatching(dir, GCMERGE_GENES_FILE);
  if (bins.length === 0 || genes.length === 0) throw new DataError(source, undefined, `unknown layout: ${GCMERGE_LOOKED_FOR}`);
  if (bins.length > 1 || genes.length > 1) {
    throw new DataError(dir, undefined, `several GC-MERGE tables: ${[...bins, ...genes].map((p) => basename(p)).join(', ')}; pass { bins, genes }`);
  }
  const b = bins[0] as string;
  const cell = cellNameFrom(stem(b));
  return { cell: cell === stem(b) ? basename(dir) : cell, bins: b, genes: genes[0] as string };
}
