import { type Dataset, SPLIT_CODES } from '../data/dataset.ts';
import { seededRandom, shuffleInPlace } from '../util/random.ts';
import type { SplitIndices } from './trainClassifier.ts';

// Which genes each run trains, selects and tests on. The small-data
// experiment labels only N training genes: a seeded random subset, the same
// for every model at a given seed, so models are compared on identical genes.

export function splitIndices(ds: Dataset): SplitIndices {
  const pick = (code: number) => Uint32Array.from([...ds.split.keys()].filter((g) => ds.split[g] === code));
  return { train: pick(SPLIT_CODES.train), valid: pick(SPLIT_CODES.valid), test: pick(SPLIT_CODES.test) };
}

/** The first `size` genes of a seeded shuffle of `train`, in ascending order; all when size is undefined. */
export function labeledSubset(train: Uint32Array, size: number | undefined, seed: number): Uint32Array {
  if (size === undefined || size >= train.length) return train;
  const perm = shuffleInPlace(Uint32Array.from(train), seededRandom(seed ^ 0x1abe1));
  return perm.subarray(0, size).sort();
}

/** Both classes must appear among the labeled genes, or no metric or early stopping means anything. */
export function requireBothClasses(what: string, genes: Uint32Array, labels: ArrayLike<number>): void {
  let pos = 0;
  for (const g of genes) pos += labels[g] as number;
  if (pos === 0 || pos === genes.length) {
    throw new Error(`${what}: all ${genes.length} genes have label ${pos === 0 ? 0 : 1}; need both classes`);
  }
}
