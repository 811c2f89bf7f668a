import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MARKS, SPLIT_CODES, type Dataset } from '../src/data/dataset.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';
import {
  applyNormalization,
  fitNormalization,
  NORMALIZATION_SCHEMES,
  normalizationToJson,
  parseNormalization,
  type NormalizationStats,
} from '../src/data/normalize.ts';

const SHARED = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const E003 = join(SHARED, 'derived_deepchrome_format', 'E003_sample600');

const NM = MARKS.length;

/** A dataset from per-gene rows of [bins][marks] values. */
function dataset(genes: number[][][], split: number[], binMask?: number[][]): Dataset {
  const bins = genes[0]!.length;
  return {
    cell: 'hand',
    genes: genes.length,
    bins,
    marks: MARKS,
    features: Float32Array.from(genes.flat(2)),
    labels: new Uint8Array(genes.length),
    split: Uint8Array.from(split),
    geneIds: genes.map((_, g) => String(100000 + g)),
    source: ['hand-built'],
    ...(binMask === undefined ? {} : { binMask: Uint8Array.from(binMask.flat()) }),
  };
}

/** value(gene, bin, mark) of a normalized dataset. */
const at = (ds: Dataset, g: number, b: number, m: number): number => ds.features[(g * ds.bins + b) * NM + m]!;

// Two training genes, one valid, one test; 2 bins; marks in MARKS order:
// H3K27me3 varies, H3K36me3 is all zero in training, H3K4me1 is constant 2,
// H3K4me3 and H3K9me3 vary.
const TRAIN = SPLIT_CODES.train;
const VALID = SPLIT_CODES.valid;
const TEST = SPLIT_CODES.test;
function handCase(): Dataset {
  return dataset(
    [
      [
        [1, 0, 2, 0, 4],
        [3, 0, 2, 8, 0],
      ],
      [
        [5, 0, 2, 2, 1],
        [7, 0, 2, 6, 3],
      ],
      [
        [9, 4, 7, 1, 1],
        [0, 0, 0, 0, 0],
      ],
      [
        [100, 3, 1, 16, 2],
        [2, 5, 2, 0, 8],
      ],
    ],
    [TRAIN, TRAIN, VALID, TEST],
  );
}

