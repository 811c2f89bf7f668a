import { type Dataset, SPLIT_CODES } from '../data/dataset.ts';
import { seededRandom, shuffleInPlace } from '../util/random.ts';
import { SettingError } from './runFlags.ts';
import type { Target } from './target.ts';
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

/** Labeled training genes, of the training split's; a train size larger than the split is refused rather than
 * clamped unseen. `setting` names it as the caller's user gives it (--train-size, trainSize). */
export function labeledCount(size: number | undefined, ds: Dataset, setting: string): { labeled: number; training: number } {
  const train = ds.split.filter((c) => c === SPLIT_CODES.train).length;
  if (size !== undefined && size > train) {
    throw new SettingError(`${setting} ${size}: ${ds.cell} has only ${train} training genes; give ${train} or fewer, or ${setting} all`);
  }
  return { labeled: size ?? train, training: train };
}

/** Regression needs spread among each split's targets: with one value for every gene, Pearson is undefined. */
export function requireSpread(what: string, genes: Uint32Array, values: ArrayLike<number>): void {
  const first = values[genes[0] as number];
  for (const g of genes) if (values[g] !== first) return;
  throw new Error(`${what}: all ${genes.length} genes have log10(RPKM + 1) = ${first}; need differing expression`);
}

/** The values a run of `target` trains towards: the labels, or log10(RPKM + 1) (read when --target expression loads the data). */
export function observedValues(ds: Dataset, target: Target): ArrayLike<number> {
  if (target === 'class') return ds.labels;
  if (!ds.expression) throw new Error(`${ds.cell}: --target expression, but no expression values were read for this dataset`);
  return ds.expression;
}

/** Every split must hold both classes, or spread in expression, for its scores to mean anything. */
export function requireScorable(ds: Dataset, target: Target, split: SplitIndices, observed: ArrayLike<number>): void {
  const check = target === 'class' ? requireBothClasses : requireSpread;
  check(`${ds.cell} labeled training genes`, split.train, observed);
  check(`${ds.cell} validation genes`, split.valid, observed);
  check(`${ds.cell} test genes`, split.test, observed);
}

/** Both classes must appear among the labeled genes, or no metric or early stopping means anything. */
export function requireBothClasses(what: string, genes: Uint32Array, labels: ArrayLike<number>): void {
  let pos = 0;
  for (const g of genes) pos += labels[g] as number;
  if (pos === 0 || pos === genes.length) {
    throw new Error(`${what}: all ${genes.length} genes have label ${pos === 0 ? 0 : 1}; need both classes`);
  }
}
