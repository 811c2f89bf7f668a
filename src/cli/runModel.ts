import type { Dataset } from '../data/dataset.ts';
import { readExpressionTable } from '../data/expressionTable.ts';
import { readGeneAnnotation } from '../data/geneAnnotation.ts';
import { type Neighbors, functionalNeighbors, spatialNeighbors } from '../data/neighbors.ts';
import type { Gpu } from '../gpu/device.ts';
import { deepChromeModel } from '../models/deepchrome.ts';
import { mlpModel } from '../models/mlp.ts';
import { vaeModel } from '../models/vae.ts';
import { CpuExecutor } from '../plan/cpuExecutor.ts';
import type { Executor } from '../plan/executor.ts';
import { GpuExecutor } from '../plan/gpuExecutor.ts';
import type { Plan } from '../plan/plan.ts';
import { type Model, buildClassifierPlan } from '../train/classifierPlan.ts';
import { labeledSubset, requireBothClasses, splitIndices } from '../train/prepare.ts';
import {
  type EpochRecord,
  type SplitIndices,
  type TrainResult,
  initialise,
  stepsPerEpoch,
  trainClassifier,
} from '../train/trainClassifier.ts';
import { type VaeEpochRecord, encodeAll, initialiseVae, trainVae } from '../train/trainVae.ts';
import { buildVaePlan } from '../train/vaePlan.ts';
import type { ModelName } from './args.ts';

// One model trained and evaluated on one (normalised) dataset, on either
// executor. The VAE-based models first train the VAE on the unlabeled inputs
// of the train and valid genes (never test), encode every gene, and then
// train the MLP on latent means (with neighbours' latents appended).

export type Device = { readonly kind: 'gpu'; readonly gpu: Gpu } | { readonly kind: 'cpu' };

export interface RunSettings {
  readonly model: ModelName;
  readonly trainSize: number | undefined;
  readonly epochs: number;
  readonly vaeEpochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly latent: number;
  readonly beta: number;
  readonly sigma: 'logvar' | 'softplus';
  readonly neighbors: 'spatial' | 'functional';
  readonly k: number;
  readonly seed: number;
  /** Sources for neighbour genes (vae-mlp-neighbors only). */
  readonly annotation: string;
  readonly expressionTable: string;
}

export interface RunOutcome {
  readonly result: TrainResult;
  readonly vaeHistory: readonly VaeEpochRecord[] | undefined;
  readonly labeledGenes: number;
  readonly parameters: number;
  readonly split: SplitIndices;
  readonly neighbors?: { readonly kind: string; readonly k: number; readonly unmatched: number };
  readonly seconds: { readonly vae: number; readonly classifier: number };
}

export interface Progress {
  epoch(model: string, r: EpochRecord, epochs: number): void;
  vaeEpoch(r: VaeEpochRecord, epochs: number): void;
}

async function executorFor(device: Device, plan: Plan): Promise<Executor & { destroy?: () => void }> {
  return device.kind === 'gpu' ? GpuExecutor.create(device.gpu, plan) : new CpuExecutor(plan);
}

/** Latents of the VAE trained on `unlabeled` genes, cached per (dataset, seed, settings) by the caller. */
export async function trainVaeLatents(
  ds: Dataset,
  unlabeled: Uint32Array,
  s: RunSettings,
  device: Device,
  progress: Progress,
): Promise<{ latents: Float32Array; history: VaeEpochRecord[]; parameters: number }> {
  const model = vaeModel({ bins: ds.bins, marks: ds.marks.length, latent: s.latent });
  const batch = Math.min(s.batch, unlabeled.length);
  const vp = buildVaePlan(model, {
    genes: ds.genes,
    batch,
    encodeBatch: Math.min(256, ds.genes),
    trainOrderLength: stepsPerEpoch(unlabeled.length, batch) * batch,
    beta: s.beta,
    sigma: s.sigma,
    optimizer: { lr: s.lr },
    seed: s.seed,
  });
  const exec = await executorFor(device, vp.plan);
  try {
    initialiseVae(exec, vp, ds.features, model.store.initialValues(s.seed));
    const history = await trainVae(exec, vp, unlabeled, {
      epochs: s.vaeEpochs,
      seed: s.seed,
      onEpoch: (r) => progress.vaeEpoch(r, s.vaeEpochs),
    });
    return { latents: await encodeAll(exec, vp), history, parameters: model.store.count };
  } finally {
    exec.destroy?.();
  }
}