describe('normalization statistics, by hand', () => {
  it('max: the training maximum maps to 1 and 0 to −1; later values are not clipped', () => {
    const ds = handCase();
    const stats = fitNormalization(ds, 'max');
    expect(stats.max).toEqual([7, 0, 2, 8, 4]);
    expect(stats.trainGenes).toBe(2);
    expect(stats.trainValues).toEqual([4, 4, 4, 4, 4]);
    const out = applyNormalization(ds, stats);
    // H3K27me3: 2x/7 − 1.
    expect(at(out, 0, 0, 0)).toBe(Math.fround(-5 / 7));
    expect(at(out, 1, 1, 0)).toBe(1);
    expect(at(out, 3, 0, 0)).toBe(Math.fround(193 / 7)); // 2·100/7 − 1
    // H3K4me3, max 8: 0 → −1, 2 → −0.5, 6 → 0.5, 16 (test) → 3.
    expect([at(out, 0, 0, 3), at(out, 1, 0, 3), at(out, 1, 1, 3), at(out, 3, 0, 3)]).toEqual([-1, -0.5, 0.5, 3]);
    // H3K9me3, max 4: 1 → −0.5, 3 → 0.5.
    expect([at(out, 1, 0, 4), at(out, 1, 1, 4)]).toEqual([-0.5, 0.5]);
    // H3K36me3 is 0 in training: treated as max 1, so 0 → −1 and 4 → 7, not Inf.
    expect([at(out, 0, 0, 1), at(out, 2, 0, 1)]).toEqual([-1, 7]);
  });

  it('zscore: population mean and sd per mark; a constant mark is only centred', () => {
    const ds = handCase();
    const stats = fitNormalization(ds, 'zscore');
    // H3K27me3 training values 1, 3, 5, 7: mean 4, sd √5.
    expect(stats.mean[0]).toBe(4);
    expect(stats.sd[0]).toBeCloseTo(Math.sqrt(5), 15);
    // H3K4me3 0, 8, 2, 6: mean 4, sd √10.
    expect(stats.mean[3]).toBe(4);
    expect(stats.sd[3]).toBeCloseTo(Math.sqrt(10), 15);
    expect(stats.sd[2]).toBe(0);
    expect(stats.scale[2]).toBe(1);
    const out = applyNormalization(ds, stats);
    expect(at(out, 0, 0, 0)).toBe(Math.fround(-3 / Math.sqrt(5)));
    expect(at(out, 1, 1, 0)).toBe(Math.fround(3 / Math.sqrt(5)));
    expect(at(out, 3, 0, 3)).toBe(Math.fround(12 / Math.sqrt(10)));
    // Constant H3K4me1 (2 in training): 2 → 0, 7 → 5, 1 → −1.
    expect([at(out, 0, 0, 2), at(out, 2, 0, 2), at(out, 3, 0, 2)]).toEqual([0, 5, -1]);
    // All-zero H3K36me3: sd 0 too.
    expect([at(out, 0, 0, 1), at(out, 3, 1, 1)]).toEqual([0, 5]);
  });

  it('raw is the identity and log1p is log1p', () => {
    const ds = handCase();
    expect(applyNormalization(ds, fitNormalization(ds, 'raw')).features).toEqual(ds.features);
    const log = applyNormalization(ds, fitNormalization(ds, 'log1p'));
    expect(log.features).toEqual(ds.features.map((x) => Math.fround(Math.log1p(x))));
  });

  it('log1p-max and log1p-zscore fit on log1p values', () => {
    const ds = handCase();
    const max = fitNormalization(ds, 'log1p-max');
    expect(max.max[3]).toBe(Math.log1p(8));
    expect(at(applyNormalization(ds, max), 0, 1, 3)).toBe(1);
    const z = fitNormalization(ds, 'log1p-zscore');
    const v = [1, 3, 5, 7].map(Math.log1p);
    const mean = v.reduce((a, b) => a + b, 0) / 4;
    expect(z.mean[0]).toBeCloseTo(mean, 15);
    expect(z.sd[0]).toBeCloseTo(Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / 4), 15);
  });

  it('masked bins do not count and stay 0', () => {
    const mask = [
      [1, 0],
      [1, 1],
      [1, 1],
      [0, 1],
    ];
    const ds = handCase();
    const masked = dataset(
      [0, 1, 2, 3].map((g) => [0, 1].map((b) => MARKS.map((_, m) => at(ds, g, b, m)))),
      [TRAIN, TRAIN, VALID, TEST],
      mask,
    );
    // Gene 0 bin 1 is masked: H3K4me3 loses its 8, H3K27me3 its 3.
    const stats = fitNormalization(masked, 'max');
    expect(stats.max).toEqual([7, 0, 2, 6, 4]);
    expect(stats.trainValues).toEqual([3, 3, 3, 3, 3]);
    const z = fitNormalization(masked, 'zscore');
    expect(z.mean[0]).toBe(13 / 3);
    // A huge value under the mask changes nothing.
    const features = masked.features.slice();
    for (let m = 0; m < NM; m++) features[(0 * 2 + 1) * NM + m] = 1e6;
    expect(fitNormalization({ ...masked, features }, 'zscore')).toEqual(z);
    const out = applyNormalization({ ...masked, features }, stats);
    for (let m = 0; m < NM; m++) {
      expect(at(out, 0, 1, m)).toBe(0);
      expect(at(out, 3, 0, m)).toBe(0);
    }
  });

  it('every scheme stays finite when a mark is all zero or constant in training', () => {
    const ds = handCase();
    for (const scheme of NORMALIZATION_SCHEMES) {
      const out = applyNormalization(ds, fitNormalization(ds, scheme));
      expect(out.features.every(Number.isFinite), scheme).toBe(true);
    }
  });

  it('does not touch its input', () => {
    const ds = handCase();
    const before = ds.features.slice();
    const out = applyNormalization(ds, fitNormalization(ds, 'zscore'));
    expect(ds.features).toEqual(before);
    expect(out.features).not.toBe(ds.features);
    expect(out.labels).toBe(ds.labels);
    expect(out.geneIds).toBe(ds.geneIds);
  });
});

describe('normalization errors', () => {
  it('names the problem', () => {
    const ds = handCase();
    expect(() => fitNormalization({ ...ds, split: Uint8Array.from([1, 1, 2, 2]) }, 'max')).toThrow(
      'normalization of hand: no training genes (split code 0) to fit on',
    );
    expect(() => fitNormalization(ds, 'minmax' as never)).toThrow(/unknown normalization scheme "minmax"/);
    expect(() => fitNormalization({ ...ds, features: ds.features.slice(1) }, 'max')).toThrow(
      'dataset hand: features has 39 values, expected genes×bins×marks = 4×2×5',
    );
    const allMasked = { ...ds, binMask: Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]) };
    expect(() => fitNormalization(allMasked, 'zscore')).toThrow('normalization of hand: every training bin is masked');
    const negative = ds.features.slice();
    negative[0] = -2;
    expect(() => fitNormalization({ ...ds, features: negative }, 'log1p-max')).toThrow(
      'normalization of hand: training values of H3K27me3 are not all finite after log1p (a value below −1?)',
    );
    const stats = fitNormalization(ds, 'log1p');
    const later = ds.features.slice();
    later[(3 * 2 + 1) * NM + 4] = -3;
    expect(() => applyNormalization({ ...ds, features: later }, stats)).toThrow(
      'normalization (log1p) of hand: gene 100003 bin 2 H3K9me3 = -3 gives NaN',
    );
    const fewer = { ...stats, marks: MARKS.slice(0, 4) };
    expect(() => applyNormalization(ds, fewer)).toThrow(
      'normalization was fitted on marks [H3K27me3, H3K36me3, H3K4me1, H3K4me3], dataset hand has [H3K27me3, H3K36me3, H3K4me1, H3K4me3, H3K9me3]',
    );
  });
});

