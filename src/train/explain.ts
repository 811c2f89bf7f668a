import type { Dataset } from '../data/dataset.ts';
import { type NormalizationStats, applyNormalization } from '../data/normalize.ts';
import type { Neighbors } from '../data/neighbors.ts';
import type { DerivedFeatures } from '../models/derivedFeatures.ts';
import { derivedFeatures, explainsWindowAffinely, outsideInputs, readsLatents, usesNeighbors } from '../models/registry.ts';
import type { Model } from '../nn/model.ts';
import type { Executor } from '../plan/executor.ts';
import { InputGradientPlan, type Values } from './inputGradient.ts';
import type { PredictSources, TrainedModel } from './predictWith.ts';
import { type Device, executorFor, featureContext } from './runModel.ts';
import type { StoredClassifier, StoredVae } from './storedModel.ts';

// Which marks and bins a trained model's output rests on: the attribution of
// each value of a gene's window (bins × marks, as normalised for the model)
// to the model's output (the logit, or the predicted log10(RPKM + 1)).
//
// Every model is taken apart into what reads the window and the classifier,
// and the gradient runs back through both (InputGradientPlan: forward, a seed
// of 1 on the output, backward to the input, on the GPU or the CPU):
//   window models (logreg, mlp, deepchrome, vae-joint, vae-m2): the classifier
//     reads the window (vae-joint and vae-m2 through their own encoder trunk);
//   latent models (vae-mlp, vae-mlp-neighbors): the classifier reads the VAE
//     encoder's mean μ(window) (the latent training gave it: encodeAll's μ, no
//     sample), so its gradient with respect to μ is carried back through the
//     encoder's mean path (conv, conv, flatten, dense μ) to the window;
//   derived models (tss-linear, mark-means, logreg-neighbors, expression-prior):
//     the definition declares its features affine in the gene's own window,
//     f = J·window + c, and J is read off the feature builder itself (its
//     features of the zero window and of each unit window), so the classifier's
//     gradient reaches the window as Jᵀ·df.
// Inputs that are not the gene's own window (neighbours' latents or windows,
// other cells' expression) are held fixed: every method attributes only the
// gene's own window, and `outside` reports per gene Σ gradient × input over
// the rest, named by the definition (`outsideInputs`).
//
// Methods, per window value x_i:
//   saliency              ∂f/∂x_i at x (signed; the mean maps take |·|)
//   grad-input            x_i · ∂f/∂x_i
//   integrated-gradients  (x_i − x0_i) · (1/S) Σ_k ∂f/∂x_i at x0 + (k + ½)/S · (x − x0), k = 0 … S−1: the
//                         midpoint rule from the baseline x0, the window of a gene with no reads as the model's
//                         normalisation maps it (noReadsWindow: −1 everywhere under the default log1p-max), so
//                         Σ_i ≈ f(x) − f(x0), the error O(1/S²). The S windows on the path of every gene (and
//                         its ends, α = 0 and 1, which give f(x0) and f(x)) are rows of one batch: one submit
//                         per stage for up to 4M values, never a host loop over the steps.
// The gradient is taken with respect to the normalised window the model reads; saliency and grad-input are
// the usual ones (grad-input: relative to the normalised 0, which under log1p-max is half the largest training
// value, not zero reads: integrated gradients are the ones measured from no reads).

export const ATTRIBUTION_METHODS = ['saliency', 'grad-input', 'integrated-gradients'] as const;
export type AttributionMethod = (typeof ATTRIBUTION_METHODS)[number];

/** What each method's number is, for the files and the help. */
export const METHOD_MEANING: Readonly<Record<AttributionMethod, string>> = {
  saliency: 'the gradient of the output with respect to each window value (signed)',
  'grad-input': 'each window value times the gradient of the output with respect to it',
  'integrated-gradients': 'integrated gradients from a window of no reads (the midpoint rule over --steps steps): they add up to f(x) − f(no reads)',
};

