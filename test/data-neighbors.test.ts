import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';
import { expressionColumn, readExpressionTable, type ExpressionTable } from '../src/data/expressionTable.ts';
import { readGeneAnnotation, type GeneAnnotation } from '../src/data/geneAnnotation.ts';
import { functionalNeighbors, spatialNeighbors, toEnsemblId, type Neighbors } from '../src/data/neighbors.ts';

// Real data, read in place from ../shared/datasets (never copied). Missing data
// is a failure, not a skip.
const SHARED = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const TABLES = join(SHARED, 'labels_rpkm_shallowchrome');
const RPKM = join(TABLES, 'rpkm_19802genes_x_56cells.csv.gz');
const WINDOWS = join(TABLES, 'GeneFile_tss_windows.txt.gz');
const E003 = join(SHARED, 'derived_deepchrome_format', 'E003_sample600');

let table: ExpressionTable;
let annotation: GeneAnnotation;
let sample: Dataset;
let scratch: string;

beforeAll(async () => {
  for (const f of [RPKM, WINDOWS, `${E003}.train.csv.gz`]) {
    if (!existsSync(f)) throw new Error(`real data missing: ${f} (expected the shared datasets at ${SHARED})`);
  }
  [table, annotation, sample] = await Promise.all([readExpressionTable(RPKM), readGeneAnnotation(WINDOWS), readDeepChrome(E003)]);
  scratch = await mkdtemp(join(tmpdir(), 'simplechrome-neighbors-'));
});

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

/** The neighbors of dataset row `row` as Ensembl ids, "-" for padding. */
function slots(nb: Neighbors, ids: readonly string[], row: number): string[] {
  const out: string[] = [];
  for (let s = 0; s < nb.width; s++) {
    const o = row * nb.width + s;
    out.push(nb.mask[o] === 1 ? toEnsemblId(ids[nb.index[o]!]!)! : '-');
  }
  return out;
}

function rowOfGene(ids: readonly string[], ensg: string): number {
  const row = ids.findIndex((id) => toEnsemblId(id) === ensg);
  expect(row, ensg).toBeGreaterThanOrEqual(0);
  return row;
}

async function writeScratch(name: string, text: string): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, text);
  return path;
}

describe('toEnsemblId', () => {
  it('maps DeepChrome six-digit ids and Ensembl ids with versions or symbols', () => {
    expect(toEnsemblId('130749')).toBe('ENSG00000130749');
    expect(toEnsemblId('000003')).toBe('ENSG00000000003');
    expect(toEnsemblId('3')).toBe('ENSG00000000003');
    expect(toEnsemblId('ENSG00000130749')).toBe('ENSG00000130749');
    expect(toEnsemblId('ENSG00000130749.12')).toBe('ENSG00000130749');
    expect(toEnsemblId('ENSG00000130749_ZC3H4')).toBe('ENSG00000130749');
    expect(toEnsemblId('ENSG000001307490')).toBeUndefined();
    expect(toEnsemblId('1234567')).toBeUndefined();
    expect(toEnsemblId('TP53')).toBeUndefined();
  });
});

describe('the real tables', () => {
  it('expression table: 19,802 rows × 56 cells, DeepChrome block split, duplicates kept', () => {
    expect(table.cells.length).toBe(56);
    expect(table.cells[0]).toBe('E003');
    expect(table.cells[55]).toBe('E128');
    expect(table.genes.length).toBe(19_802);
    expect(table.rowOf.size).toBe(19_795);
    expect(Array.from(table.split.slice(0, 6601)).every((s) => s === 0)).toBe(true);
    expect(table.split[6601]).toBe(1);
    expect(table.split[19_801]).toBe(2);
    const g = table.rowOf.get('ENSG00000000003')!;
    expect(table.rpkm[g * 56]).toBe(43.985);
    expect(table.rpkm[g * 56 + 1]).toBe(37.413);
    expect(expressionColumn(table, 'E004')[g]).toBe(37.413);
    expect(() => expressionColumn(table, 'E999')).toThrow(/has no cell "E999"/);
  });

  it('annotation: TSS is the middle of the ±10 kb window', () => {
    expect(annotation.genes.length).toBe(19_795);
    const i = annotation.indexOf.get('ENSG00000000003')!;
    expect(annotation.chrom[i]).toBe('chrX');
    expect(annotation.tss[i]).toBe(99_894_988); // (99884988 + 99904988) / 2
    expect(annotation.symbols[i]).toBe('TSPAN6');
    // Listed twice with two symbols at one position: the first row wins.
    expect(annotation.symbols[annotation.indexOf.get('ENSG00000062370')!]).toBe('ZFP112');
  });
});

