// Values no training writes and no metric can rank: NaN and ±Infinity. Found
// where they enter (a checkpoint read, a model's outputs) so that the message
// names their source, not the computation that later meets them.

export interface NonFinite {
  /** Index of the first value that is not a finite number. */
  readonly first: number;
  readonly value: number;
  /** How many values are not finite numbers. */
  readonly count: number;
}

/** The values of `values` that are NaN or ±Infinity: the first and how many; undefined when every one is finite. */
export function nonFinite(values: ArrayLike<number>): NonFinite | undefined {
  let first = -1;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i] as number)) {
      if (first < 0) first = i;
      count++;
    }
  }
  return first < 0 ? undefined : { first, value: values[first] as number, count };
}

/** "1 of its values is not a finite number", "3 of its values are not finite numbers". */
export const notFiniteCount = (n: number): string => (n === 1 ? '1 of its values is not a finite number' : `${n} of its values are not finite numbers`);
