import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttentiveChrome, readExpression, thresholdValue } from '../src/data/attentiveChrome.ts';
import { MARKS, SPLIT_CODES, type Dataset, type Mark } from '../src/data/dataset.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';
import { readGcMerge } from '../src/data/gcmerge.ts';
import { readLines } from '../src/data/lineReader.ts';
import { loadCell } from '../src/data/loadCell.ts';

// Real data (../shared/datasets, see its README). Missing data fails this file; it never skips.
const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
if (!existsSync(join(DATA, 'README.md'))) {
  throw new Error(`real data not found at ${DATA}: the data-reader tests need ../shared/datasets (see its README.md)`);
}
const DERIVED = join(DATA, 'derived_deepchrome_format');
const RAW = join(DATA, 'raw_deepdiff_attentivechrome_sample');
const GCMERGE = join(DATA, 'gcmerge_E116');

const mark = (m: Mark): number => MARKS.indexOf(m);

function value(d: Dataset, gene: number, bin: number, m: Mark): number {
  return d.features[(gene * d.bins + bin) * d.marks.length + mark(m)] as number;
}

function perSplit(d: Dataset): { genes: number[]; positives: number[] } {
  const genes = [0, 0, 0];
  const positives = [0, 0, 0];
  for (let g = 0; g < d.genes; g++) {
    const s = d.split[g] as number;
    genes[s] = (genes[s] as number) + 1;
    positives[s] = (positives[s] as number) + (d.labels[g] as number);
  }
  return { genes, positives };
}

function positiveFractions(d: Dataset): number[] {
  const { genes, positives } = perSplit(d);
  return positives.map((p, i) => p / (genes[i] as number));
}