/** A method as the charts' subtitles name it: integrated gradients with their steps. */
export function methodInWords(method: AttributionMethod, steps: number): string {
  return method === 'integrated-gradients' ? `integrated gradients from a window of no reads (midpoint rule, ${steps} steps)` : METHOD_MEANING[method];
}

export interface ExplainOptions {
  readonly method: AttributionMethod;
  /** Integrated gradients' steps S. */
  readonly steps: number;
  /** After each block of genes: how many are explained so far, of how many. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Explanation {
  readonly method: AttributionMethod;
  readonly steps?: number;
  /** Dataset rows explained, in the order given. */
  readonly genes: Uint32Array;
  readonly bins: number;
  readonly marks: number;
  /** [genes, bins, marks]: the attribution of each value of the gene's own (normalised) window. */
  readonly attributions: Float32Array;
  /** The model's output at each gene's input. */
  readonly outputs: Float64Array;
  /** Integrated gradients: the output at the baseline (the gene's window with no reads, anything else as it is). */
  readonly baselineOutputs?: Float64Array;
  /** What the model reads besides the gene's window, and per gene Σ gradient × input over it. */
  readonly outside?: { readonly what: string; readonly values: Float32Array };
  /** False where the output does not depend on the window at all (its attributions are all zero). */
  readonly readsWindow: boolean;
}

/** Where a row of windows goes in and its gradient comes back: the classifier's input built from window rows
 * (each of gene `rowGene[r]`), and the classifier's input gradient carried back to them. */
interface WindowPath {
  readonly classifierInput: (rows: Float64Array, rowGene: Uint32Array) => Promise<Float64Array>;
  readonly toWindow: (dInput: Values, rows: Float64Array, rowGene: Uint32Array) => Promise<Float64Array>;
  /** Σ over the classifier inputs that are not the gene's window of gradient × input, per row. */
  readonly outside?: (dInput: Values, input: Float64Array, rowGene: Uint32Array) => Float64Array;
  readonly readsWindow: boolean;
  readonly destroy: () => void;
}

type MakeExecutor = (plan: InputGradientPlan) => Promise<Executor & { destroy?: () => void }>;

/** One model's input-gradient plan on its own executor, its parameters uploaded. */
async function stage(model: Model, params: Float32Array, rows: number, make: MakeExecutor) {
  const p = new InputGradientPlan(model, rows);
  const exec = await make(p);
  p.initialise(exec, params);
  return {
    plan: p,
    run: (x: ArrayLike<number>, seeds?: ArrayLike<number>) => p.run(exec, x, seeds),
    destroy: () => exec.destroy?.(),
  };
}

const toF64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);

/** The encoder's mean path of a stored VAE: window → conv, conv, flatten → dense μ. */
function meanPath(vae: StoredVae): Model {
  return { store: vae.model.store, layers: [...vae.model.encoder, vae.model.mu], inputShape: vae.model.inputShape };
}

