import type { MeanMap } from '../train/explain.ts';
import type { MeanAttention } from '../train/explainAttention.ts';
import type { ChartSpec } from './render.ts';

// Heatmaps of a gene window (src/train/explain.ts's attributions, an attention
// model's bin-level attention): marks down, bins across, one panel per map.
// Attributions take a colour diverging at 0 (blue below, red above), attention
// (≥ 0) a sequential one from white at 0 to purple, a hue of its own; either way the panels of one chart share the
// scale, so two panels' colours compare. The TSS is a dashed line: between the
// two centre bins of an even window, through the centre bin of an odd one
// (both at bins / 2 on a scale of bin edges). An attention model's mark-level
// weights are bars beside. The command line's files and the page draw these
// same specifications.

export interface WindowMap {
  /** The panel's title. */
  readonly title: string;
  /** [bins, marks], row-major as the dataset holds a window. */
  readonly values: ArrayLike<number>;
}

/** diverging: signed values, white at 0; sequential: values ≥ 0, white at 0. */
export type ColourScale = 'diverging' | 'sequential';

const PANEL = { width: 420, height: 120 } as const;
/** A heatmap's width where two sit beside each other with the bars, so that a gene's chart fits a page. */
const BESIDE = 230;
const BARS = { width: 120, height: 120 } as const;

function largestMagnitude(maps: readonly { readonly values: ArrayLike<number> }[]): number {
  let largest = 0;
  for (const m of maps) for (let i = 0; i < m.values.length; i++) largest = Math.max(largest, Math.abs(m.values[i] as number));
  // A map of zeros still gets a scale that shows them white.
  return largest > 0 ? largest : 1;
}

