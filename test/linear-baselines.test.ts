import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset.ts';
import type { ExpressionTable } from '../src/data/expressionTable.ts';
import type { Neighbors } from '../src/data/neighbors.ts';
import { expressionPriorBuilder, expressionPriorFeatures } from '../src/models/expressionPrior.ts';
import { logregNeighborsFeatures } from '../src/models/logregNeighbors.ts';
import { MODEL_NAMES, MODEL_REGISTRY, derivedFeatures, isLinear } from '../src/models/registry.ts';
import { tssBins, tssFeatureWidth, tssLinearFeatures, tssRadii, tssSummaryFeatures } from '../src/models/tssLinear.ts';

// The three linear baselines' feature builders against examples worked by hand.

/** window[g, i, m] = i² + 10·m + 100·g: a window mean over bins a..b is the mean of i² there, plus 10·m + 100·g. */
function squares(genes: number, bins: number, marks: number): Float32Array {
  const w = new Float32Array(genes * bins * marks);
  for (let g = 0; g < genes; g++) for (let i = 0; i < bins; i++) for (let m = 0; m < marks; m++) w[(g * bins + i) * marks + m] = i * i + 10 * m + 100 * g;
  return w;
}

function dataset(over: Partial<Dataset> & Pick<Dataset, 'genes' | 'bins' | 'features' | 'geneIds'>): Dataset {
  return {
    cell: 'B',
    marks: ['H3K27me3'],
    labels: new Uint8Array(over.genes),
    split: new Uint8Array(over.genes),
    source: ['hand-made'],
    ...over,
  };
}

describe('tss-linear: summaries of each mark centred on the TSS', () => {
  it('finds the TSS bin(s) and the widening windows on both real layouts', () => {
    // E116: 21 bins of 10 kb, TSS in bin 11 (index 10); the samples: 100 bins of 100 bp, TSS between 50 and 51.
    expect(tssBins(21)).toEqual([10, 10]);
    expect(tssRadii(21)).toEqual([1, 2, 5]);
    expect(tssBins(100)).toEqual([49, 50]);
    expect(tssRadii(100)).toEqual([5, 10, 25]);
    expect(tssRadii(200)).toEqual([10, 20, 50]);
    expect(tssFeatureWidth(21, 5)).toBe(25);
    expect(tssFeatureWidth(100, 5)).toBe(25);
  });

  it('computes the TSS, ±r and whole-window means of an odd window (7 bins, 3 marks, 2 genes)', () => {
    // h = 3: radii max(1, round(0.3)) = 1, round(0.6) = 1 (dropped), round(1.5) = 2. Ranges [3,3], [2,4], [1,5], [0,6].
    expect(tssRadii(7)).toEqual([1, 2]);
    const f = tssSummaryFeatures(squares(2, 7, 3), 2, 7, 3);
    const perMark = [9, 29 / 3, 11, 91 / 7];
    const expected: number[] = [];
    for (let g = 0; g < 2; g++) for (let m = 0; m < 3; m++) for (const v of perMark) expected.push(v + 10 * m + 100 * g);
    expect(f.length).toBe(2 * tssFeatureWidth(7, 3));
    expect(Array.from(f)).toEqual(expected.map(Math.fround));
  });

  it('computes them for an even window (6 bins): the TSS is the two centre bins', () => {
    // h = 2: every radius rounds to 1. Ranges [2,3], [1,4], [0,5].
    expect(tssBins(6)).toEqual([2, 3]);
    expect(tssRadii(6)).toEqual([1]);
    const f = tssSummaryFeatures(squares(1, 6, 2), 1, 6, 2);
    expect(Array.from(f)).toEqual([6.5, 7.5, 55 / 6, 16.5, 17.5, 10 + 55 / 6].map(Math.fround));
  });

  it('refuses a window whose length is not genes × bins × marks', () => {
    expect(() => tssSummaryFeatures(new Float32Array(10), 2, 3, 2)).toThrow('tss-linear: the window holds 10 values, 2 genes × 3 bins × 2 marks is 12');
  });

  it('builds its features from the dataset through the registry', async () => {
    const ds = dataset({ genes: 2, bins: 7, features: squares(2, 7, 1), geneIds: ['a', 'b'] });
    const d = await tssLinearFeatures({ ds });
    expect(d.width).toBe(4);
    expect(Array.from(d.features)).toEqual([9, 29 / 3, 11, 13, 109, 100 + 29 / 3, 111, 113].map(Math.fround));
    expect(derivedFeatures('tss-linear')).toBe(tssLinearFeatures);
  });
});