async function latentPath(m: TrainedModel, ds: Dataset, rowsPerBlock: number, make: MakeExecutor, sources: PredictSources): Promise<WindowPath> {
  const vae = m.vae as StoredVae;
  const Z = vae.model.latent;
  const encoder = await stage(meanPath(vae), vae.params, rowsPerBlock, make);
  // The neighbours' latents are their means at their own windows, as training and predict read them.
  let neighbors: Neighbors | undefined;
  let allMu: Float64Array | undefined;
  if (usesNeighbors(m.modelName)) {
    if (!sources.neighbors) throw new Error(`${m.modelName}: no source of neighbour genes was given`);
    neighbors = await sources.neighbors(ds, m.settings);
    allMu = toF64((await encoder.run(toF64(ds.features), new Float64Array(ds.genes * Z))).outputs);
  }
  const slots = 1 + (neighbors?.width ?? 0);
  return {
    readsWindow: true,
    classifierInput: async (rows, rowGene) => {
      const mu = (await encoder.run(rows, new Float64Array((rows.length / encoder.plan.inWidth) * Z))).outputs;
      const out = new Float64Array(rowGene.length * slots * Z);
      for (let r = 0; r < rowGene.length; r++) {
        out.set(mu.subarray(r * Z, (r + 1) * Z), r * slots * Z);
        if (!neighbors || !allMu) continue;
        const g = rowGene[r] as number;
        for (let j = 0; j < neighbors.width; j++) {
          if (neighbors.mask[g * neighbors.width + j] !== 1) continue;
          const h = neighbors.index[g * neighbors.width + j] as number;
          out.set(allMu.subarray(h * Z, (h + 1) * Z), (r * slots + 1 + j) * Z);
        }
      }
      return out;
    },
    toWindow: async (dInput, rows, rowGene) => {
      const dMu = new Float64Array(rowGene.length * Z);
      for (let r = 0; r < rowGene.length; r++) dMu.set(dInput.subarray(r * slots * Z, r * slots * Z + Z), r * Z);
      return toF64((await encoder.run(rows, dMu)).inputGrads);
    },
    ...(neighbors ? { outside: (dInput: Values, input: Float64Array) => firstOrderBeyond(dInput, input, slots * Z, Z) } : {}),
    destroy: encoder.destroy,
  };
}

/** Per row of `width`, Σ dInput·input over the columns from `from` on. */
function firstOrderBeyond(dInput: Values, input: Float64Array, width: number, from: number): Float64Array {
  const rows = input.length / width;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = from; j < width; j++) s += (dInput[r * width + j] as number) * (input[r * width + j] as number);
    out[r] = s;
  }
  return out;
}

/** A sparse J: window value `i` moves feature `j` by `v`. */
interface Entry {
  readonly i: number;
  readonly j: number;
  readonly v: number;
}

/** The features' Jacobian with respect to the gene's own window, read off the builder: its features of a zero
 * window and of each unit window (genes of a probe dataset with no neighbours and ids no table holds). */
async function windowJacobian(m: TrainedModel, ds: Dataset, real: DerivedFeatures, sources: PredictSources): Promise<Entry[]> {
  const build = derivedFeatures(m.modelName);
  if (!build) throw new Error(`${m.modelName}: no feature builder`);
  const W = ds.bins * ds.marks.length;
  const probes = W + 1;
  const features = new Float32Array(probes * W);
  for (let i = 0; i < W; i++) features[(i + 1) * W + i] = 1;
  const probe: Dataset = {
    cell: ds.cell,
    genes: probes,
    bins: ds.bins,
    marks: ds.marks,
    features,
    labels: new Uint8Array(probes),
    split: new Uint8Array(probes),
    geneIds: Array.from({ length: probes }, (_, i) => `explain-probe-${i}`),
    source: ds.source,
  };
  const none = real.neighbors;
  const context = featureContext(probe, m.settings, {
    ...sources,
    ...(none
      ? {
          neighbors: async (): Promise<Neighbors> => ({
            kind: none.kind,
            k: none.k,
            width: none.width,
            index: new Int32Array(probes * none.width),
            mask: new Uint8Array(probes * none.width),
            score: new Float64Array(probes * none.width),
            unmatched: probe.geneIds,
          }),
        }
      : {}),
  });
  const f = (await build(context)).features;
  const width = real.width;
  const entries: Entry[] = [];
  for (let i = 0; i < W; i++) {
    for (let j = 0; j < width; j++) {
      const v = (f[(i + 1) * width + j] as number) - (f[j] as number);
      if (v !== 0) entries.push({ i, j, v });
    }
  }
  return entries;
}

