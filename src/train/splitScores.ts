import { type Dataset, SPLITS, type Split } from '../data/dataset.ts';
import { splitIndices } from './prepare.ts';
import { type Scores, type Target, scoresFor } from './target.ts';

// A trained model's scores on each split of a cell, and on all its genes:
// what `predict` reports. One number over every gene would mix, on the cell a
// model trained on, the genes it fit with those it never saw. Each split is
// scored as training scores it (scoresFor on the raw outputs, genes in dataset
// order), so the test row of a run's own data is the run's test score.

export interface SplitScore {
  /** A split of the data, or 'all' for every gene (given only when the data has more than one split). */
  readonly split: Split | 'all';
  readonly genes: number;
  /** Absent when these genes cannot be scored; `why` then says why. */
  readonly scores?: Scores;
  readonly why?: string;
}

/** `observed` and `outputs` are per gene of `ds` (labels or log10(RPKM + 1); logits or predicted log10(RPKM + 1)). */
export function scoresBySplit(target: Target, ds: Dataset, observed: ArrayLike<number>, outputs: ArrayLike<number>): SplitScore[] {
  const indices = splitIndices(ds);
  const present = SPLITS.filter((s) => indices[s].length > 0).map((s) => ({ split: s as Split | 'all', genes: indices[s] }));
  if (present.length > 1) present.push({ split: 'all', genes: Uint32Array.from({ length: ds.genes }, (_, g) => g) });
  return present.map(({ split, genes }) => {
    const seen = Array.from(genes, (g) => observed[g] as number);
    const why = unscorable(target, seen);
    if (why !== undefined) return { split, genes: genes.length, why };
    return { split, genes: genes.length, scores: scoresFor(target, seen, Array.from(genes, (g) => outputs[g] as number)) };
  });
}

/** Why these observed values give no score: one class, or (expression) fewer than two genes or one value for all. */
function unscorable(target: Target, observed: readonly number[]): string | undefined {
  const first = observed[0];
  const allEqual = observed.every((v) => v === first);
  if (target === 'class') return allEqual ? `every gene has label ${first}` : undefined;
  if (observed.length < 2) return 'fewer than 2 genes';
  return allEqual ? `every gene has log10(RPKM + 1) = ${first}` : undefined;
}
