import type { ChartSpec } from './render.ts';

// The experiment's figure: test AUROC against the number of labeled genes,
// one line per model, each point the mean over the runs at that size with a
// bar of ± one sd.

export interface SizePoint {
  readonly model: string;
  /** Labeled training genes (mean over the runs at this size). */
  readonly labeled: number;
  readonly mean: number;
  readonly sd: number;
  readonly runs: number;
}

export function aurocBySizeChart(title: string, subtitle: string, points: readonly SizePoint[]): ChartSpec {
  const values = points.map((p) => ({ ...p, low: p.mean - p.sd, high: p.mean + p.sd }));
  const x = { field: 'labeled', type: 'quantitative', title: 'labeled training genes', scale: { type: 'log' } } as const;
  const color = { field: 'model', type: 'nominal', title: 'model', sort: null } as const;
  return {
    title: { text: title, subtitle },
    width: 480,
    height: 320,
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'test AUROC (mean ± sd)', scale: { zero: false } }, color },
      },
      {
        mark: { type: 'errorbar', ticks: true },
        encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color },
      },
    ],
  } as ChartSpec;
}