async function derivedPath(m: TrainedModel, ds: Dataset, sources: PredictSources): Promise<WindowPath> {
  if (!explainsWindowAffinely(m.modelName)) {
    throw new Error(`explain: ${m.modelName}'s features are not declared affine in the window, so their gradient cannot be carried to it`);
  }
  const build = derivedFeatures(m.modelName);
  if (!build) throw new Error(`${m.modelName}: no feature builder`);
  const real = await build(featureContext(ds, m.settings, sources));
  const J = await windowJacobian(m, ds, real, sources);
  const width = real.width;
  const W = ds.bins * ds.marks.length;
  // c = f(x) − J·x per gene: what the features hold besides the gene's own window.
  const c = toF64(real.features);
  for (let g = 0; g < ds.genes; g++) for (const e of J) c[g * width + e.j] = (c[g * width + e.j] as number) - e.v * (ds.features[g * W + e.i] as number);
  return {
    readsWindow: J.length > 0,
    classifierInput: async (rows, rowGene) => {
      const out = new Float64Array(rowGene.length * width);
      for (let r = 0; r < rowGene.length; r++) {
        const g = rowGene[r] as number;
        out.set(c.subarray(g * width, (g + 1) * width), r * width);
        for (const e of J) out[r * width + e.j] = (out[r * width + e.j] as number) + e.v * (rows[r * W + e.i] as number);
      }
      return out;
    },
    toWindow: async (dInput, _rows, rowGene) => {
      const out = new Float64Array(rowGene.length * W);
      for (let r = 0; r < rowGene.length; r++) for (const e of J) out[r * W + e.i] = (out[r * W + e.i] as number) + e.v * (dInput[r * width + e.j] as number);
      return out;
    },
    ...(outsideInputs(m.modelName) !== undefined
      ? {
          // Σ_j df_j · c_j: the first-order share of what the features hold besides the gene's window.
          outside: (dInput: Values, _input: Float64Array, rowGene: Uint32Array) =>
            Float64Array.from(rowGene, (g, r) => {
              let s = 0;
              for (let j = 0; j < width; j++) s += (dInput[r * width + j] as number) * (c[g * width + j] as number);
              return s;
            }),
        }
      : {}),
    destroy: () => {},
  };
}

/** The classifier reads the window itself (window models, and vae-joint and vae-m2 through their own trunk). */
const windowItself: WindowPath = {
  readsWindow: true,
  classifierInput: async (rows) => rows,
  toWindow: async (dInput) => toF64(dInput),
  destroy: () => {},
};

function windowPathOf(m: TrainedModel, ds: Dataset, rowsPerBlock: number, make: MakeExecutor, sources: PredictSources): Promise<WindowPath> {
  if (m.vae && readsLatents(m.modelName)) return latentPath(m, ds, rowsPerBlock, make, sources);
  if (derivedFeatures(m.modelName)) return derivedPath(m, ds, sources);
  return Promise.resolve(windowItself);
}

/** Values uploaded per block of genes at most: the block's rows times the widest input. */
const BLOCK_ELEMENTS = 1 << 22;
/** A slow model (attentivechrome under integrated gradients on a software adapter: minutes for 200 genes) still
 * reports progress: the genes go in about this many blocks when memory would allow fewer, each of at least
 * MIN_BLOCK_GENES genes so that a fast model's blocks stay large. */
const PROGRESS_BLOCKS = 10;
const MIN_BLOCK_GENES = 16;

/** Genes per block: what memory allows, cut so that a long list is explained in about PROGRESS_BLOCKS blocks. */
export function explainBlockGenes(genes: number, rowsPerGene: number, rowWidth: number): number {
  const byMemory = Math.max(1, Math.floor(BLOCK_ELEMENTS / (rowsPerGene * rowWidth)));
  const forProgress = Math.max(MIN_BLOCK_GENES, Math.ceil(genes / PROGRESS_BLOCKS));
  return Math.max(1, Math.min(genes, byMemory, forProgress));
}

/** Integrated gradients' baseline: a window of no reads in every bin, as the model's normalisation maps it. */
export function noReadsWindow(stats: NormalizationStats, like: Dataset): Float64Array {
  const empty: Dataset = { ...like, genes: 1, features: new Float32Array(like.bins * like.marks.length), labels: new Uint8Array(1), split: new Uint8Array(1), geneIds: ['no reads'] };
  const { binMask: _mask, expression: _expression, ...plain } = empty;
  return Float64Array.from(applyNormalization(plain, stats).features);
}

