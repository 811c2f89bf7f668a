import { defineModel } from '../definition.ts';
import type { DerivedFeatures, FeatureContext } from '../derivedFeatures.ts';
import { logregSpec } from '../modelSpec.ts';

// mark-means: logistic regression on each mark's mean over the whole window,
// one feature per mark (5 on the DeepChrome samples and E116). A sanity
// baseline below tss-linear, which keeps the same mean as its last feature
// per mark: what is left of the signal once every position is averaged away.
// Means of the window as normalised for the run, summed in float64, in the
// dataset's mark order.

/** Each gene's mean of each mark over all bins of a [genes, bins, marks] window, [genes, marks]. */
export function markMeans(window: Float32Array, genes: number, bins: number, marks: number): Float32Array {
  if (window.length !== genes * bins * marks) {
    throw new Error(`mark-means: the window holds ${window.length} values, ${genes} genes × ${bins} bins × ${marks} marks is ${genes * bins * marks}`);
  }
  const out = new Float32Array(genes * marks);
  for (let g = 0; g < genes; g++) {
    for (let m = 0; m < marks; m++) {
      let s = 0;
      for (let b = 0; b < bins; b++) s += window[(g * bins + b) * marks + m] as number;
      out[g * marks + m] = s / bins;
    }
  }
  return out;
}

async function markMeansFeatures(c: FeatureContext): Promise<DerivedFeatures> {
  const { ds } = c;
  return { features: markMeans(ds.features, ds.genes, ds.bins, ds.marks.length), width: ds.marks.length, counts: {} };
}

export const markMeansDefinition = defineModel({
  name: 'mark-means',
  summary: "logistic regression on each mark's mean over the whole window (one feature per mark): a sanity baseline",
  input: 'derived',
  phases: ['linear-fit'],
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes, l2) => logregSpec([sizes.derivedWidth()], l2),
  features: markMeansFeatures,
  baseline: 'window',
  affineInWindow: true,
});
