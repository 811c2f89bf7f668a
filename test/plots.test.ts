import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { latentChart } from '../src/plots/charts.ts';
import { pca, symmetricEigen } from '../src/plots/pca.ts';
import { renderSvg } from '../src/plots/render.ts';
import { writeRunPlots } from '../src/plots/runPlots.ts';
import { seededRandom } from '../src/util/random.ts';

// Every run draws its plots as SVG, headless: loss per epoch, test ROC and
// precision-recall, and for the VAE models the VAE loss and a PCA of the
// latent means. The SVGs are well-formed XML (checked by Python's parser) and
// carry the series they should: Vega labels each mark for screen readers,
// which is what these tests read.

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-plots-${tag}-`));
const quiet = { epoch: () => {}, vaeEpoch: () => {} };

function wellFormed(files: readonly string[]): void {
  const r = spawnSync('python3', ['-c', 'import sys, xml.etree.ElementTree as ET\nfor f in sys.argv[1:]:\n    assert ET.parse(f).getroot().tag.endswith("svg"), f', ...files], {
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
}

/** The aria-labels of the marks whose label matches, as key → value records. */
function markLabels(svg: string, includes: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of svg.matchAll(/aria-label="([^"]*)"/g)) {
    const text = m[1] as string;
    if (!text.includes(includes)) continue;
    out.push(Object.fromEntries(text.split('; ').map((kv) => kv.split(': ') as [string, string])));
  }
  return out;
}

describe('the plots of a training run', () => {
  let out: string;
  let metrics: { history: { epoch: number; trainLoss: number; valid: { loss: number } }[]; test: { auroc: number; aupr: number }; plots: string[] };
  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 30, seed: 61, bins: 4, cell: 'SYNTHETIC-PL' });
    out = join(root, 'run');
    await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-PL'), '--epochs', '3', '--batch', '8', '--out', out, '--quiet']), {
      progress: quiet,
    });
    metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as typeof metrics;
  });

  it('are written as well-formed SVG and listed in metrics.json', () => {
    expect(metrics.plots).toEqual(['loss.svg', 'roc.svg', 'pr.svg']);
    wellFormed(metrics.plots.map((f) => join(out, f)));
    expect(existsSync(join(out, 'latent.svg'))).toBe(false);
    for (const f of metrics.plots) expect(readFileSync(join(out, f), 'utf8')).toMatch(/^<svg [^>]*width="\d+" height="\d+"/);
  });

  it('loss.svg has a training and a validation point per epoch, at the losses of metrics.json', () => {
    const svg = readFileSync(join(out, 'loss.svg'), 'utf8');
    const points = markLabels(svg, 'binary cross-entropy: ');
    for (const series of ['train', 'validation'] as const) {
      const byEpoch = new Map(points.filter((p) => p.series === series).map((p) => [Number(p.epoch), Number(p['binary cross-entropy'])]));
      expect([...byEpoch.keys()].sort()).toEqual([1, 2, 3]);
      for (const h of metrics.history) {
        expect(byEpoch.get(h.epoch)).toBeCloseTo(series === 'train' ? h.trainLoss : h.valid.loss, 8);
      }
    }
    expect(svg).toContain('>train</text>');
    expect(svg).toContain('>validation</text>');
    expect(svg).toMatch(/>best epoch \d<\/text>/);
  });

  it('roc.svg and pr.svg name their areas as metrics.json has them, with their reference lines', () => {
    const roc = readFileSync(join(out, 'roc.svg'), 'utf8');
    expect(roc).toContain(`>ROC (AUROC ${metrics.test.auroc.toFixed(3)})</text>`);
    expect(roc).toContain('>chance</text>');
    expect(roc).toContain('>false positive rate</text>');
    const pr = readFileSync(join(out, 'pr.svg'), 'utf8');
    expect(pr).toContain(`>precision-recall (AUPR ${metrics.test.aupr.toFixed(3)})</text>`);
    expect(pr).toMatch(/>positive share 0\.\d{3}<\/text>/);
  });
});

describe('the VAE plots', () => {
  it('latent.svg shows one dot per gene coloured by label, and vae-loss.svg both loss series', async () => {
    const out = tmp('vae');
    const genes = 40;
    const Z = 3;
    const random = seededRandom(5);
    const labels = Array.from({ length: genes }, (_, g) => g % 2);
    const latents = Float32Array.from({ length: genes * Z }, (_, i) => random() + (labels[Math.floor(i / Z)] as number) * (i % Z === 0 ? 3 : 0));
    const history = [1, 2].map((epoch) => ({ epoch, trainLoss: 0.7 / epoch, valid: { auroc: 0.8, aupr: 0.8, accuracy: 0.7, loss: 0.6 }, seconds: 1, genesPerSecond: 1 }));
    const vaeHistory = [1, 2, 3].map((epoch) => ({ epoch, loss: 0.5 / epoch, reconstruction: 0.4 / epoch, kl: 2, seconds: 1, genesPerSecond: 1 }));
    const written = await writeRunPlots(out, {
      model: 'vae-mlp',
      cell: 'SYNTHETIC',
      history,
      bestEpoch: 1,
      test: { auroc: 0.9, aupr: 0.9, accuracy: 0.9, loss: 0.3 },
      testLabels: labels,
      testPredictions: labels.map((l, i) => 0.3 * l + i / 100),
      vaeHistory,
      latents: { values: latents, width: Z, labels },
    });
    expect(written).toEqual(['loss.svg', 'roc.svg', 'pr.svg', 'vae-loss.svg', 'latent.svg']);
    wellFormed(written.map((f) => join(out, f)));
    const latent = readFileSync(join(out, 'latent.svg'), 'utf8');
    const dots = markLabels(latent, 'PC1: ');
    expect(dots).toHaveLength(genes);
    expect(dots.filter((d) => d.expression === 'high (label 1)')).toHaveLength(genes / 2);
    expect(latent).toContain('>low (label 0)</text>');
    expect(latent).toMatch(/>40 of 40 genes; PC1 \d+\.\d%, PC2 \d+\.\d% of the variance<\/text>/);
    // Label 1 genes sit 3 units further along latent 0: PC1 separates the classes.
    const mean = (label: string) => {
      // Vega writes negative numbers with a Unicode minus sign.
      const xs = dots.filter((d) => d.expression === label).map((d) => Number((d.PC1 as string).replace('\u2212', '-')));
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(Math.abs(mean('high (label 1)') - mean('low (label 0)'))).toBeGreaterThan(2.5);
    const vaeLoss = readFileSync(join(out, 'vae-loss.svg'), 'utf8');
    expect(markLabels(vaeLoss, 'series: reconstruction (MSE)')).toHaveLength(vaeHistory.length + 1);
    expect(vaeLoss).toContain('>total (reconstruction + beta·KL)</text>');
  });

  it('a large latent set is subsampled to the limit, with the count said in the subtitle', async () => {
    const Z = 2;
    const latents = Float32Array.from({ length: 500 * Z }, (_, i) => Math.sin(i));
    const svg = await renderSvg(latentChart('t', latents, Z, Array.from({ length: 500 }, (_, g) => g % 2), 100));
    expect(markLabels(svg, 'PC1: ')).toHaveLength(100);
    expect(svg).toMatch(/>100 of 500 genes; /);
  });
});

describe('PCA', () => {
  it('finds the eigenvalues of a known symmetric matrix', () => {
    // [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 5, 3, 1.
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    expect(values.map((v) => Number(v.toFixed(12)))).toEqual([5, 3, 1]);
    expect(Math.abs(vectors[2 * 3 + 0] as number)).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0 * 3 + 1] as number)).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('projects points spread along one direction onto PC1, with their share of the variance', () => {
    const random = seededRandom(9);
    const rows = 200;
    const data = new Float64Array(rows * 3);
    for (let r = 0; r < rows; r++) {
      const t = 4 * (random() - 0.5);
      const noise = 0.01 * (random() - 0.5);
      data.set([t / Math.sqrt(5), (2 * t) / Math.sqrt(5), noise], r * 3);
    }
    const p = pca(data, 3, 2);
    expect(p.explained[0]).toBeGreaterThan(0.999);
    // PC1 coordinate is ±t: its spread matches the data's.
    const pc1 = Array.from({ length: rows }, (_, r) => p.points[2 * r] as number);
    const norm = (r: number) => Math.hypot(data[3 * r] as number, data[3 * r + 1] as number);
    const meanNorm = Array.from({ length: rows }, (_, r) => norm(r)).reduce((a, b) => a + b, 0) / rows;
    const meanAbs = pc1.reduce((a, b) => a + Math.abs(b), 0) / rows;
    expect(meanAbs).toBeCloseTo(meanNorm, 1);
    expect(() => pca(data, 7)).toThrow('pca: 600 values do not make rows of 7');
  });
});