describe('spatial neighbors on the E003 sample', () => {
  const k = 2;

  it('matches neighbors worked out by hand from the annotation file', () => {
    const nb = spatialNeighbors(sample.geneIds, annotation, k);
    expect(nb.width).toBe(4);
    expect(nb.unmatched).toEqual([]);
    // chr13 holds four sample genes: 197168 @52703214, 005812 @77601330, 005810 @77901185, 197595 @113301358.
    const r = rowOfGene(sample.geneIds, 'ENSG00000005812');
    expect(slots(nb, sample.geneIds, r)).toEqual(['-', 'ENSG00000197168', 'ENSG00000005810', 'ENSG00000197595']);
    expect(Array.from(nb.score.slice(r * 4, r * 4 + 4))).toEqual([0, 77_601_330 - 52_703_214, 77_901_185 - 77_601_330, 113_301_358 - 77_601_330]);
    // chr22: 131100, 196934, 197077, 197182, 130943 in TSS order.
    expect(slots(nb, sample.geneIds, rowOfGene(sample.geneIds, 'ENSG00000197077'))).toEqual([
      'ENSG00000131100',
      'ENSG00000196934',
      'ENSG00000197182',
      'ENSG00000130943',
    ]);
    // chr21 has only two sample genes: padding on both sides, masked, pointing at the gene itself.
    const c21 = rowOfGene(sample.geneIds, 'ENSG00000197683');
    expect(slots(nb, sample.geneIds, c21)).toEqual(['-', '-', 'ENSG00000197381', '-']);
    expect(Array.from(nb.index.slice(c21 * 4, c21 * 4 + 4))).toEqual([c21, c21, rowOfGene(sample.geneIds, 'ENSG00000197381'), c21]);
    expect(Array.from(nb.mask.slice(c21 * 4, c21 * 4 + 4))).toEqual([0, 0, 1, 0]);
  });

  it('every neighbor is on the same chromosome, and the nearest by TSS on its side', () => {
    const nb = spatialNeighbors(sample.geneIds, annotation, k);
    const pos = sample.geneIds.map((id) => annotation.indexOf.get(toEnsemblId(id)!)!);
    let padded = 0;
    for (let g = 0; g < sample.genes; g++) {
      const chr = annotation.chrom[pos[g]!];
      const tss = annotation.tss[pos[g]!]!;
      const left: Array<{ h: number; t: number }> = [];
      const right: Array<{ h: number; t: number }> = [];
      for (let h = 0; h < sample.genes; h++) {
        if (h === g || annotation.chrom[pos[h]!] !== chr) continue;
        const t = annotation.tss[pos[h]!]!;
        expect(t, 'no ties in this sample').not.toBe(tss);
        (t < tss ? left : right).push({ h, t });
      }
      left.sort((a, b) => b.t - a.t);
      right.sort((a, b) => a.t - b.t);
      for (let d = 1; d <= k; d++) {
        const ls = g * 2 * k + k - d;
        const rs = g * 2 * k + k - 1 + d;
        expect(nb.mask[ls]).toBe(d <= left.length ? 1 : 0);
        expect(nb.mask[rs]).toBe(d <= right.length ? 1 : 0);
        expect(nb.index[ls]).toBe(d <= left.length ? left[d - 1]!.h : g);
        expect(nb.index[rs]).toBe(d <= right.length ? right[d - 1]!.h : g);
        if (d > left.length) padded++;
        if (d > right.length) padded++;
      }
    }
    // Two ends per chromosome, k slots each, less chromosomes with fewer than k genes.
    expect(padded).toBeGreaterThanOrEqual(2 * k * 20);
  });

  it('masks genes missing from the annotation and never pairs a gene with its own duplicate', () => {
    const ids = ['130749', 'ENSG00000130749_ZC3H4', '999999', '130751', 'notagene'];
    const nb = spatialNeighbors(ids, annotation, 1);
    expect(nb.unmatched).toEqual(['notagene', '999999']);
    expect(slots(nb, ids, 2)).toEqual(['-', '-']);
    expect(slots(nb, ids, 4)).toEqual(['-', '-']);
    for (const row of [0, 1]) {
      for (let s = 0; s < 2; s++) {
        if (nb.mask[row * 2 + s] === 1) expect(toEnsemblId(ids[nb.index[row * 2 + s]!]!)).not.toBe('ENSG00000130749');
      }
    }
    // Both rows of the duplicated gene get the same neighbors.
    expect(slots(nb, ids, 1)).toEqual(slots(nb, ids, 0));
  });

  it('rejects a bad k', () => {
    expect(() => spatialNeighbors(sample.geneIds, annotation, 0)).toThrow('neighbors: k must be a positive integer, got 0');
  });
});

