import { describe, expect, it } from 'vitest';
import { renderSvg } from '../src/plots/render.ts';
import { observedPredictedChart } from '../src/plots/scatterChart.ts';
import { rng } from './helpers.ts';

describe('observed vs predicted chart of a regression run', () => {
  it('draws one dot per gene, both axes on the log-expression scale, and names the correlations', async () => {
    const r = rng(3);
    const observed = Array.from({ length: 50 }, () => 4 * r());
    const predicted = observed.map((y) => 0.8 * y + 0.3 * r());
    const svg = await renderSvg(observedPredictedChart('mlp on E003: test genes', observed, predicted, { pearson: 0.9123, spearman: 0.8801 }));
    expect(svg).toContain('observed log10(RPKM + 1)');
    expect(svg).toContain('predicted log10(RPKM + 1)');
    expect(svg).toContain('Pearson 0.912, Spearman 0.880; 50 of 50 genes shown');
    expect(svg.match(/aria-roledescription="circle"/g)).toHaveLength(50);
  });

  it('keeps the SVG small on a whole split: at most maxPoints dots, and says how many', () => {
    const n = 7000;
    const spec = observedPredictedChart('t', new Float32Array(n).map((_, i) => i), new Float32Array(n).map((_, i) => i), { pearson: 1, spearman: 1 }, 3000);
    expect(JSON.stringify(spec)).toContain('3000 of 7000 genes shown');
  });
});