/** Four cells A–D; RPKM 9, 99, 999 give log10(x + 1) = 1, 2, 3, and the excluded cell B holds 99999 (5). */
function table(): ExpressionTable {
  const genes = ['ENSG00000000001', 'ENSG00000000002'];
  const rpkm = Float64Array.from([9, 99999, 99, 999, /* gene 2 */ 0, 99999, 0, 0]);
  return { cells: ['A', 'B', 'C', 'D'], genes, split: new Uint8Array(2), rpkm, rowOf: new Map(genes.map((g, i) => [g, i])), source: 'hand.csv' };
}

describe('expression-prior: mean and sd of log10(RPKM + 1) over the other cells', () => {
  it('leaves the run’s own cell out, and marks genes missing from the table', () => {
    // DeepChrome's numeric id 1 is ENSG00000000001; id 9 is not in the table; "foo" is no Ensembl id.
    const p = expressionPriorFeatures(['1', 'ENSG00000000002.4', 'ENSG00000000009', 'foo'], table(), 'B');
    expect(p.otherCells).toBe(3);
    expect(p.missing).toEqual(['ENSG00000000009', 'foo']);
    const f = Array.from(p.features);
    expect(f.slice(0, 3)).toEqual([2, Math.sqrt(2 / 3), 0].map(Math.fround));
    expect(f.slice(3)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 1]);
    // With B's own column the mean would be (1 + 5 + 2 + 3) / 4; leaving out A instead gives (5 + 2 + 3) / 3.
    expect(expressionPriorFeatures(['1'], table(), 'A').features[0]).toBeCloseTo(10 / 3, 6);
  });

  it('is an error for a cell the table does not hold, naming it and the table’s cells', () => {
    expect(() => expressionPriorFeatures(['1'], table(), 'E116')).toThrow(
      'expression-prior: cell "E116" is not in hand.csv (cells: A, B, C, D); its own column must be left out of the features, so the cell has to be one of the table\'s',
    );
  });

  it('counts the missing genes for metrics.json', async () => {
    const ds = dataset({ genes: 2, bins: 1, features: new Float32Array(2), geneIds: ['1', '7'] });
    const d = await expressionPriorBuilder({ ds, expressionTable: async () => table(), neighbors: () => Promise.reject(new Error('not read')) });
    expect(d.width).toBe(3);
    expect(d.counts).toEqual({ missingGenes: 1, otherCells: 3 });
  });
});

describe('logreg-neighbors: the window followed by the neighbours’ windows', () => {
  it('lays out own window, then each slot’s window in slot order, zeros for padding', async () => {
    // 3 genes × 2 bins × 1 mark; gene 0's neighbours are 2 then padding, gene 1's are 0 and 2, gene 2 has none.
    const features = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const n: Neighbors = {
      kind: 'functional',
      k: 2,
      width: 2,
      index: Int32Array.from([2, 0, 0, 2, 2, 2]),
      mask: Uint8Array.from([1, 0, 1, 1, 0, 0]),
      score: new Float64Array(6),
      unmatched: ['c'],
    };
    const ds = dataset({ genes: 3, bins: 2, features, geneIds: ['a', 'b', 'c'] });
    const d = await logregNeighborsFeatures({ ds, neighbors: async () => n, expressionTable: () => Promise.reject(new Error('not read')) });
    expect(d.width).toBe(6);
    expect(Array.from(d.features)).toEqual([1, 2, 5, 6, 0, 0, /* gene 1 */ 3, 4, 1, 2, 5, 6, /* gene 2 */ 5, 6, 0, 0, 0, 0]);
    expect(d.counts).toEqual({ neighborSlots: 2, genesWithoutNeighbors: 1 });
  });
});

describe('the registry', () => {
  it('marks logreg and the derived-feature models linear, every other model not', () => {
    expect(MODEL_NAMES.filter(isLinear)).toEqual(['logreg', 'tss-linear', 'expression-prior', 'logreg-neighbors', 'mark-means']);
    for (const m of MODEL_NAMES) expect(derivedFeatures(m) !== undefined, m).toBe(MODEL_REGISTRY[m].input === 'derived');
  });
});