describe('functional neighbors on the E003 sample', () => {
  const k = 5;
  const others = (): number[] => table.cells.map((_, c) => c).filter((c) => table.cells[c] !== 'E003');

  function pearsonByHand(a: number, b: number, cols: readonly number[], rank: boolean): number {
    const series = (row: number): number[] => {
      const v = cols.map((c) => Math.log1p(table.rpkm[row * table.cells.length + c]!));
      if (!rank) return v;
      const sorted = [...v].sort((x, y) => x - y);
      return v.map((x) => {
        const first = sorted.indexOf(x);
        const last = sorted.lastIndexOf(x);
        return (first + last) / 2 + 1;
      });
    };
    const x = series(a);
    const y = series(b);
    const mx = x.reduce((s, v) => s + v, 0) / x.length;
    const my = y.reduce((s, v) => s + v, 0) / y.length;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < x.length; i++) {
      sxy += (x[i]! - mx) * (y[i]! - my);
      sxx += (x[i]! - mx) ** 2;
      syy += (y[i]! - my) ** 2;
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  for (const method of ['pearson', 'spearman'] as const) {
    it(`${method}: the top k by a plain two-pass correlation over the other 55 cells, self excluded`, () => {
      const nb = functionalNeighbors(sample.geneIds, table, { k, targetCell: 'E003', method });
      expect(nb.width).toBe(k);
      const tableRow = sample.geneIds.map((id) => table.rowOf.get(toEnsemblId(id)!)!);
      const cols = others();
      expect(cols.length).toBe(55);
      for (const g of [0, 17, 250, 599]) {
        const scored = [];
        for (let h = 0; h < sample.genes; h++) {
          const r = pearsonByHand(tableRow[g]!, tableRow[h]!, cols, method === 'spearman');
          // NaN: h is not expressed in any of the 55 cells, so it has no correlation.
          if (h !== g && !Number.isNaN(r)) scored.push({ h, r });
        }
        scored.sort((a, b) => b.r - a.r || a.h - b.h);
        for (let s = 0; s < k; s++) {
          expect(nb.mask[g * k + s]).toBe(1);
          expect(nb.index[g * k + s]).toBe(scored[s]!.h);
          expect(nb.score[g * k + s]).toBeCloseTo(scored[s]!.r, 12);
        }
      }
      // Genes with no expression in any of the other cells have no correlation: all slots masked.
      const silent = sample.geneIds.filter((_, g) => cols.every((c) => table.rpkm[tableRow[g]! * table.cells.length + c] === 0));
      expect(silent.length).toBeGreaterThan(0);
      expect([...nb.unmatched].sort()).toEqual([...silent].sort());
      for (let g = 0; g < sample.genes; g++) {
        const masked = silent.includes(sample.geneIds[g]!);
        for (let s = 0; s < k; s++) expect(nb.mask[g * k + s]).toBe(masked ? 0 : 1);
        for (let s = 0; s < k; s++) if (!masked) expect(nb.index[g * k + s]).not.toBe(g);
        for (let s = 1; s < k; s++) expect(nb.score[g * k + s]!).toBeLessThanOrEqual(nb.score[g * k + s - 1]!);
      }
    });
  }

  it('the target cell column cannot influence the neighbors; another column does', () => {
    const base = functionalNeighbors(sample.geneIds, table, { k, targetCell: 'E003' });
    const nc = table.cells.length;
    const scramble = (cell: string): ExpressionTable => {
      const c = table.cells.indexOf(cell);
      const rpkm = table.rpkm.slice();
      for (let g = 0; g < table.genes.length; g++) rpkm[g * nc + c] = ((g * 7919) % 1000) / 3;
      return { ...table, rpkm };
    };
    const sameTarget = functionalNeighbors(sample.geneIds, scramble('E003'), { k, targetCell: 'E003' });
    expect(sameTarget.index).toEqual(base.index);
    expect(sameTarget.mask).toEqual(base.mask);
    expect(sameTarget.score).toEqual(base.score);
    const otherCell = functionalNeighbors(sample.geneIds, scramble('E004'), { k, targetCell: 'E003' });
    expect(otherCell.index).not.toEqual(base.index);
    // Using every column (allowed only when asked for) also differs: the E003 column counts then.
    const all = functionalNeighbors(sample.geneIds, table, { k, targetCell: null });
    expect(all.index).not.toEqual(base.index);
  });

  it('masks genes that are missing or constant and pads when fewer than k candidates exist', () => {
    const nc = table.cells.length;
    const rpkm = table.rpkm.slice();
    const flat = table.rowOf.get('ENSG00000130751')!;
    for (let c = 0; c < nc; c++) rpkm[flat * nc + c] = c === 0 ? 50 : 2; // constant once E003 is dropped
    const ids = ['130749', '130751', 'ENSG00000130755', '999999', '130749'];
    const nb = functionalNeighbors(ids, { ...table, rpkm }, { k: 3, targetCell: 'E003' });
    expect([...nb.unmatched].sort()).toEqual(['130751', '999999']);
    for (const row of [1, 3]) expect(Array.from(nb.mask.slice(row * 3, row * 3 + 3))).toEqual([0, 0, 0]);
    // 130749 (listed twice) has one real candidate, 130755: one slot, the rest padded with its own row.
    expect(slots(nb, ids, 0)).toEqual(['ENSG00000130755', '-', '-']);
    expect(slots(nb, ids, 4)).toEqual(['ENSG00000130755', '-', '-']);
    expect(Array.from(nb.index.slice(12, 15))).toEqual([2, 4, 4]);
    expect(slots(nb, ids, 2)).toEqual(['ENSG00000130749', '-', '-']);
  });

  it('rejects an unknown target cell and a bad k', () => {
    expect(() => functionalNeighbors(sample.geneIds, table, { k, targetCell: 'E999' })).toThrow(
      /target cell "E999" is not in .*rpkm_19802genes_x_56cells\.csv\.gz .*pass targetCell: null/,
    );
    expect(() => functionalNeighbors(sample.geneIds, table, { k: 1.5, targetCell: 'E003' })).toThrow(
      'neighbors: k must be a positive integer, got 1.5',
    );
  });
});

describe('table readers reject bad rows with file:line', () => {
  const header = 'ensg,geneid6,deepchrome_split,E003,E004';
  const good = 'ENSG00000000003,000003,train,1.5,2';
  const cases: Array<[string, string, RegExp]> = [
    ['header', 'gene,geneid6,deepchrome_split,E003', /:1: header column 1 is "gene", expected "ensg"$/],
    ['no cells', 'ensg,geneid6,deepchrome_split', /:1: header names no cell columns$/],
    ['twice', 'ensg,geneid6,deepchrome_split,E003,E003', /:1: header names cell "E003" twice$/],
    ['columns', `${header}\n${good}\nENSG00000000005,000005,train,1`, /:3: 4 columns, header has 5$/],
    ['ensg', `${header}\nENSG3,000003,train,1,2`, /:2: gene "ENSG3" is not an Ensembl id \(ENSG \+ 11 digits\)$/],
    ['geneid6', `${header}\nENSG00000000003,000004,train,1,2`, /:2: geneid6 "000004" is not the last 6 digits of ENSG00000000003$/],
    ['split', `${header}\nENSG00000000003,000003,training,1,2`, /:2: deepchrome_split is "training", expected train, valid or test$/],
    ['negative', `${header}\nENSG00000000003,000003,train,1,-2`, /:2: E004 is "-2", expected a non-negative number$/],
    ['empty value', `${header}\nENSG00000000003,000003,train,,2`, /:2: E003 is "", expected a non-negative number$/],
    ['text value', `${header}\nENSG00000000003,000003,train,NA,2`, /:2: E003 is "NA", expected a non-negative number$/],
    ['duplicate', `${header}\n${good}\nENSG00000000003,000003,train,1.5,3`, /:3: ENSG00000000003 appears again \(row 1\) with a different E004$/],
    ['header only', header, /: no gene rows after the header$/],
  ];
  for (const [name, text, message] of cases) {
    it(`expression table: ${name}`, async () => {
      const path = await writeScratch(`rpkm-${name.replace(/ /g, '-')}.csv`, `${text}\n`);
      await expect(readExpressionTable(path)).rejects.toThrow(message);
      await expect(readExpressionTable(path)).rejects.toThrow(path);
    });
  }

  it('expression table: duplicates with equal numbers are kept, the first row is the id’s row', async () => {
    const path = await writeScratch('rpkm-dup.csv', `${header}\n${good}\n${good}\nENSG00000000005,000005,test,0,0\n`);
    const t = await readExpressionTable(path);
    expect(t.genes).toEqual(['ENSG00000000003', 'ENSG00000000003', 'ENSG00000000005']);
    expect(t.rowOf.get('ENSG00000000003')).toBe(0);
    expect(Array.from(t.split)).toEqual([0, 0, 2]);
  });

  const windows: Array<[string, string, RegExp]> = [
    ['fields', 'chr1\t100\t200', /:1: 3 tab-separated fields, expected 4 \(chr start end ENSG_SYMBOL\)$/],
    ['spaces', 'chr1 100 200 ENSG00000000003_TSPAN6', /:1: 1 tab-separated fields, expected 4/],
    ['start', 'chr1\t-5\t200\tENSG00000000003_A', /:1: start "-5" is not a non-negative integer$/],
    ['end', 'chr1\t100\t2e5\tENSG00000000003_A', /:1: end "2e5" is not a non-negative integer$/],
    ['order', 'chr1\t300\t200\tENSG00000000003_A', /:1: end 200 is not after start 300$/],
    ['name', 'chr1\t100\t200\tTSPAN6', /:1: gene "TSPAN6" is not ENSG \+ 11 digits \(optionally _SYMBOL\)$/],
    ['chrom', '\t100\t200\tENSG00000000003_A', /:1: empty chromosome$/],
    [
      'moved',
      'chr1\t100\t200\tENSG00000000003_A\nchr2\t100\t200\tENSG00000000005_B\nchr1\t500\t700\tENSG00000000003_C',
      /:3: ENSG00000000003 appears again at chr1:600, first at chr1:150$/,
    ],
  ];
  for (const [name, text, message] of windows) {
    it(`annotation: ${name}`, async () => {
      const path = await writeScratch(`windows-${name}.txt`, `${text}\n`);
      await expect(readGeneAnnotation(path)).rejects.toThrow(message);
      await expect(readGeneAnnotation(path)).rejects.toThrow(path);
    });
  }

  it('missing files name the path', async () => {
    await expect(readExpressionTable(join(scratch, 'nope.csv.gz'))).rejects.toThrow(/nope\.csv\.gz: cannot open: no such file/);
    await expect(readGeneAnnotation(join(scratch, 'nope.txt'))).rejects.toThrow(/nope\.txt: cannot open: no such file/);
  });
});