describe('JSON', () => {
  it('round-trips exactly and applies identically', () => {
    const ds = handCase();
    for (const scheme of NORMALIZATION_SCHEMES) {
      const stats = fitNormalization(ds, scheme);
      const back = parseNormalization(normalizationToJson(stats), 'stats.json');
      expect(back).toEqual(stats);
      expect(applyNormalization(ds, back).features).toEqual(applyNormalization(ds, stats).features);
    }
  });

  it('rejects damaged statistics with the file name', () => {
    const good = JSON.parse(normalizationToJson(fitNormalization(handCase(), 'zscore'))) as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>): string => JSON.stringify({ ...good, ...patch });
    const cases: Array<[string, string]> = [
      ['{', 'stats.json: not JSON'],
      ['[1]', 'stats.json: normalization statistics: expected a JSON object'],
      [bad({ scheme: 'minmax' }), 'stats.json: normalization statistics: scheme is "minmax", expected one of raw, log1p'],
      // Any mark names may be fitted (H3K27ac, DNase); each once, and names, not numbers.
      [bad({ marks: ['H3K27ac', 'H3K27ac', 'DNase', 'ATAC', 'H3K4me3'] }), 'stats.json: normalization statistics: marks is ["H3K27ac","H3K27ac","DNase","ATAC","H3K4me3"], expected a list of distinct mark names'],
      [bad({ marks: [1, 2, 3, 4, 5] }), 'stats.json: normalization statistics: marks is [1,2,3,4,5], expected a list of distinct mark names'],
      [bad({ marks: [] }), 'stats.json: normalization statistics: marks is [], expected a list of distinct mark names'],
      [bad({ scale: [1, 1, 0, 1, 1] }), 'stats.json: normalization statistics: scale has 0, expected a finite number > 0'],
      [bad({ center: [1, 1, 1] }), 'stats.json: normalization statistics: center must be a list of 5 numbers'],
      [bad({ mean: [1, null, 1, 1, 1] }), 'stats.json: normalization statistics: mean has null, expected a finite number'],
      [bad({ trainGenes: 0 }), 'stats.json: normalization statistics: trainGenes is 0, expected a positive integer'],
    ];
    for (const [text, message] of cases) expect(() => parseNormalization(text, 'stats.json')).toThrow(message);
  });
});

describe('only the training split shapes the statistics (real E003 sample)', () => {
  let real: Dataset;
  beforeAll(async () => {
    if (!existsSync(`${E003}.train.csv.gz`)) throw new Error(`real data missing: ${E003}.train.csv.gz (expected the shared datasets at ${SHARED})`);
    real = await readDeepChrome(E003);
  });

  it('changing every valid and test value leaves every scheme’s statistics unchanged', () => {
    const features = real.features.slice();
    const per = real.bins * NM;
    let changed = 0;
    for (let g = 0; g < real.genes; g++) {
      if (real.split[g] === TRAIN) continue;
      for (let i = g * per; i < (g + 1) * per; i++) features[i] = (i % 97) * 31 + 1000;
      changed++;
    }
    expect(changed).toBe(400);
    const altered = { ...real, features };
    for (const scheme of NORMALIZATION_SCHEMES) {
      const stats: NormalizationStats = fitNormalization(real, scheme);
      expect(fitNormalization(altered, scheme), scheme).toEqual(stats);
      expect(stats.trainGenes).toBe(200);
    }
    // …while a change in one training value does move them.
    const trainChange = real.features.slice();
    trainChange[NM * 5 + 3] = 5000;
    expect(fitNormalization({ ...real, features: trainChange }, 'max').max[3]).toBe(5000);
  });

  it('after zscore the training values of each mark have mean 0 and sd 1; after max they span [−1, 1]', () => {
    const z = applyNormalization(real, fitNormalization(real, 'zscore'));
    const mx = applyNormalization(real, fitNormalization(real, 'max'));
    for (let m = 0; m < NM; m++) {
      let n = 0;
      let sum = 0;
      let ss = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let g = 0; g < real.genes; g++) {
        if (real.split[g] !== TRAIN) continue;
        for (let b = 0; b < real.bins; b++) {
          const v = at(z, g, b, m);
          n++;
          sum += v;
          ss += v * v;
          lo = Math.min(lo, at(mx, g, b, m));
          hi = Math.max(hi, at(mx, g, b, m));
        }
      }
      expect(sum / n).toBeCloseTo(0, 5);
      expect(ss / n).toBeCloseTo(1, 4);
      expect([lo, hi]).toEqual([-1, 1]);
    }
  });
});