export async function neighborsFor(ds: Dataset, s: RunSettings): Promise<Neighbors> {
  if (s.neighbors === 'spatial') return spatialNeighbors(ds.geneIds, await readGeneAnnotation(s.annotation), s.k);
  return functionalNeighbors(ds.geneIds, await readExpressionTable(s.expressionTable), { k: s.k, targetCell: ds.cell });
}

/** Each gene's latent followed by its neighbours' (zeros where a neighbour is padding). */
export function withNeighbors(latents: Float32Array, Z: number, n: Neighbors): Float32Array {
  const genes = latents.length / Z;
  const width = 1 + n.width;
  const out = new Float32Array(genes * width * Z);
  for (let g = 0; g < genes; g++) {
    out.set(latents.subarray(g * Z, (g + 1) * Z), g * width * Z);
    for (let j = 0; j < n.width; j++) {
      if (n.mask[g * n.width + j] !== 1) continue;
      const h = n.index[g * n.width + j] as number;
      out.set(latents.subarray(h * Z, (h + 1) * Z), (g * width + 1 + j) * Z);
    }
  }
  return out;
}

export async function runModel(
  ds: Dataset,
  s: RunSettings,
  device: Device,
  progress: Progress,
  cachedLatents?: (key: string, make: () => Promise<{ latents: Float32Array; history: VaeEpochRecord[]; parameters: number }>) => Promise<{ latents: Float32Array; history: VaeEpochRecord[]; parameters: number }>,
): Promise<RunOutcome> {
  const all = splitIndices(ds);
  if (all.train.length === 0 || all.valid.length === 0 || all.test.length === 0) {
    throw new Error(
      `${ds.cell}: every split needs genes (train ${all.train.length}, valid ${all.valid.length}, test ${all.test.length})`,
    );
  }
  const split: SplitIndices = { ...all, train: labeledSubset(all.train, s.trainSize, s.seed) };
  requireBothClasses(`${ds.cell} labeled training genes`, split.train, ds.labels);
  requireBothClasses(`${ds.cell} validation genes`, split.valid, ds.labels);
  requireBothClasses(`${ds.cell} test genes`, split.test, ds.labels);

  let features = ds.features;
  let model: Model;
  let vaeHistory: VaeEpochRecord[] | undefined;
  let vaeParameters = 0;
  let neighborInfo: RunOutcome['neighbors'];
  const t0 = performance.now();
  if (s.model === 'vae-mlp' || s.model === 'vae-mlp-neighbors') {
    const unlabeled = Uint32Array.from([...all.train, ...all.valid]).sort();
    const make = () => trainVaeLatents(ds, unlabeled, s, device, progress);
    const key = `${ds.cell}|${s.seed}|${s.latent}|${s.beta}|${s.sigma}|${s.vaeEpochs}|${s.lr}|${s.batch}`;
    const vae = cachedLatents ? await cachedLatents(key, make) : await make();
    vaeHistory = vae.history;
    vaeParameters = vae.parameters;
    features = vae.latents;
    let width = s.latent;
    if (s.model === 'vae-mlp-neighbors') {
      const n = await neighborsFor(ds, s);
      features = withNeighbors(vae.latents, s.latent, n);
      width = s.latent * (1 + n.width);
      neighborInfo = { kind: n.kind, k: n.k, unmatched: n.unmatched.length };
    }
    model = mlpModel({ inputShape: [width] });
  } else if (s.model === 'mlp') {
    model = mlpModel({ inputShape: [ds.bins, ds.marks.length] });
  } else {
    model = deepChromeModel({ bins: ds.bins, marks: ds.marks.length });
  }
  const t1 = performance.now();

  const batch = Math.min(s.batch, split.train.length);
  const cp = buildClassifierPlan(model, {
    genes: ds.genes,
    batch,
    predictBatch: Math.min(256, ds.genes),
    trainOrderLength: stepsPerEpoch(split.train.length, batch) * batch,
    optimizer: { lr: s.lr },
    seed: s.seed,
  });
  const exec = await executorFor(device, cp.plan);
  try {
    initialise(exec, cp, { features, labels: ds.labels, split }, model.store.initialValues(s.seed + 1));
    const result = await trainClassifier(exec, cp, { features, labels: ds.labels, split }, {
      epochs: s.epochs,
      seed: s.seed,
      onEpoch: (r) => progress.epoch(s.model, r, s.epochs),
    });
    return {
      result,
      vaeHistory,
      labeledGenes: split.train.length,
      parameters: model.store.count + vaeParameters,
      split,
      ...(neighborInfo ? { neighbors: neighborInfo } : {}),
      seconds: { vae: (t1 - t0) / 1000, classifier: (performance.now() - t1) / 1000 },
    };
  } finally {
    exec.destroy?.();
  }
}
