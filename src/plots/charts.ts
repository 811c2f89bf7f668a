import { precisionRecallCurve } from '../metrics/aupr.ts';
import { rocCurve } from '../metrics/auroc.ts';
import { seededRandom } from '../util/random.ts';
import { pca } from './pca.ts';
import type { ChartSpec } from './render.ts';

// The charts every run draws, as Vega-Lite specifications over plain rows.
// Series names are fixed strings ("train", "validation", ...): they are the
// legend labels, and tests look for them in the SVG.

const SQUARE = { width: 360, height: 360 } as const;
const WIDE = { width: 480, height: 300 } as const;
const f3 = (x: number): string => x.toFixed(3);
/** Vega's category10 green: neither of the loss panel's two colours. */
const SCORE_COLOR = '#54a24b';

export interface LossPoint {
  readonly epoch: number;
  readonly series: string;
  readonly loss: number;
}

/** Loss per epoch, one line per series, with a rule at `markEpoch` (the best epoch) when given. */
export function lossChart(title: string, points: readonly LossPoint[], yTitle: string, markEpoch?: number): ChartSpec {
  return { title, ...WIDE, ...lossPanel(points, yTitle, markEpoch, true) } as ChartSpec;
}

/** One panel of lines per series over epochs (no title or size): its data, marks and encodings. `label`: the
 * best epoch's rule says which it is, at the top of the plot, left of the legend, which sits outside on the right. */
function lossPanel(points: readonly LossPoint[], yTitle: string, markEpoch: number | undefined, label: boolean, colors?: readonly string[]): Record<string, unknown> {
  const rows = points.filter((p) => Number.isFinite(p.loss));
  const line = {
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, scale: { zero: false } },
      y: { field: 'loss', type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { labelLimit: 400 }, ...(colors ? { scale: { range: colors } } : {}) },
    },
  };
  if (markEpoch === undefined) return { data: { values: rows.map((r) => ({ ...r })) }, ...line };
  const best = { data: { values: [{ epoch: markEpoch, label: `best epoch ${markEpoch}` }] } };
  return {
    data: { values: rows.map((r) => ({ ...r })) },
    layer: [
      line,
      { ...best, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
      ...(label
        ? [
            {
              ...best,
              mark: { type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'top', color: 'gray', y: 0 },
              encoding: { x: { field: 'epoch', type: 'quantitative' }, text: { field: 'label' } },
            },
          ]
        : []),
    ],
  };
}

/** A classifier's training curves: its losses per epoch above, its validation score (AUROC, or Pearson for the
 * expression target) per epoch below, on the same epochs, each panel with its own legend beside it and the best
 * epoch ruled in both (named once, in the upper). */
export function trainingChart(
  title: string,
  loss: { readonly points: readonly LossPoint[]; readonly yTitle: string },
  score: { readonly points: readonly LossPoint[]; readonly yTitle: string },
  markEpoch: number,
): ChartSpec {
  return {
    title,
    vconcat: [
      { ...WIDE, ...lossPanel(loss.points, loss.yTitle, markEpoch, true) },
      // Its own colour: the score is not the training loss drawn in the first colour above.
      { ...WIDE, height: WIDE.height / 2, ...lossPanel(score.points, score.yTitle, markEpoch, false, [SCORE_COLOR]) },
    ],
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as ChartSpec;
}

/** Test-set ROC curve (scikit-learn's points) with the chance diagonal. */
export function rocChart(title: string, labels: ArrayLike<number>, scores: ArrayLike<number>, area: number): ChartSpec {
  const c = rocCurve(labels, scores);
  const curve = Array.from(c.fpr, (fpr, i) => ({ fpr, tpr: c.tpr[i] as number, i, series: `ROC (AUROC ${f3(area)})` }));
  const chance = [
    { fpr: 0, tpr: 0, i: 0, series: 'chance' },
    { fpr: 1, tpr: 1, i: 1, series: 'chance' },
  ];
  return {
    title,
    ...SQUARE,
    data: { values: [...curve, ...chance] },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
      y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
      order: { field: 'i', type: 'quantitative' },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { orient: 'bottom-right', labelLimit: 400 } },
      strokeDash: { condition: { test: "datum.series === 'chance'", value: [4, 4] }, value: [1, 0] },
    },
  } as ChartSpec;
}

/** Test-set precision-recall curve, drawn as steps (average precision is the area under them), with the positive share as baseline. */
export function prChart(title: string, labels: ArrayLike<number>, scores: ArrayLike<number>, area: number): ChartSpec {
  const c = precisionRecallCurve(labels, scores);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] as number;
  const base = positives / labels.length;
  const curve = Array.from(c.recall, (recall, i) => ({ recall, precision: c.precision[i] as number, i, series: `precision-recall (AUPR ${f3(area)})` }));
  const baseline = [
    { recall: 0, precision: base, i: 0, series: `positive share ${f3(base)}` },
    { recall: 1, precision: base, i: 1, series: `positive share ${f3(base)}` },
  ];
  return {
    title,
    ...SQUARE,
    data: { values: [...curve, ...baseline] },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'recall', type: 'quantitative', title: 'recall', scale: { domain: [0, 1] } },
      y: { field: 'precision', type: 'quantitative', title: 'precision', scale: { domain: [0, 1] } },
      order: { field: 'i', type: 'quantitative' },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { orient: 'bottom-left', labelLimit: 400 } },
      strokeDash: { condition: { test: "indexof(datum.series, 'positive share') === 0", value: [4, 4] }, value: [1, 0] },
    },
  } as ChartSpec;
}

/** Indices 0..n-1, or a seeded ascending sample of `max` of them when n is larger: a dot chart's SVG stays small. */
export function seededSubsample(n: number, max: number): number[] {
  const keep = Array.from({ length: n }, (_, g) => g);
  if (n <= max) return keep;
  const random = seededRandom(0x91a7);
  for (let i = keep.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [keep[i], keep[j]] = [keep[j] as number, keep[i] as number];
  }
  return keep.slice(0, max).sort((a, b) => a - b);
}

/** Latent means projected to their first two principal components, one dot per gene coloured by label.
 * More than `maxPoints` genes are subsampled (seeded) to keep the SVG small. */
export function latentChart(title: string, latents: Float32Array, width: number, labels: ArrayLike<number>, maxPoints = 3000): ChartSpec {
  const genes = latents.length / width;
  const { points, explained } = pca(latents, width, 2);
  const keep = seededSubsample(genes, maxPoints);
  const rows = keep.map((g) => ({
    pc1: points[2 * g] as number,
    pc2: points[2 * g + 1] as number,
    expression: (labels[g] as number) === 1 ? 'high (label 1)' : 'low (label 0)',
  }));
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  return {
    title: { text: title, subtitle: `${rows.length} of ${genes} genes; PC1 ${pct(explained[0] ?? 0)}, PC2 ${pct(explained[1] ?? 0)} of the variance` },
    ...SQUARE,
    data: { values: rows },
    mark: { type: 'circle', size: 14, opacity: 0.6 },
    encoding: {
      x: { field: 'pc1', type: 'quantitative', title: 'PC1' },
      y: { field: 'pc2', type: 'quantitative', title: 'PC2' },
      color: { field: 'expression', type: 'nominal', title: 'expression', sort: ['low (label 0)', 'high (label 1)'], scale: { range: ['#4c78a8', '#e45756'] } },
    },
  } as ChartSpec;
}