/** Index of the first differing element, -1 when equal (-2 when lengths differ); toEqual on large typed arrays is slow. */
function firstDifference(a: Float32Array | Uint8Array, b: Float32Array | Uint8Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Area under the ROC curve of `score` against 0/1 labels (ties count half). */
function auroc(score: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => (score[a] as number) - (score[b] as number));
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j < idx.length && score[idx[j] as number] === score[idx[i] as number]) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) {
      if (labels[idx[k] as number] === 1) {
        rankSumPos += rank;
        pos++;
      }
    }
    i = j;
  }
  const neg = idx.length - pos;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'simplechrome-readers-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('DeepChrome layout (derived_deepchrome_format)', () => {
  it('E003 sample: first row, shape, splits and positive fractions as documented', async () => {
    const d = await readDeepChrome(join(DERIVED, 'E003_sample600'));
    expect(d.cell).toBe('E003');
    expect(d.genes).toBe(600);
    expect(d.bins).toBe(100);
    expect(d.marks).toEqual(MARKS);
    expect(d.features.length).toBe(600 * 100 * 5);
    expect(d.geneIds[0]).toBe('130749');
    // 130749,1,1,0,4,4,1,1
    expect([...d.features.subarray(0, 5)]).toEqual([1, 0, 4, 4, 1]);
    expect(value(d, 0, 0, 'H3K4me1')).toBe(4);
    expect(d.labels[0]).toBe(1);
    // 130749,2,0,1,5,1,0,1
    expect([...d.features.subarray(5, 10)]).toEqual([0, 1, 5, 1, 0]);
    expect(perSplit(d).genes).toEqual([200, 200, 200]);
    expect(positiveFractions(d)).toEqual([0.64, 0.435, 0.565]);
    expect(d.binMask).toBeUndefined();
    expect(d.source).toEqual(['train', 'valid', 'test'].map((s) => join(DERIVED, `E003_sample600.${s}.csv.gz`)));
    expect(new Set(d.geneIds).size).toBe(600);
  });

  it('E123 sample: positive fractions 0.60, 0.46, 0.60', async () => {
    const d = await readDeepChrome(join(DERIVED, 'E123_sample600'));
    expect(d.cell).toBe('E123');
    expect(d.genes).toBe(600);
    expect(positiveFractions(d)).toEqual([0.6, 0.46, 0.6]);
  });

  it('a single split file, and explicit paths per split', async () => {
    const one = await readDeepChrome(join(DERIVED, 'E003_sample600.valid.csv.gz'));
    expect(one.genes).toBe(200);
    expect([...one.split].every((s) => s === SPLIT_CODES.valid)).toBe(true);
    const two = await readDeepChrome({ train: join(DERIVED, 'E003_sample600.train.csv.gz'), test: join(DERIVED, 'E003_sample600.test.csv.gz') });
    expect(two.genes).toBe(400);
    expect(perSplit(two).genes).toEqual([200, 0, 200]);
    const all = await readDeepChrome(join(DERIVED, 'E003_sample600'));
    expect(firstDifference(two.features.subarray(0, 200 * 500), all.features.subarray(0, 200 * 500))).toBe(-1);
    expect(firstDifference(two.features.subarray(200 * 500), all.features.subarray(400 * 500))).toBe(-1);
  });

  it('cell directories (classification/ and flat), gzip told apart by magic bytes, not names', async () => {
    const all = await readDeepChrome(join(DERIVED, 'E003_sample600'));
    const nested = join(tmp, 'E003', 'classification');
    const flat = join(tmp, 'flat');
    await mkdir(nested, { recursive: true });
    await mkdir(flat, { recursive: true });
    for (const s of ['train', 'valid', 'test']) {
      const gz = await readFile(join(DERIVED, `E003_sample600.${s}.csv.gz`));
      await writeFile(join(nested, `${s}.csv`), gunzipSync(gz));
      // Misnamed on purpose: gzip bytes under .csv and plain text under .csv.gz.
      if (s === 'valid') await writeFile(join(flat, `${s}.csv.gz`), gunzipSync(gz));
      else await writeFile(join(flat, `${s}.csv`), gz);
    }
    for (const dir of [join(tmp, 'E003'), nested, flat]) {
      const d = await readDeepChrome(dir);
      expect(d.genes).toBe(600);
      expect(firstDifference(d.features, all.features)).toBe(-1);
      expect(firstDifference(d.labels, all.labels)).toBe(-1);
      expect(firstDifference(d.split, all.split)).toBe(-1);
      expect(d.geneIds).toEqual(all.geneIds);
    }
    expect((await readDeepChrome(join(tmp, 'E003'))).cell).toBe('E003');
    expect((await readDeepChrome(nested)).cell).toBe('E003');
  });

  it('takes the number of bins from the data, decimals and CRLF included', async () => {
    const dir = join(tmp, 'bins3');
    await mkdir(dir, { recursive: true });
    const rows = (gene: string, label: number, base: number): string =>
      [1, 2, 3].map((b) => `${gene},${b},${base + b}.5,0,1e1,0.25,${b},${label}`).join('\r\n');
    await writeFile(join(dir, 'train.csv'), `${rows('7', 1, 0)}\r\n${rows('8', 0, 10)}\r\n`);
    await writeFile(join(dir, 'valid.csv'), gzipSync(`${rows('9', 1, 20)}\n`));
    await writeFile(join(dir, 'test.csv'), rows('10', 0, 30));
    const d = await readDeepChrome(dir);
    expect(d.bins).toBe(3);
    expect(d.genes).toBe(4);
    expect(d.geneIds).toEqual(['7', '8', '9', '10']);
    expect([...d.labels]).toEqual([1, 0, 1, 0]);
    expect([...d.split]).toEqual([0, 0, 1, 2]);
    expect([...d.features.subarray(0, 5)]).toEqual([1.5, 0, 10, 0.25, 1]);
    expect(value(d, 3, 2, 'H3K27me3')).toBe(33.5);
  });
});

