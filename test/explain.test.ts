import { beforeAll, describe, expect, it } from 'vitest';
import { type Cell, type Trained, train } from '../src/api/core.ts';
import type { Dataset } from '../src/data/dataset.ts';
import type { ExpressionTable } from '../src/data/expressionTable.ts';
import type { Neighbors } from '../src/data/neighbors.ts';
import { applyNormalization } from '../src/data/normalize.ts';
import type { ModelSetting } from '../src/models/definition.ts';
import { MODEL_NAMES, type ModelName, outsideInputs, takesSetting } from '../src/models/registry.ts';
import { explainWith, openExplainer } from '../src/train/explain.ts';
import { type PredictSources, predictOutputs } from '../src/train/predictWith.ts';
import type { Device } from '../src/train/runModel.ts';
import { seededRandom } from '../src/util/random.ts';
import { getGpu, maxRelError } from './helpers.ts';

// explain's input gradients for every registered model, trained for an epoch on a tiny synthetic cell: against
// float64 central differences of the model's own output (through the VAE encoder's mean for the latent models,
// through the features' Jacobian for the derived ones); its output at windows moved off the data against
// predict's (so the path the gradient runs back through is the one predict runs forward); integrated gradients'
// completeness; and the GPU against the CPU.

const GENES = 48;
const BINS = 19;
const MARKS = ['H3K27me3', 'H3K4me3', 'H3K9me3'];
const W = BINS * MARKS.length;
const CELL = 'S';
const idOf = (g: number): string => String(100001 + g);

function syntheticCell(): Dataset {
  const random = seededRandom(11);
  const features = new Float32Array(GENES * W);
  const labels = new Uint8Array(GENES);
  const split = new Uint8Array(GENES);
  for (let g = 0; g < GENES; g++) {
    labels[g] = g % 2;
    split[g] = g < 28 ? 0 : g < 38 ? 1 : 2;
    for (let i = 0; i < W; i++) features[g * W + i] = Math.floor(random() * 6) + (labels[g] === 1 && i % MARKS.length === 1 ? 3 : 0);
  }
  return { cell: CELL, genes: GENES, bins: BINS, marks: MARKS, features, labels, split, geneIds: Array.from({ length: GENES }, (_, g) => idOf(g)), source: ['synthetic'] };
}

/** Four cells, this one among them; gene 5 is missing from the table. */
function expressionTable(): ExpressionTable {
  const random = seededRandom(12);
  const genes = Array.from({ length: GENES }, (_, g) => `ENSG${idOf(g).padStart(11, '0')}`).filter((_, g) => g !== 5);
  const rpkm = Float64Array.from({ length: genes.length * 4 }, () => random() * 50);
  return { cells: ['A', CELL, 'B', 'C'], genes, split: new Uint8Array(genes.length), rpkm, rowOf: new Map(genes.map((id, i) => [id, i])), source: 'table.csv' };
}

/** Spatial neighbours by id: gene n's are n − 1 and n + 1 (where they exist), found at the first row holding that
 * id, so a copy of a gene appended to the dataset has the original's neighbours. */
async function neighborsOf(ds: Dataset): Promise<Neighbors> {
  const first = new Map<string, number>();
  ds.geneIds.forEach((id, r) => {
    if (!first.has(id)) first.set(id, r);
  });
  const index = new Int32Array(ds.genes * 2);
  const mask = new Uint8Array(ds.genes * 2);
  ds.geneIds.forEach((id, r) => {
    const n = Number(id) - 100001;
    [n - 1, n + 1].forEach((h, j) => {
      const row = first.get(idOf(h));
      if (h < 0 || h >= GENES || row === undefined) return;
      index[r * 2 + j] = row;
      mask[r * 2 + j] = 1;
    });
  });
  return { kind: 'spatial', k: 1, width: 2, index, mask, score: new Float64Array(ds.genes * 2), unmatched: [] };
}

const sources: PredictSources = { neighbors: neighborsOf, expressionTable: async () => expressionTable() };
const CPU: Device = { kind: 'cpu' };
const F64: Device = { kind: 'cpu', precision: 'f64' };
const CHECKED_GENES = [3, 30];

/** Tiny sizes for the settings only some models read. */
const TINY: Readonly<Partial<Record<ModelSetting, number | string>>> = { vaeEpochs: 1, latent: 3, vaeBatch: 8, neighbors: 'spatial', k: 1 };

const trained = new Map<ModelName, Trained>();
let ds: Dataset;

beforeAll(async () => {
  const cell: Cell = { dataset: syntheticCell(), layout: 'deepchrome' };
  for (const model of MODEL_NAMES) {
    // The model-specific settings where the model reads them (the API refuses one it would ignore).
    const own = Object.fromEntries(Object.entries(TINY).filter(([key]) => takesSetting(model, key as ModelSetting)));
    trained.set(model, await train(cell, { model, epochs: 1, batch: 8, seed: 3, sources, ...own }));
  }
  ds = applyNormalization(cell.dataset, (trained.get(MODEL_NAMES[0] as ModelName) as Trained).normalization);
}, 600_000);

/** The window of gene `g`, as float64 rows, `copies` times. */
function windowRows(g: number, copies = 1): Float64Array {
  const rows = new Float64Array(copies * W);
  for (let c = 0; c < copies; c++) for (let i = 0; i < W; i++) rows[c * W + i] = ds.features[g * W + i] as number;
  return rows;
}

