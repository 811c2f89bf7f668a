import { type ModelName, derivedFeatures, readsLatents, usesNeighbors } from '../models/registry.ts';
import type { ExpressionTable } from '../data/expressionTable.ts';
import type { Dataset } from '../data/dataset.ts';
import { nonFinite } from '../util/nonFinite.ts';
import type { Neighbors } from '../data/neighbors.ts';
import type { NormalizationStats } from '../data/normalize.ts';
import { buildClassifierPlan } from './classifierPlan.ts';
import { initialise, predictLogits } from './trainClassifier.ts';
import { predictionsOf } from './target.ts';
import { encodeAll, initialiseVae } from './trainVae.ts';
import { buildVaePlan } from './vaePlan.ts';
import type { RunSettings } from './runSettings.ts';
import type { StoredClassifier, StoredVae } from './storedModel.ts';
import { type Device, executorFor, featureContext, withNeighbors } from './runModel.ts';

// A trained model's probabilities (or, trained for --target expression, its
// predicted log10(RPKM + 1)) for a cell: what `predict` computes, apart
// from reading the model from disk, so that a page predicts the same way.

/** A trained classifier (and its VAE for the vae-* models), as read from its checkpoints; a reader that keeps
 * more of each checkpoint (its run's metadata) names its own types. */
export interface TrainedModel<C extends StoredClassifier = StoredClassifier, V extends StoredVae = StoredVae> {
  readonly classifier?: C;
  readonly vae?: V;
  readonly modelName: ModelName;
  readonly settings: RunSettings;
  readonly normalization: NormalizationStats;
}

export async function latentMeans(ds: Dataset, vae: StoredVae, s: RunSettings, device: Device): Promise<Float32Array> {
  const batch = Math.min(s.vaeBatch, ds.genes);
  const vp = buildVaePlan(vae.model, {
    genes: ds.genes,
    batch,
    encodeBatch: Math.min(256, ds.genes),
    trainOrderLength: batch,
    beta: s.beta,
    sigma: s.sigma,
    optimizer: { lr: s.lr },
    seed: s.seed,
  });
  const exec = await executorFor(device, vp.plan);
  try {
    initialiseVae(exec, vp, ds.features, vae.params);
    return await encodeAll(exec, vp);
  } finally {
    exec.destroy?.();
  }
}


/** What is wrong when a model's outputs hold NaN or ±Infinity (finite weights can overflow on extreme inputs), or
 * undefined: said before any table is written or scored, by a caller that names the model. */
export function nonFiniteOutputs(outputs: ArrayLike<number>, ds: Dataset): string | undefined {
  const bad = nonFinite(outputs);
  if (bad === undefined) return undefined;
  return (
    `gives no finite output for ${bad.count} of ${ds.genes} genes of ${ds.cell} (the first: ${ds.geneIds[bad.first]}, ${bad.value}); ` +
    'its weights overflow on this data, or the data holds extreme values'
  );
}

/** Where the models that read more than the window find it: neighbour genes and the expression table (neighborSources.ts). */
export interface PredictSources {
  readonly neighbors?: (ds: Dataset, s: RunSettings) => Promise<Neighbors>;
  readonly expressionTable?: (s: RunSettings) => Promise<ExpressionTable>;
}

/** Probabilities for every gene of `ds` (already normalised), in dataset order; `sources` serves the models that read
 * neighbours or the expression table. */
export async function predictWith(m: TrainedModel, ds: Dataset, device: Device, sources: PredictSources = {}): Promise<Float32Array> {
  return predictionsOf(m.settings.target, await predictOutputs(m, ds, device, sources));
}

/** The model's raw output per gene (a logit, or log10(RPKM + 1)), as training scores it: `scoresFor` on these gives
 * a run's own numbers, where scoring the rounded probabilities could tie genes the logits tell apart. */
export async function predictOutputs(m: TrainedModel, ds: Dataset, device: Device, sources: PredictSources = {}): Promise<Float32Array> {
  const { neighbors } = sources;
  const c = m.classifier as StoredClassifier;
  const s = m.settings;
  let features = ds.features;
  // vae-joint's classifier holds its own (fine-tuned) encoder and reads the window.
  if (m.vae && readsLatents(m.modelName)) {
    features = await latentMeans(ds, m.vae, s, device);
    if (usesNeighbors(m.modelName)) {
      if (!neighbors) throw new Error(`${m.modelName}: no source of neighbour genes was given`);
      features = withNeighbors(features, s.latent, await neighbors(ds, s));
    }
  }
  // tss-linear, expression-prior, logreg-neighbors derive their features from the new cell as training did
  // (expression-prior leaves the new cell's own column out).
  const derive = derivedFeatures(m.modelName);
  if (derive) features = (await derive(featureContext(ds, s, sources))).features;
  const width = features.length / ds.genes;
  const expected = c.model.inputShape.reduce((a, b) => a * b, 1);
  if (width !== expected) throw new Error(`${c.file}: the classifier takes ${expected} features per gene, ${ds.cell} gives ${width}`);
  const batch = Math.min(s.batch, ds.genes);
  const cp = buildClassifierPlan(c.model, {
    genes: ds.genes,
    batch,
    predictBatch: Math.min(256, ds.genes),
    trainOrderLength: batch,
    optimizer: { lr: s.lr },
    seed: s.seed,
    target: s.target,
  });
  const exec = await executorFor(device, cp.plan);
  try {
    const all = Uint32Array.from({ length: ds.genes }, (_, g) => g);
    initialise(exec, cp, { features, labels: ds.labels, split: { train: all, valid: all, test: all } }, c.params);
    return await predictLogits(exec, cp, all);
  } finally {
    exec.destroy?.();
  }
}
