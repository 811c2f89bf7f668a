import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/label_concat.wgsl: M2's rows conditioned on a label.
// Output rows: `labeled` rows with their labels y, then `unlabeled` rows as
// y = 0, then the same unlabeled rows as y = 1; each row is its input row
// followed by the one-hot [1 - y, y].

export interface LabelConcatSizes {
  readonly labeled: number;
  readonly unlabeled: number;
  /** Columns of the input rows. */
  readonly width: number;
  /** Input holds labeled + unlabeled rows and the unlabeled ones are used twice; else one row per output row. */
  readonly tiled: boolean;
}

export const labelConcatRows = (s: LabelConcatSizes): { readonly inRows: number; readonly outRows: number } => {
  const outRows = s.labeled + 2 * s.unlabeled;
  return { inRows: s.tiled ? s.labeled + s.unlabeled : outRows, outRows };
};

/** The label of output row r (0 or 1). */
export function labelOfRow(s: Pick<LabelConcatSizes, 'labeled' | 'unlabeled'>, y: ArrayLike<number>, r: number): number {
  if (r < s.labeled) return y[r] as number;
  return r < s.labeled + s.unlabeled ? 0 : 1;
}

export function labelConcatForward(s: LabelConcatSizes, input: FloatArray, y: FloatArray, output: FloatArray): void {
  const { outRows } = labelConcatRows(s);
  const W = s.width;
  for (let r = 0; r < outRows; r++) {
    const src = s.tiled && r >= s.labeled + s.unlabeled ? r - s.unlabeled : r;
    for (let k = 0; k < W; k++) output[r * (W + 2) + k] = input[src * W + k] as number;
    const label = labelOfRow(s, y, r);
    output[r * (W + 2) + W] = 1 - label;
    output[r * (W + 2) + W + 1] = label;
  }
}

/** dInput from dOutput: the one-hot columns are dropped; a tiled unlabeled row sums its two uses. */
export function labelConcatBackward(s: LabelConcatSizes, dOutput: FloatArray, dInput: FloatArray): void {
  const { inRows } = labelConcatRows(s);
  const W = s.width;
  for (let r = 0; r < inRows; r++) {
    for (let k = 0; k < W; k++) {
      let g = dOutput[r * (W + 2) + k] as number;
      if (s.tiled && r >= s.labeled) g += dOutput[(r + s.unlabeled) * (W + 2) + k] as number;
      dInput[r * W + k] = g;
    }
  }
}