describe.each(MODEL_NAMES.map((m) => [m]))('explain %s', (model) => {
  it('gives the gradient of its output with respect to the window, against float64 central differences', async () => {
    const m = (trained.get(model) as Trained).model;
    const explainer = await openExplainer(m, ds, 64, F64, sources);
    try {
      const g = CHECKED_GENES[0] as number;
      const analytic = (await explainer.gradients(windowRows(g), Uint32Array.of(g))).grads;
      // Every other window value of the gene (every mark, bins across the window), moved by ±h one at a time:
      // the rows of one run.
      const h = 1e-6;
      const picked = Array.from({ length: Math.ceil(W / 2) }, (_, j) => 2 * j);
      const rows = windowRows(g, 2 * picked.length);
      picked.forEach((i, j) => {
        rows[2 * j * W + i] = (rows[2 * j * W + i] as number) + h;
        rows[(2 * j + 1) * W + i] = (rows[(2 * j + 1) * W + i] as number) - h;
      });
      const y = (await explainer.gradients(rows, new Uint32Array(2 * picked.length).fill(g))).outputs;
      const numeric = picked.map((_, j) => ((y[2 * j] as number) - (y[2 * j + 1] as number)) / (2 * h));
      expect(maxRelError(picked.map((i) => analytic[i] as number), numeric), `${model}, gene ${g}`).toBeLessThan(1e-5);
      if (explainer.readsWindow) expect(Math.max(...numeric.map(Math.abs)), `${model}, gene ${g}: a gradient of zero checks nothing`).toBeGreaterThan(0);
    } finally {
      explainer.destroy();
    }
  });

  it("gives predict's output at windows moved off the data, its other inputs (neighbours, the table) as they are", async () => {
    const m = (trained.get(model) as Trained).model;
    const random = seededRandom(5);
    // The checked genes again as appended copies, their windows moved by up to ±0.5.
    const moved = Float32Array.from(CHECKED_GENES.flatMap((g) => Array.from(ds.features.subarray(g * W, (g + 1) * W), (x) => x + random() - 0.5)));
    const copies = CHECKED_GENES.length;
    const wider: Dataset = {
      ...ds,
      genes: ds.genes + copies,
      features: Float32Array.from([...ds.features, ...moved]),
      labels: Uint8Array.from([...ds.labels, ...CHECKED_GENES.map((g) => ds.labels[g] as number)]),
      split: Uint8Array.from([...ds.split, ...CHECKED_GENES.map(() => 2)]),
      geneIds: [...ds.geneIds, ...CHECKED_GENES.map((g) => ds.geneIds[g] as string)],
    };
    const predicted = (await predictOutputs(m, wider, CPU, sources)).subarray(ds.genes);
    const explainer = await openExplainer(m, ds, 8, F64, sources);
    try {
      const ours = (await explainer.gradients(Float64Array.from(moved), Uint32Array.from(CHECKED_GENES))).outputs;
      expect(maxRelError(ours, predicted)).toBeLessThan(1e-5);
    } finally {
      explainer.destroy();
    }
  });

  it('integrated gradients add up to f(x) − f(no reads); grad-input is x times saliency; outside inputs are named', async () => {
    const m = (trained.get(model) as Trained).model;
    const genes = Uint32Array.from(CHECKED_GENES);
    const ig = await explainWith(m, ds, genes, { method: 'integrated-gradients', steps: 64 }, F64, sources);
    const saliency = await explainWith(m, ds, genes, { method: 'saliency', steps: 1 }, F64, sources);
    const gradInput = await explainWith(m, ds, genes, { method: 'grad-input', steps: 1 }, F64, sources);
    genes.forEach((g, n) => {
      let sum = 0;
      for (let i = 0; i < W; i++) sum += ig.attributions[n * W + i] as number;
      const change = (ig.outputs[n] as number) - (ig.baselineOutputs?.[n] as number);
      expect(Math.abs(sum - change), `${model}, gene ${g}: Σ ${sum} against f(x) − f(0) = ${change}`).toBeLessThan(0.02 * Math.max(Math.abs(change), 0.05));
      for (let i = 0; i < W; i++) {
        expect(gradInput.attributions[n * W + i]).toBeCloseTo((ds.features[g * W + i] as number) * (saliency.attributions[n * W + i] as number), 5);
      }
    });
    // Rows in batches of another size may sum in another order: equal to float64's rounding.
    expect(maxRelError(ig.outputs, saliency.outputs)).toBeLessThan(1e-12);
    expect(ig.outside?.what).toBe(outsideInputs(model));
    if (!ig.readsWindow) expect(ig.attributions.every((a) => a === 0)).toBe(true);
  });
});

/** The layers the GPU runs on the way back to the window: conv, max-pool, dropout and dense; the VAE encoder's
 * mean path seeded with the classifier's gradient beside neighbours' latents. (A derived model's Jacobian is host
 * code, the same on either device.) */
const ON_GPU = ['deepchrome', 'vae-mlp-neighbors'].filter((m): m is ModelName => (MODEL_NAMES as readonly string[]).includes(m));

describe('explain on the GPU', () => {
  it(`gives the CPU path its attributions (${ON_GPU.join(', ')})`, async () => {
    expect(ON_GPU).toHaveLength(2);
    const gpu: Device = { kind: 'gpu', gpu: await getGpu() };
    const genes = Uint32Array.of(3, 30, 41);
    for (const model of ON_GPU) {
      const m = (trained.get(model) as Trained).model;
      const o = { method: 'integrated-gradients', steps: 3 } as const;
      const [onGpu, onCpu] = [await explainWith(m, ds, genes, o, gpu, sources), await explainWith(m, ds, genes, o, CPU, sources)];
      expect(maxRelError(onGpu.attributions, onCpu.attributions), model).toBeLessThan(1e-4);
      expect(maxRelError(onGpu.outputs, onCpu.outputs), model).toBeLessThan(1e-4);
    }
  }, 300_000);
});