describe('AttentiveChrome v2 / DeepDiffChrome layout (raw_deepdiff_attentivechrome_sample)', () => {
  it('Cell2 (E003): 200 bins, marks mapped by name, labels from the expression median', async () => {
    const d = await readAttentiveChrome(join(RAW, 'Cell2'));
    expect(d.cell).toBe('Cell2');
    expect(d.genes).toBe(600);
    expect(d.bins).toBe(200);
    expect(d.geneIds[0]).toBe('ENSG00000130749');
    // ENSG00000130749_ZC3H4_1,2,0,0,1,1 = H3K4me1,H3K4me3,H3K9me3,H3K27me3,H3K36me3
    expect(value(d, 0, 0, 'H3K4me1')).toBe(2);
    expect(value(d, 0, 0, 'H3K4me3')).toBe(0);
    expect(value(d, 0, 0, 'H3K9me3')).toBe(0);
    expect(value(d, 0, 0, 'H3K27me3')).toBe(1);
    expect(value(d, 0, 0, 'H3K36me3')).toBe(1);
    expect(perSplit(d).genes).toEqual([200, 200, 200]);
    // Median read count of Cell2.expr (19,795 genes) is 2431; label = count > median.
    const expr = await readExpression(join(RAW, 'Cell2.expr.csv.gz'));
    expect(expr.values.length).toBe(19795);
    expect(thresholdValue(expr.values, { quantile: 0.5 })).toBe(2431);
    expect(positiveFractions(d)).toEqual([0.61, 0.435, 0.615]);
    expect(d.source.at(-1)).toBe(join(RAW, 'Cell2.expr.csv.gz'));
  });

  it('Cell1 (E123): labels from its own median (1202)', async () => {
    const d = await readAttentiveChrome(join(RAW, 'Cell1'));
    expect(d.genes).toBe(600);
    expect(d.bins).toBe(200);
    expect(positiveFractions(d)).toEqual([0.575, 0.47, 0.615]);
    const byValue = await readAttentiveChrome(join(RAW, 'Cell1'), { threshold: { value: 1202 } });
    expect(firstDifference(byValue.labels, d.labels)).toBe(-1);
    const q90 = await readAttentiveChrome(join(RAW, 'Cell1'), { threshold: { quantile: 0.9 } });
    expect(q90.labels.reduce((a, b) => a + b, 0)).toBeLessThan(d.labels.reduce((a, b) => a + b, 0));
  });

  it('centralBins: 100 of Cell2 equals the derived E003 sample exactly; labels differ for 48 of 600 genes', async () => {
    // The derived sample was cut from these files (bins 51..150, columns reordered). Its H3K4me3 is
    // half of DeepChrome's own E003, not of these files: against Cell2 every value matches as is.
    // Labels differ because the derived sample thresholds RPKM (ShallowChrome's table) while
    // Cell2.expr holds raw read counts.
    const cell2 = await readAttentiveChrome(join(RAW, 'Cell2'), { centralBins: 100 });
    const e003 = await readDeepChrome(join(DERIVED, 'E003_sample600'));
    expect(cell2.bins).toBe(100);
    expect(cell2.geneIds.map((id) => id.slice(-6))).toEqual(e003.geneIds);
    expect(firstDifference(cell2.split, e003.split)).toBe(-1);
    expect(firstDifference(cell2.features, e003.features)).toBe(-1);
    let differ = 0;
    for (let g = 0; g < 600; g++) if (cell2.labels[g] !== e003.labels[g]) differ++;
    expect(differ).toBe(48);
    const full = await readAttentiveChrome(join(RAW, 'Cell2'));
    expect(value(cell2, 7, 0, 'H3K9me3')).toBe(value(full, 7, 50, 'H3K9me3'));
    expect(value(cell2, 7, 99, 'H3K27me3')).toBe(value(full, 7, 149, 'H3K27me3'));
  });

  it('centralBins: 100 of Cell1 equals the derived E123 sample exactly', async () => {
    const cell1 = await readAttentiveChrome(join(RAW, 'Cell1'), { centralBins: 100 });
    const e123 = await readDeepChrome(join(DERIVED, 'E123_sample600'));
    expect(cell1.geneIds.map((id) => id.slice(-6))).toEqual(e123.geneIds);
    expect(firstDifference(cell1.features, e123.features)).toBe(-1);
  });

  it('a header row naming the marks sets the column order', async () => {
    const text = gunzipSync(await readFile(join(RAW, 'Cell2.valid.csv.gz'))).toString('latin1');
    // Documented order H3K4me1,H3K4me3,H3K9me3,H3K27me3,H3K36me3 → written as MARKS order with a header.
    const reordered = text
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [id, k4me1, k4me3, k9me3, k27me3, k36me3] = line.split(',');
        return [id, k27me3, k36me3, k4me1, k4me3, k9me3].join(',');
      });
    const prefix = join(tmp, 'hdr');
    await writeFile(`${prefix}.valid.csv`, `gene_bin,${MARKS.join(',')}\n${reordered.join('\n')}\n`);
    await writeFile(`${prefix}.train.csv.gz`, await readFile(join(RAW, 'Cell2.train.csv.gz')));
    await writeFile(`${prefix}.test.csv.gz`, await readFile(join(RAW, 'Cell2.test.csv.gz')));
    await writeFile(`${prefix}.expr.csv.gz`, await readFile(join(RAW, 'Cell2.expr.csv.gz')));
    const withHeader = await readAttentiveChrome(prefix);
    const original = await readAttentiveChrome(join(RAW, 'Cell2'));
    expect(firstDifference(withHeader.features, original.features)).toBe(-1);
    expect(firstDifference(withHeader.labels, original.labels)).toBe(-1);
  });
});

