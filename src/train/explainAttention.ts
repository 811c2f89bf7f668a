import type { Dataset } from '../data/dataset.ts';
import { attentionMapsOf, usesNeighbors } from '../models/registry.ts';
import { type AttentionMapsOf, type PredictSources, type TrainedModel, predictWithAttention } from './predictWith.ts';
import type { Device } from './runModel.ts';

// An attention model's own weights for the genes `explain` attributes, to lie beside their gradients: what the
// model looked at (attention, ≥ 0, each softmax summing to 1) next to what moves its output (the attribution).
// The maps come from predict's pass (predictWithAttention), on the explained genes only; the maps are turned to
// the attributions' layout, [bins, marks], so that one heatmap drawer draws both.

/** The attention of the explained genes, in the order given, and its means over their expressed and silent genes. */
export interface ExplainedAttention {
  /** [genes, marks]: the mark-level weights; each gene's row sums to 1. */
  readonly marks: Float32Array;
  /** [genes, bins, marks]: each mark's weights over its bins, laid out as the attributions (each mark's column of a
   * gene sums to 1). */
  readonly bins: Float32Array;
  readonly expressed: MeanAttention;
  readonly silent: MeanAttention;
}

/** The mean attention over a group of genes. */
export interface MeanAttention {
  readonly genes: number;
  /** [marks] */
  readonly marks: Float64Array;
  /** [bins, marks] */
  readonly bins: Float64Array;
}

/** The rows `genes` of `ds` as a cell of their own. */
function rowsOf(ds: Dataset, genes: Uint32Array): Dataset {
  const pick = <T extends Uint8Array | Float32Array>(a: T, width: number, make: (n: number) => T): T => {
    const out = make(genes.length * width);
    genes.forEach((g, n) => out.set(a.subarray(g * width, (g + 1) * width), n * width));
    return out;
  };
  return {
    ...ds,
    genes: genes.length,
    features: pick(ds.features, ds.bins * ds.marks.length, (n) => new Float32Array(n)),
    labels: pick(ds.labels, 1, (n) => new Uint8Array(n)),
    split: pick(ds.split, 1, (n) => new Uint8Array(n)),
    geneIds: Array.from(genes, (g) => ds.geneIds[g] as string),
    ...(ds.expression ? { expression: pick(ds.expression, 1, (n) => new Float32Array(n)) } : {}),
    ...(ds.binMask ? { binMask: pick(ds.binMask, ds.bins, (n) => new Uint8Array(n)) } : {}),
  };
}

/** [genes, marks, bins] (as the attention layer holds it) → [genes, bins, marks]. */
function binsByWindow(a: AttentionMapsOf, genes: number, bins: number, marks: number): Float32Array {
  const out = new Float32Array(genes * bins * marks);
  for (let n = 0; n < genes; n++) {
    for (let k = 0; k < marks; k++) for (let b = 0; b < bins; b++) out[(n * bins + b) * marks + k] = a.bins[(n * marks + k) * bins + b] as number;
  }
  return out;
}

function meanOf(marks: Float32Array, bins: Float32Array, chosen: readonly number[], M: number, W: number): MeanAttention {
  const m = new Float64Array(M);
  const b = new Float64Array(W);
  for (const n of chosen) {
    for (let k = 0; k < M; k++) m[k] = (m[k] as number) + (marks[n * M + k] as number);
    for (let i = 0; i < W; i++) b[i] = (b[i] as number) + (bins[n * W + i] as number);
  }
  if (chosen.length > 0) {
    for (let k = 0; k < M; k++) m[k] = (m[k] as number) / chosen.length;
    for (let i = 0; i < W; i++) b[i] = (b[i] as number) / chosen.length;
  }
  return { genes: chosen.length, marks: m, bins: b };
}

/** The attention of `genes` (rows of `ds`, normalised for the model), or undefined for a model without attention
 * layers. */
export async function explainedAttention(
  m: TrainedModel,
  ds: Dataset,
  genes: Uint32Array,
  device: Device,
  sources: PredictSources = {},
): Promise<ExplainedAttention | undefined> {
  if (attentionMapsOf(m.modelName) === undefined) return undefined;
  const M = ds.marks.length;
  const W = ds.bins * M;
  // A model that reads neighbours finds them among the whole cell's genes: it runs on all of them.
  const whole = usesNeighbors(m.modelName);
  const { attention } = await predictWithAttention(m, whole ? ds : rowsOf(ds, genes), device, sources);
  const rowOf = whole ? genes : Uint32Array.from(genes.keys());
  const rows = (a: Float32Array, width: number): Float32Array =>
    Float32Array.from({ length: genes.length * width }, (_, i) => a[(rowOf[Math.floor(i / width)] as number) * width + (i % width)] as number);
  const picked: AttentionMapsOf = { marks: rows(attention.marks, M), bins: rows(attention.bins, W) };
  const bins = binsByWindow(picked, genes.length, ds.bins, M);
  const group = (label: number): MeanAttention =>
    meanOf(
      picked.marks,
      bins,
      Array.from(genes.keys()).filter((n) => ds.labels[genes[n] as number] === label),
      M,
      W,
    );
  return { marks: picked.marks, bins, expressed: group(1), silent: group(0) };
}