/** The midpoints (k + ½)/S of integrated gradients' S steps. */
export function midpoints(steps: number): number[] {
  return Array.from({ length: steps }, (_, k) => (k + 0.5) / steps);
}

/** A model's output and its gradient with respect to the gene's own window, for any rows of windows (each the
 * window of gene `rowGene[r]`, whose other inputs stay as they are): what every method is computed from. */
export interface WindowGradients {
  readonly outputs: Float64Array;
  /** [rows, bins·marks] */
  readonly grads: Float64Array;
  /** Per row, Σ gradient × input over what is not the gene's window; absent when the model reads nothing else. */
  readonly outside?: Float64Array;
}

export interface Explainer {
  /** Features per gene the classifier reads. */
  readonly classifierWidth: number;
  readonly readsWindow: boolean;
  gradients(rows: Float64Array, rowGene: Uint32Array): Promise<WindowGradients>;
  destroy(): void;
}

/** The plans of `m` for up to `rows` rows a run (more are run in turns), on `device`; `ds` (normalised) gives the
 * genes' other inputs: neighbours, features beyond the window. */
export async function openExplainer(m: TrainedModel, ds: Dataset, rows: number, device: Device, sources: PredictSources = {}): Promise<Explainer> {
  const c = m.classifier as StoredClassifier;
  const classifierWidth = c.model.inputShape.reduce((a, b) => a * b, 1);
  const make: MakeExecutor = (p) => executorFor(device, p.plan);
  const path = await windowPathOf(m, ds, rows, make, sources);
  let head: Awaited<ReturnType<typeof stage>>;
  try {
    head = await stage(c.model, c.params, rows, make);
  } catch (e) {
    path.destroy();
    throw e;
  }
  return {
    classifierWidth,
    readsWindow: path.readsWindow,
    async gradients(rows, rowGene) {
      const input = await path.classifierInput(rows, rowGene);
      if (input.length !== rowGene.length * classifierWidth) {
        throw new Error(`${c.file}: the classifier takes ${classifierWidth} features per gene, ${ds.cell} gives ${input.length / rowGene.length}`);
      }
      const { outputs, inputGrads } = await head.run(input);
      const grads = await path.toWindow(inputGrads, rows, rowGene);
      const outside = path.outside?.(inputGrads, input, rowGene);
      return { outputs: toF64(outputs), grads, ...(outside ? { outside } : {}) };
    },
    destroy() {
      head.destroy();
      path.destroy();
    },
  };
}

/** The attributions of the window values of `genes` (rows of `ds`, normalised with the model's statistics) to
 * the model's output. `sources` serves the models that read neighbours or the expression table, as for predict. */
