// Genomic positions of genes, for spatial neighbors. The source is
// `GeneFile_tss_windows.txt.gz`: tab-separated `chr start end ENSG_SYMBOL`,
// one window of TSS ± 10 kb per gene, so the TSS is the window's midpoint.
//
// Strand caveat: the file has no strand column. The midpoint is the TSS on
// either strand (the window is symmetric), but nothing here says which side
// is upstream; "left"/"right" below mean lower/higher genomic coordinate.
// Coordinates are whatever the window file uses (hg19 for the Roadmap data);
// only their order on a chromosome matters here.
//
// The real file names 7 Ensembl ids twice (same window, two symbols: e.g.
// ENSG00000062370 as ZFP112 and ZNF285). The first row wins; a repeat at a
// different position is an error, because the TSS would be ambiguous.
//
// This file reads through a ReadLines (the page uses it too); geneAnnotation.ts
// is its reader from disk.

import { DataError } from './dataset.ts';
import { forEachLineWith } from './expressionTableRows.ts';
import type { ReadLines } from './lineSplitter.ts';

export interface GeneAnnotation {
  /** Ensembl ids, one per distinct gene, in file order. */
  readonly genes: readonly string[];
  /** Symbol from the first row naming the gene ("" when the name has none). */
  readonly symbols: readonly string[];
  readonly chrom: readonly string[];
  /** TSS = (start + end) / 2 of the window. */
  readonly tss: Float64Array;
  /** Index into genes/chrom/tss for each Ensembl id. */
  readonly indexOf: ReadonlyMap<string, number>;
  readonly source: string;
}

const NAME = /^(ENSG\d{11})(?:\.\d+)?(?:_(.*))?$/;
const COORD = /^\d+$/;

/** Reads a TSS window file (plain or .gz) through `lines`. Throws DataError `file:line: what` on any bad row. */
export async function readGeneAnnotationWith(lines: ReadLines, file: string): Promise<GeneAnnotation> {
  const genes: string[] = [];
  const symbols: string[] = [];
  const chrom: string[] = [];
  const tss: number[] = [];
  const indexOf = new Map<string, number>();

  await forEachLineWith(lines, file, (line, n) => {
    const fields = line.split('\t');
    if (fields.length !== 4) throw new DataError(file, n, `${fields.length} tab-separated fields, expected 4 (chr start end ENSG_SYMBOL)`);
    const [chr, startText, endText, name] = fields as [string, string, string, string];
    if (chr === '') throw new DataError(file, n, 'empty chromosome');
    if (!COORD.test(startText)) throw new DataError(file, n, `start "${startText}" is not a non-negative integer`);
    if (!COORD.test(endText)) throw new DataError(file, n, `end "${endText}" is not a non-negative integer`);
    const start = Number(startText);
    const end = Number(endText);
    if (end <= start) throw new DataError(file, n, `end ${end} is not after start ${start}`);
    const m = NAME.exec(name);
    if (m === null) throw new DataError(file, n, `gene "${name}" is not ENSG + 11 digits (optionally _SYMBOL)`);
    const ensg = m[1]!;
    const centre = (start + end) / 2;
    const seen = indexOf.get(ensg);
    if (seen !== undefined) {
      if (chrom[seen] !== chr || tss[seen] !== centre) {
        throw new DataError(file, n, `${ensg} appears again at ${chr}:${centre}, first at ${chrom[seen]}:${tss[seen]}`);
      }
      return;
    }
    indexOf.set(ensg, genes.length);
    genes.push(ensg);
    symbols.push(m[2] ?? '');
    chrom.push(chr);
    tss.push(centre);
  });

  if (genes.length === 0) throw new DataError(file, undefined, 'no genes: the file is empty');
  return { genes, symbols, chrom, tss: Float64Array.from(tss), indexOf, source: file };
}
