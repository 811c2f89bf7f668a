import { join } from 'node:path';
import { writeFileAtomically } from '../util/atomicFile.ts';
import type { EpochRecord, Scores } from '../train/trainClassifier.ts';
import { isClassScores, selectionName, selectionScore } from '../train/target.ts';
import type { VaeEpochRecord } from '../train/trainVae.ts';
import { type LossPoint, latentChart, lossChart, prChart, rocChart, trainingChart } from './charts.ts';
import { renderSvg } from './render.ts';
import { observedPredictedChart } from './scatterChart.ts';

// The SVG files every training run leaves in its directory:
//   loss.svg      classifier training and validation loss per epoch, and below it the validation AUROC
//                 (Pearson for --target expression) per epoch
//   roc.svg       ROC curve on the test genes
//   pr.svg        precision-recall curve on the test genes
//   scatter.svg   --target expression, instead of roc and pr: observed against predicted on the test genes
//   vae-loss.svg  VAE loss per epoch (vae-* models)
//   latent.svg    VAE latent means in 2-D (PCA), coloured by label (vae-* models)

export interface RunPlotInput {
  readonly model: string;
  readonly cell: string;
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  readonly test: Scores;
  /** Per test gene, in the same order: its label and probability, or its observed and predicted log10(RPKM + 1). */
  readonly testLabels: ArrayLike<number>;
  readonly testPredictions: ArrayLike<number>;
  readonly vaeHistory?: readonly VaeEpochRecord[];
  /** Latent means [genes, width] and every gene's label. */
  readonly latents?: { readonly values: Float32Array; readonly width: number; readonly labels: ArrayLike<number> };
}

export const PLOT_FILES = {
  loss: 'loss.svg',
  roc: 'roc.svg',
  pr: 'pr.svg',
  scatter: 'scatter.svg',
  vaeLoss: 'vae-loss.svg',
  latent: 'latent.svg',
} as const;

/** Renders and writes the run's plots; returns the file names written. */
export async function writeRunPlots(out: string, r: RunPlotInput): Promise<string[]> {
  const what = `${r.model} on ${r.cell}`;
  const loss: LossPoint[] = [];
  const score: LossPoint[] = [];
  const t = r.test;
  const scoreSeries = `validation ${selectionName(isClassScores(t) ? 'class' : 'expression')}`;
  for (const h of r.history) {
    loss.push({ epoch: h.epoch, series: 'train', loss: h.trainLoss });
    loss.push({ epoch: h.epoch, series: 'validation', loss: h.valid.loss });
    score.push({ epoch: h.epoch, series: scoreSeries, loss: selectionScore(h.valid) });
  }
  const n = r.testLabels.length;
  const curves = (lossTitle: string) =>
    renderSvg(trainingChart(`${what}: loss and ${scoreSeries} per epoch`, { points: loss, yTitle: lossTitle }, { points: score, yTitle: scoreSeries }, r.bestEpoch));
  const charts: [string, Promise<string>][] = isClassScores(t)
    ? [
        [PLOT_FILES.loss, curves('binary cross-entropy')],
        [PLOT_FILES.roc, renderSvg(rocChart(`${what}: ROC, ${n} test genes`, r.testLabels, r.testPredictions, t.auroc))],
        [PLOT_FILES.pr, renderSvg(prChart(`${what}: precision-recall, ${n} test genes`, r.testLabels, r.testPredictions, t.aupr))],
      ]
    : [
        [PLOT_FILES.loss, curves('mean squared error')],
        [PLOT_FILES.scatter, renderSvg(observedPredictedChart(`${what}: test genes, observed vs predicted`, r.testLabels, r.testPredictions, t))],
      ];
  if (r.vaeHistory && r.vaeHistory.length > 0) {
    const vae: LossPoint[] = [];
    for (const h of r.vaeHistory) {
      vae.push({ epoch: h.epoch, series: 'total (reconstruction + beta·KL)', loss: h.loss });
      vae.push({ epoch: h.epoch, series: 'reconstruction (MSE)', loss: h.reconstruction });
    }
    charts.push([PLOT_FILES.vaeLoss, renderSvg(lossChart(`VAE on ${r.cell}: training loss per epoch`, vae, 'loss per gene'))]);
  }
  if (r.latents) {
    const { values, width, labels } = r.latents;
    charts.push([PLOT_FILES.latent, renderSvg(latentChart(`VAE latent means of ${r.cell}, PCA`, values, width, labels))]);
  }
  const written: string[] = [];
  for (const [name, svg] of charts) {
    await writeFileAtomically(join(out, name), await svg);
    written.push(name);
  }
  return written;
}
