import { existsSync } from 'node:fs';
import { SPLIT_CODES } from '../../src/data/dataset.ts';
import { loadCell } from '../../src/data/loadCell.ts';
import { applyNormalization, fitNormalization } from '../../src/data/normalize.ts';
import { epochOrder as wrappedOrder, seededRandom, uniformArray } from '../../src/util/random.ts';

// The genes a training benchmark feeds: the real Roadmap E003 sample when it
// is there (its training split, normalised as the CLI does), or random values
// of the same shape (100 bins × 5 marks), said so in `description`. Training
// throughput does not depend on the values, only on the shape and the count.

export interface BenchData {
  readonly description: string;
  readonly real: boolean;
  readonly genes: number;
  readonly bins: number;
  readonly marks: number;
  /** [genes, bins · marks], normalised. */
  readonly features: Float32Array;
  /** 0/1 per gene. */
  readonly labels: Float32Array;
  /** The genes an epoch passes over. */
  readonly train: Uint32Array;
}

export const REAL_SAMPLE_FILES = ['train', 'valid', 'test'].map((s) => `.${s}.csv.gz`);

export function hasRealSample(prefix: string): boolean {
  return REAL_SAMPLE_FILES.every((suffix) => existsSync(`${prefix}${suffix}`));
}

export async function realData(prefix: string): Promise<BenchData> {
  const { dataset } = await loadCell(prefix, { layout: 'deepchrome', cache: false });
  const ds = applyNormalization(dataset, fitNormalization(dataset, 'log1p-max'));
  const train = Uint32Array.from([...ds.split.keys()].filter((g) => ds.split[g] === SPLIT_CODES.train));
  return {
    description: `REAL ${ds.cell} (${prefix}): ${train.length} training genes of ${ds.genes}, ${ds.bins} bins × ${ds.marks.length} marks, log1p-max`,
    real: true,
    genes: ds.genes,
    bins: ds.bins,
    marks: ds.marks.length,
    features: ds.features,
    labels: Float32Array.from(ds.labels),
    train,
  };
}

export function syntheticData(genes: number, seed = 7, bins = 100, marks = 5): BenchData {
  if (!Number.isInteger(genes) || genes < 2) throw new Error(`synthetic bench data: genes must be an integer ≥ 2, got ${genes}`);
  const random = seededRandom(seed);
  const labels = Float32Array.from({ length: genes }, (_, g) => (g < 2 ? g : random() < 0.5 ? 1 : 0));
  return {
    description: `SYNTHETIC: ${genes} genes of uniform random values in [-1, 1], ${bins} bins × ${marks} marks${bins === 100 && marks === 5 ? " (the real data's shape)" : ''}`,
    real: false,
    genes,
    bins,
    marks,
    features: uniformArray(genes * bins * marks, seed + 1),
    labels,
    train: Uint32Array.from({ length: genes }, (_, g) => g),
  };
}

/** One epoch's order: the training genes shuffled, wrapped to whole batches. */
export function epochOrder(train: Uint32Array, batch: number, random: () => number): Uint32Array {
  return wrappedOrder(train, Math.ceil(train.length / batch) * batch, random);
}