/** One heatmap per map, side by side on one colour scale; `legend` names what the colour is. */
function heatmaps(maps: readonly WindowMap[], bins: number, marks: readonly string[], legend: string, colour: ColourScale, width: number = PANEL.width): Record<string, unknown> {
  const extent = largestMagnitude(maps);
  const scale = colour === 'diverging' ? { scheme: 'redblue', reverse: true, domain: [-extent, extent], domainMid: 0 } : { domain: [0, extent], range: ['#ffffff', '#54278f'] };
  const panel = (m: WindowMap): Record<string, unknown> => {
    const cells: { bin: number; end: number; mark: string; value: number }[] = [];
    for (let b = 0; b < bins; b++) for (let k = 0; k < marks.length; k++) cells.push({ bin: b, end: b + 1, mark: marks[k] as string, value: m.values[b * marks.length + k] as number });
    return {
      title: m.title,
      ...PANEL,
      width,
      layer: [
        {
          data: { values: cells },
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'bin', type: 'quantitative', title: 'bin (TSS dashed)', scale: { domain: [0, bins], nice: false }, axis: { tickMinStep: 1, format: 'd' } },
            x2: { field: 'end' },
            y: { field: 'mark', type: 'nominal', title: null, sort: [...marks] },
            color: { field: 'value', type: 'quantitative', title: legend, scale },
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
  return { hconcat: maps.map(panel), resolve: { scale: { color: 'shared' } } };
}

/** Bars of one weight per mark (an attention model's mark-level attention), one panel per map, on one axis. */
function markBars(maps: readonly { readonly title: string; readonly values: ArrayLike<number> }[], marks: readonly string[], axis: string): Record<string, unknown> {
  const largest = largestMagnitude(maps);
  return {
    hconcat: maps.map((m) => ({
      title: m.title,
      ...BARS,
      data: { values: marks.map((mark, k) => ({ mark, weight: m.values[k] as number })) },
      mark: { type: 'bar', color: '#54278f' },
      encoding: {
        y: { field: 'mark', type: 'nominal', title: null, sort: [...marks] },
        x: { field: 'weight', type: 'quantitative', title: axis, scale: { domain: [0, largest] } },
      },
    })),
  };
}

/** Heatmaps of signed maps side by side, the colour diverging at 0. */
export function attributionChart(title: string, subtitle: string, maps: readonly WindowMap[], bins: number, marks: readonly string[], legend: string): ChartSpec {
  return { title: { text: title, subtitle }, ...heatmaps(maps, bins, marks, legend, 'diverging') } as unknown as ChartSpec;
}

/** One gene's explanation as `explain` draws it. */
export interface GeneMap {
  readonly cell: string;
  readonly geneId: string;
  /** Its label: 1 expressed, 0 silent. */
  readonly expressed: boolean;
  readonly method: string;
  /** The model's output at the gene's window. */
  readonly output: number;
  /** The rest of the subtitle: the model, the data, what the method's number is. */
  readonly about: string;
  /** [bins, marks] */
  readonly attribution: ArrayLike<number>;
  /** An attention model's weights for the gene: `bins` [bins, marks] (each mark's column sums to 1), `marks` [marks]. */
  readonly attention?: { readonly bins: ArrayLike<number>; readonly marks: ArrayLike<number> };
}

/** A gene's attribution heatmap and, for an attention model, its bin-level attention beside it and its mark-level
 * attention as bars. */
export function geneMapChart(g: GeneMap, bins: number, marks: readonly string[]): ChartSpec {
  const title = `${g.cell} gene ${g.geneId} (${g.expressed ? 'expressed' : 'silent'}): ${g.method}`;
  const subtitle = `output ${g.output.toFixed(3)}; ${g.about}`;
  const attribution: WindowMap = { title: g.geneId, values: g.attribution };
  if (!g.attention) return attributionChart(title, subtitle, [attribution], bins, marks, 'attribution');
  // The panels sit directly side by side (short titles: a title wider than its panel widens the gap beside it).
  const panels = [
    heatmaps([{ ...attribution, title: `${g.method} attribution` }], bins, marks, 'attribution', 'diverging', BESIDE),
    heatmaps([{ title: 'bin attention', values: g.attention.bins }], bins, marks, 'attention', 'sequential', BESIDE),
    markBars([{ title: 'mark attention', values: g.attention.marks }], marks, 'weight'),
  ].flatMap((c) => c.hconcat as Record<string, unknown>[]);
  return {
    title: { text: `${title}, beside its attention`, subtitle: [subtitle, "attention: each mark's weights over its bins sum to 1, and the marks' weights sum to 1"] },
    hconcat: panels,
    resolve: { scale: { color: 'independent' } },
  } as unknown as ChartSpec;
}

/** The explained genes' groups by label, as the mean maps name them. */
export interface ByLabel<T> {
  readonly expressed: T;
  readonly silent: T;
}

const groupTitle = (group: keyof ByLabel<unknown>, genes: number): string => `${group} (label ${group === 'expressed' ? 1 : 0}, ${genes} genes)`;

/** The expressed and silent genes' mean maps side by side: `pick` chooses the signed mean or the mean |attribution|. */
export function meanMapsChart(
  title: string,
  subtitle: string,
  maps: ByLabel<MeanMap>,
  pick: 'mean' | 'meanAbs',
  bins: number,
  marks: readonly string[],
): ChartSpec {
  const groups = (['expressed', 'silent'] as const).map((group) => ({ title: groupTitle(group, maps[group].genes), values: maps[group][pick] }));
  return attributionChart(title, subtitle, groups, bins, marks, pick === 'mean' ? 'mean' : 'mean |a|');
}

/** The expressed and silent genes' mean |attribution| maps, their mean bin-level attention beneath, and their mean
 * mark-level attention as bars. */
export function meanAttentionChart(
  title: string,
  subtitle: string,
  maps: ByLabel<MeanMap>,
  attention: ByLabel<MeanAttention>,
  bins: number,
  marks: readonly string[],
): ChartSpec {
  const GROUPS = ['expressed', 'silent'] as const;
  return {
    title: { text: title, subtitle },
    vconcat: [
      heatmaps(GROUPS.map((g) => ({ title: `mean |attribution|, ${groupTitle(g, maps[g].genes)}`, values: maps[g].meanAbs })), bins, marks, 'mean |a|', 'diverging'),
      heatmaps(GROUPS.map((g) => ({ title: `mean bin attention, ${groupTitle(g, attention[g].genes)}`, values: attention[g].bins })), bins, marks, 'mean attention', 'sequential'),
      markBars(GROUPS.map((g) => ({ title: `mean mark attention, ${g}`, values: attention[g].marks })), marks, 'mean weight'),
    ],
    resolve: { scale: { color: 'independent' } },
  } as unknown as ChartSpec;
}
