import type { TopLevelSpec } from 'vega-lite';

// Charts are Vega-Lite specifications compiled to Vega and rendered headless
// to SVG: no browser, no canvas, no native module. The libraries load on
// first use, so commands that draw nothing do not pay for them.

export type ChartSpec = TopLevelSpec;

export async function renderSvg(spec: ChartSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
