import type { ChartSpec } from './render.ts';

// The experiment's figure: test AUROC (or Pearson, for --target expression) against the number of labeled genes,
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

export function aurocBySizeChart(title: string, subtitle: string, points: readonly SizePoint[], metric = 'AUROC'): ChartSpec {
  const values = points.map((p) => ({ ...p, low: p.mean - p.sd, high: p.mean + p.sd }));
  // Domains from the bars, not the means, so no bar is cut off; the log axis gets room on both sides.
  const lows = values.map((v) => v.low);
  const highs = values.map((v) => v.high);
  const sizes = values.map((v) => v.labeled);
  const pad = 0.01;
  const yDomain = values.length > 0 ? [Math.min(...lows) - pad, Math.max(...highs) + pad] : [0, 1];
  const xDomain = values.length > 0 ? [Math.min(...sizes) / 1.4, Math.max(...sizes) * 1.4] : [1, 10];
  const x = { field: 'labeled', type: 'quantitative', title: 'labeled training genes', scale: { type: 'log', domain: xDomain, nice: false } } as const;
  const yTitle = `test ${metric} (mean ± sd)`;
  const color = { field: 'model', type: 'nominal', title: 'model', sort: null } as const;
  return {
    title: { text: title, subtitle },
    width: 480,
    height: 320,
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { domain: yDomain, nice: false } }, color },
      },
      {
        mark: { type: 'errorbar', ticks: true },
        encoding: { x, y: { field: 'low', type: 'quantitative', title: yTitle }, y2: { field: 'high' }, color },
      },
    ],
  } as ChartSpec;
}