describe('GC-MERGE genome-wide layout (gcmerge_E116)', () => {
  it('16,699 genes, 21-bin windows, 8,847 low / 7,852 high, split by chromosome', async () => {
    const d = await readGcMerge(GCMERGE);
    expect(d.cell).toBe('E116');
    expect(d.genes).toBe(16699);
    expect(d.bins).toBe(21);
    const high = d.labels.reduce((a, b) => a + b, 0);
    expect(high).toBe(7852);
    expect(d.genes - high).toBe(8847);
    // test = chr8, chr9, chr10 (646 + 707 + 690); valid = chr11, chr12 (1116 + 906).
    expect(perSplit(d).genes).toEqual([12634, 2022, 2043]);
    expect(perSplit(d).positives).toEqual([6069, 845, 938]);
    // OR4F5: node 6 on chr1; its TSS bin (window centre) holds H3K4me3 3, H3K4me1 3, H3K36me3 1, H3K9me3 3, H3K27me3 10.
    expect(d.geneIds[1]).toBe('ENSG00000186092');
    expect([...d.features.subarray((1 * 21 + 10) * 5, (1 * 21 + 11) * 5)]).toEqual([10, 1, 3, 3, 3]);
  });

  it('masks bins past a chromosome edge and fills them with zeros', async () => {
    const d = await readGcMerge(GCMERGE);
    const mask = d.binMask;
    expect(mask).toBeDefined();
    if (mask === undefined) return;
    // FAM138A: node 3, the 4th bin of chr1: window rows -7..13, so its first 7 bins are off the chromosome.
    expect([...mask.subarray(0, 21)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect([...d.features.subarray(0, 7 * 5)].every((v) => v === 0)).toBe(true);
    let masked = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0) {
        masked++;
        for (let k = 0; k < 5; k++) expect(d.features[i * 5 + k]).toBe(0);
      }
    }
    expect(masked).toBe(269);
  });

  it("H3K4me3 of the TSS bin alone ranks genes with AUROC 0.887, as the README's check", async () => {
    const d = await readGcMerge(GCMERGE);
    const score = new Float64Array(d.genes);
    for (let g = 0; g < d.genes; g++) score[g] = value(d, g, 10, 'H3K4me3');
    expect(auroc(score, d.labels)).toBeCloseTo(0.887, 3);
  });

  it('flank and held-out chromosomes are options', async () => {
    const d = await readGcMerge(GCMERGE, { flank: 2, testChromosomes: ['chr1'], validChromosomes: [] });
    expect(d.bins).toBe(5);
    expect(perSplit(d).genes).toEqual([16699 - 1808, 0, 1808]);
    const wide = await readGcMerge(GCMERGE);
    for (const g of [0, 500, 16698]) {
      expect([...d.features.subarray((g * 5 + 2) * 5, (g * 5 + 3) * 5)]).toEqual([...wide.features.subarray((g * 21 + 10) * 5, (g * 21 + 11) * 5)]);
    }
    await expect(readGcMerge(GCMERGE, { testChromosomes: ['chr8'], validChromosomes: ['chr8'] })).rejects.toThrow('chromosome chr8 listed as both test and valid');
    await expect(readGcMerge(GCMERGE, { testChromosomes: ['chrX'] })).rejects.toThrow('testChromosomes: no genes on chrX');
  });
});

describe('loadCell detects each layout', () => {
  it.each([
    [join(DERIVED, 'E003_sample600'), 'deepchrome', 600, 100],
    [join(DERIVED, 'E123_sample600.test.csv.gz'), 'deepchrome', 200, 100],
    [join(RAW, 'Cell2'), 'attentivechrome', 600, 200],
    [join(RAW, 'Cell1.train.csv.gz'), 'attentivechrome', 200, 200],
    [GCMERGE, 'gcmerge', 16699, 21],
    [join(GCMERGE, 'gcmerge_E116_hmods_10kb_bins.csv.gz'), 'gcmerge', 16699, 21],
  ])('%s → %s', async (path, layout, genes, bins) => {
    const r = await loadCell(path, { cache: false });
    expect(r.layout).toBe(layout);
    expect(r.dataset.genes).toBe(genes);
    expect(r.dataset.bins).toBe(bins);
    expect(r.cache).toEqual({ used: false, status: 'off' });
  });

  it('passes reader options through (centralBins)', async () => {
    const r = await loadCell(join(RAW, 'Cell2'), { cache: false, centralBins: 100 });
    expect(r.dataset.bins).toBe(100);
  });
});

describe('line reader', () => {
  it('streams a gzip file in bounded chunks and counts its lines', async () => {
    let lines = 0;
    let longest = 0;
    const stats = await readLines(join(GCMERGE, 'gcmerge_E116_hmods_10kb_bins.csv.gz'), (cur) => {
      lines++;
      longest = Math.max(longest, cur.lineText().length);
    });
    expect(lines).toBe(279607);
    expect(stats.lines).toBe(279607);
    expect(stats.gzip).toBe(true);
    expect(stats.textBytes).toBeGreaterThan(stats.fileBytes);
    expect(longest).toBeLessThan(100);
  });
});
