import type { ChartSpec } from './render.ts';

// Heatmaps of attributions (src/train/explain.ts): marks down, bins across,
// one panel per map, the colour diverging at 0 (blue below, red above) on one
// scale shared by the panels, so two panels' colours compare. The TSS is a
// dashed line: between the two centre bins of an even window, through the
// centre bin of an odd one (both at bins / 2 on a scale of bin edges).

export interface AttributionMap {
  /** The panel's title. */
  readonly title: string;
  /** [bins, marks], row-major as the dataset holds a window. */
  readonly values: ArrayLike<number>;
}

const PANEL = { width: 420, height: 120 } as const;

/** One heatmap per map, side by side; `legend` names what the colour is. */
export function attributionChart(title: string, subtitle: string, maps: readonly AttributionMap[], bins: number, marks: readonly string[], legend: string): ChartSpec {
  let largest = 0;
  for (const m of maps) for (let i = 0; i < m.values.length; i++) largest = Math.max(largest, Math.abs(m.values[i] as number));
  // A map of zeros still gets a scale that shows them white.
  const extent = largest > 0 ? largest : 1;
  const panel = (m: AttributionMap): Record<string, unknown> => {
    const cells: { bin: number; end: number; mark: string; value: number }[] = [];
    for (let b = 0; b < bins; b++) for (let k = 0; k < marks.length; k++) cells.push({ bin: b, end: b + 1, mark: marks[k] as string, value: m.values[b * marks.length + k] as number });
    return {
      title: m.title,
      ...PANEL,
      layer: [
        {
          data: { values: cells },
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'bin', type: 'quantitative', title: 'bin (TSS dashed)', scale: { domain: [0, bins], nice: false }, axis: { tickMinStep: 1, format: 'd' } },
            x2: { field: 'end' },
            y: { field: 'mark', type: 'nominal', title: null, sort: [...marks] },
            color: { field: 'value', type: 'quantitative', title: legend, scale: { scheme: 'redblue', reverse: true, domain: [-extent, extent], domainMid: 0 } },
          },
        },
        {
          data: { values: [{ tss: bins / 2 }] },
          mark: { type: 'rule', strokeDash: [4, 3], color: 'black' },
          encoding: { x: { field: 'tss', type: 'quantitative' } },
        },
      ],
    };
  };
  return {
    title: { text: title, subtitle },
    hconcat: maps.map(panel),
    resolve: { scale: { color: 'shared' } },
  } as unknown as ChartSpec;
}
