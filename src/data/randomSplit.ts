// A split drawn at random, for cells whose genes sit on too few chromosomes
// to hold chromosomes out (a chr22-only track). Genes are put in id order
// before the seeded shuffle, so the split depends on the genes and the seed,
// not on the order of the gene table, and the counts are exact: round(n·train)
// train genes, round(n·valid) valid ones and the rest test.

import { seededRandom, shuffleInPlace } from '../util/random.ts';
import { SPLIT_CODES } from './dataset.ts';

export interface RandomSplit {
  /** Train, valid and test shares, each in [0, 1], summing to 1. */
  readonly fractions: readonly [number, number, number];
  readonly seed: number;
}

/** Why `fractions` cannot be a split's shares, or undefined when they can. */
export function fractionsProblem(fractions: readonly number[]): string | undefined {
  if (fractions.length !== 3) return `needs three shares (train, valid, test), got ${fractions.length}`;
  if (fractions.some((f) => !Number.isFinite(f) || f < 0 || f > 1)) return `each share must be a number in [0, 1], got ${fractions.join(', ')}`;
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) return `the shares must sum to 1, ${fractions.join(' + ')} = ${Number(sum.toFixed(6))}`;
  return undefined;
}

/** SPLIT_CODES per gene of `geneIds` (in their order). */
export function randomSplit(geneIds: readonly string[], rule: RandomSplit): Uint8Array {
  const n = geneIds.length;
  const order = Uint32Array.from({ length: n }, (_, g) => g).sort((a, b) => {
    const x = geneIds[a] as string;
    const y = geneIds[b] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  shuffleInPlace(order, seededRandom(rule.seed));
  const train = Math.round(n * rule.fractions[0]);
  const valid = Math.min(n - train, Math.round(n * rule.fractions[1]));
  const split = new Uint8Array(n);
  order.forEach((g, i) => {
    split[g] = i < train ? SPLIT_CODES.train : i < train + valid ? SPLIT_CODES.valid : SPLIT_CODES.test;
  });
  return split;
}
