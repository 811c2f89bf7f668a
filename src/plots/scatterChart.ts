import { type ChartSpec } from './render.ts';
import { seededSubsample } from './charts.ts';

// The regression run's test plot, in place of ROC and PR: observed against
// predicted log10(RPKM + 1), one dot per test gene, with the y = x line that
// a perfect model would lie on.

const SQUARE = { width: 360, height: 360 } as const;

export function observedPredictedChart(
  title: string,
  observed: ArrayLike<number>,
  predicted: ArrayLike<number>,
  scores: { readonly pearson: number; readonly spearman: number },
  maxPoints = 3000,
): ChartSpec {
  const keep = seededSubsample(observed.length, maxPoints);
  const rows = keep.map((g) => ({ observed: observed[g] as number, predicted: predicted[g] as number }));
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    lo = Math.min(lo, r.observed, r.predicted);
    hi = Math.max(hi, r.observed, r.predicted);
  }
  const f3 = (x: number): string => x.toFixed(3);
  return {
    title: {
      text: title,
      subtitle: `Pearson ${f3(scores.pearson)}, Spearman ${f3(scores.spearman)}; ${rows.length} of ${observed.length} genes shown`,
    },
    ...SQUARE,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'circle', size: 12, opacity: 0.5 },
        encoding: {
          x: { field: 'observed', type: 'quantitative', title: 'observed log10(RPKM + 1)', scale: { domain: [lo, hi] } },
          y: { field: 'predicted', type: 'quantitative', title: 'predicted log10(RPKM + 1)', scale: { domain: [lo, hi] } },
        },
      },
      {
        data: { values: [{ observed: lo, predicted: lo }, { observed: hi, predicted: hi }] },
        mark: { type: 'line', strokeDash: [4, 4], color: 'gray' },
        encoding: { x: { field: 'observed', type: 'quantitative' }, y: { field: 'predicted', type: 'quantitative' } },
      },
    ],
  } as ChartSpec;
}
