import type { Dataset } from '../data/dataset.ts';
import type { DerivedFeatures } from './derivedFeatures.ts';

// tss-linear: logistic regression on a handful of summaries of each mark
// centred on the TSS. DeepChrome 2.0 found a linear model of about a dozen
// parameters matches DeepChrome's CNN, the signal sitting in the few bins at
// the TSS; logreg on the flattened window must instead learn every bin's
// weight (105 on E116, 500 on the samples) from as few as 100 labels.
//
// The features, per mark m (in the dataset's mark order), from the window as
// normalised for the run (so predict on new data computes the same thing):
//   tss      the mean of the TSS bin(s): the centre bin of an odd window
//            (E116: 21 bins, index 10), the two centre bins of an even one
//            (DeepChrome samples: 100 bins, indices 49 and 50, TSS between them);
//   ±r       the mean over the TSS bin(s) and r bins on each side, for each r of
//            tssRadii(bins): round(f·h) for f = 0.1, 0.2, 0.5 with h = ⌊(bins−1)/2⌋
//            bins per side (E116: r = 1, 2, 5, i.e. 30, 50 and 110 kb; the 100-bin
//            samples: r = 5, 10, 25, i.e. 1.2, 2.2 and 5.2 kb; 200 bins: 10, 20, 50),
//            at least 1 and below h, repeats dropped;
//   all      the mean over every bin.
// Feature order: for each mark, [tss, ±r…, all]: 5 × 5 = 25 features on both
// layouts. Masked bins (bigWig edges) count as their normalised value, as the
// window models see them.

const RADIUS_FRACTIONS = [0.1, 0.2, 0.5] as const;

/** The bins per side of each widening window around the TSS bin(s) (see above). */
export function tssRadii(bins: number): number[] {
  const h = Math.floor((bins - 1) / 2);
  const out: number[] = [];
  for (const f of RADIUS_FRACTIONS) {
    const r = Math.max(1, Math.round(f * h));
    if (r < h && !out.includes(r)) out.push(r);
  }
  return out;
}

/** The first and last index of the TSS bin(s): the centre bin, or the two centre bins of an even window. */
export function tssBins(bins: number): readonly [number, number] {
  return bins % 2 === 1 ? [(bins - 1) / 2, (bins - 1) / 2] : [bins / 2 - 1, bins / 2];
}

/** Features per gene: per mark, the TSS mean, one mean per radius and the whole window's mean. */
export function tssFeatureWidth(bins: number, marks: number): number {
  return marks * (2 + tssRadii(bins).length);
}

/** The TSS summaries of every gene of a [genes, bins, marks] window, [genes, tssFeatureWidth]. */
export function tssSummaryFeatures(window: Float32Array, genes: number, bins: number, marks: number): Float32Array {
  if (window.length !== genes * bins * marks) {
    throw new Error(`tss-linear: the window holds ${window.length} values, ${genes} genes × ${bins} bins × ${marks} marks is ${genes * bins * marks}`);
  }
  if (bins < 1) throw new Error(`tss-linear: a window needs at least one bin, got ${bins}`);
  const [lo, hi] = tssBins(bins);
  const ranges: [number, number][] = [[lo, hi], ...tssRadii(bins).map((r): [number, number] => [lo - r, hi + r]), [0, bins - 1]];
  const per = ranges.length;
  const out = new Float32Array(genes * marks * per);
  for (let g = 0; g < genes; g++) {
    for (let m = 0; m < marks; m++) {
      for (let j = 0; j < per; j++) {
        const [a, b] = ranges[j] as [number, number];
        // Summed in float64 so the value does not depend on the window's length more than it must.
        let s = 0;
        for (let i = a; i <= b; i++) s += window[(g * bins + i) * marks + m] as number;
        out[(g * marks + m) * per + j] = s / (b - a + 1);
      }
    }
  }
  return out;
}

export async function tssLinearFeatures(c: { readonly ds: Dataset }): Promise<DerivedFeatures> {
  const { ds } = c;
  const width = tssFeatureWidth(ds.bins, ds.marks.length);
  return { features: tssSummaryFeatures(ds.features, ds.genes, ds.bins, ds.marks.length), width, counts: {} };
}