export async function explainWith(
  m: TrainedModel,
  ds: Dataset,
  genes: Uint32Array,
  o: ExplainOptions,
  device: Device,
  sources: PredictSources = {},
): Promise<Explanation> {
  const c = m.classifier as StoredClassifier;
  const W = ds.bins * ds.marks.length;
  const ig = o.method === 'integrated-gradients';
  if (ig && !(Number.isSafeInteger(o.steps) && o.steps >= 1)) throw new Error(`explain: integrated gradients need a whole number of steps ≥ 1, got ${o.steps}`);
  if (genes.length === 0) throw new Error('explain: no genes to explain');
  for (const g of genes) if (g >= ds.genes) throw new Error(`explain: gene row ${g} is past the ${ds.genes} genes of ${ds.cell}`);
  // IG's rows per gene: α = 0 (the baseline's output), α = 1 (the output), then the midpoints.
  const alphas = ig ? [0, 1, ...midpoints(o.steps)] : [1];
  const x0 = ig ? noReadsWindow(m.normalization, ds) : new Float64Array(W);
  const atOne = ig ? 1 : 0;
  const perGene = alphas.length;
  const classifierWidth = c.model.inputShape.reduce((a, b) => a * b, 1);
  const blockGenes = explainBlockGenes(genes.length, perGene, Math.max(W, classifierWidth));
  const n = genes.length;
  const attributions = new Float32Array(n * W);
  const outputs = new Float64Array(n);
  const baselineOutputs = ig ? new Float64Array(n) : undefined;
  const explainer = await openExplainer(m, ds, blockGenes * perGene, device, sources);
  const outside = outsideInputs(m.modelName) !== undefined ? new Float32Array(n) : undefined;
  try {
    for (let first = 0; first < n; first += blockGenes) {
      const count = Math.min(blockGenes, n - first);
      const rows = new Float64Array(count * perGene * W);
      const rowGene = new Uint32Array(count * perGene);
      for (let b = 0; b < count; b++) {
        const g = genes[first + b] as number;
        const x = ds.features.subarray(g * W, (g + 1) * W);
        alphas.forEach((alpha, k) => {
          const r = b * perGene + k;
          rowGene[r] = g;
          for (let i = 0; i < W; i++) rows[r * W + i] = (x0[i] as number) + alpha * ((x[i] as number) - (x0[i] as number));
        });
      }
      const { outputs: y, grads, outside: beyond } = await explainer.gradients(rows, rowGene);
      for (let b = 0; b < count; b++) {
        const g = genes[first + b] as number;
        const at = (first + b) * W;
        const row = (k: number): number => (b * perGene + k) * W;
        outputs[first + b] = y[b * perGene + atOne] as number;
        if (baselineOutputs) baselineOutputs[first + b] = y[b * perGene] as number;
        if (outside && beyond) outside[first + b] = beyond[b * perGene + atOne] as number;
        for (let i = 0; i < W; i++) {
          const x = ds.features[g * W + i] as number;
          let a: number;
          if (o.method === 'saliency') a = grads[row(0) + i] as number;
          else if (o.method === 'grad-input') a = x * (grads[row(0) + i] as number);
          else {
            let s = 0;
            for (let k = 2; k < perGene; k++) s += grads[row(k) + i] as number;
            a = ((x - (x0[i] as number)) * s) / o.steps;
          }
          attributions[at + i] = a;
        }
      }
      o.onProgress?.(first + count, n);
    }
  } finally {
    explainer.destroy();
  }
  const what = outsideInputs(m.modelName);
  return {
    method: o.method,
    ...(ig ? { steps: o.steps } : {}),
    genes,
    bins: ds.bins,
    marks: ds.marks.length,
    attributions,
    outputs,
    ...(baselineOutputs ? { baselineOutputs } : {}),
    ...(outside && what !== undefined ? { outside: { what, values: outside } } : {}),
    readsWindow: explainer.readsWindow,
  };
}

/** The mean attribution of each window value over a group of explained genes, and the mean of its magnitude. */
export interface MeanMap {
  readonly genes: number;
  /** [bins, marks] */
  readonly mean: Float64Array;
  readonly meanAbs: Float64Array;
}

/** The explained genes' mean maps, split by label: expressed (1) and silent (0). */
export function meanAttributionMaps(e: Explanation, labels: ArrayLike<number>): { readonly expressed: MeanMap; readonly silent: MeanMap } {
  const W = e.bins * e.marks;
  const group = (label: number): MeanMap => {
    const mean = new Float64Array(W);
    const meanAbs = new Float64Array(W);
    let genes = 0;
    e.genes.forEach((g, n) => {
      if (labels[g] !== label) return;
      genes++;
      for (let i = 0; i < W; i++) {
        const a = e.attributions[n * W + i] as number;
        mean[i] = (mean[i] as number) + a;
        meanAbs[i] = (meanAbs[i] as number) + Math.abs(a);
      }
    });
    if (genes > 0) for (let i = 0; i < W; i++) [mean[i], meanAbs[i]] = [(mean[i] as number) / genes, (meanAbs[i] as number) / genes];
    return { genes, mean, meanAbs };
  };
  return { expressed: group(1), silent: group(0) };
}
