import type { Dataset } from '../data/dataset.ts';
import type { ExpressionTable } from '../data/expressionTable.ts';
import type { Neighbors } from '../data/neighbors.ts';

// The linear baselines that read something other than the flattened window
// (tss-linear, expression-prior, logreg-neighbors) are logistic regression on
// a feature matrix derived per gene, as vae-mlp's MLP reads latents. Each
// model's builder is named by its definition; runModel and predict ask the
// registry for it, so no code compares model names.

/** What a builder may read besides the (normalised) dataset; the sources are read only when asked for. */
export interface FeatureContext {
  readonly ds: Dataset;
  /** The gene's neighbours (--neighbors, --k), from neighborSources.ts. */
  readonly neighbors: () => Promise<Neighbors>;
  /** The 56-cell RPKM table (the run's expressionTable setting). */
  readonly expressionTable: () => Promise<ExpressionTable>;
}

export interface DerivedFeatures {
  /** [genes, width], row-major, in dataset order. */
  readonly features: Float32Array;
  readonly width: number;
  /** Counts worth keeping in metrics.json (genes missing from the table, neighbours without any). */
  readonly counts: Readonly<Record<string, number>>;
  /** The neighbours used, when the features include them. */
  readonly neighbors?: Neighbors;
}

export type FeatureBuilder = (c: FeatureContext) => Promise<DerivedFeatures>;
