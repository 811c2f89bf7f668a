import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { type Cell, explain as explainApi, loadCell, predict as predictApi } from '../src/api/index.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { MODEL_NAMES, attentionMapsOf } from '../src/models/registry.ts';
import { attributionChart, geneMapChart } from '../src/plots/attributionCharts.ts';
import { renderSvg } from '../src/plots/render.ts';
import { runMain } from './cliHelpers.ts';

// explain on an attention model (attentivechrome) draws its attention beside the attributions: each named gene's
// bin-level attention map and mark-level weights beside its gradient heatmap, and the mean attention of the
// expressed and silent genes beside their mean |attribution| maps; the maps are predict --attention's for those
// genes. A model without attention writes what it wrote before, chart for chart. A tiny synthetic cell, one epoch,
// the CPU.

const tmp = (tag: string): string => mkdtempSync(join(tmpdir(), `sc-explain-attention-${tag}-`));
const BINS = 6;
const MARKS = ['H3K27me3', 'H3K36me3', 'H3K4me1', 'H3K4me3', 'H3K9me3'];
const M = MARKS.length;
const W = BINS * M;
const attentionModel = MODEL_NAMES.find((n) => attentionMapsOf(n) !== undefined) as string;
const plainModel = MODEL_NAMES.find((n) => n === 'logreg') as string;
const STEM = 'SYNTHETIC-A-saliency';

let data: string;
let cell: Cell;
/** One expressed and one silent test gene. */
let genes: string[];
let attentive: string;
let plain: string;

const explainCli = (model: string, ...more: string[]) =>
  runMain(['explain', '--cpu', '--model', model, '--data', data, '--method', 'saliency', '--genes', genes.join(','), '--quiet', ...more]);

beforeAll(async () => {
  const root = tmp('data');
  await writeSynthetic(root, { genes: 30, seed: 5, bins: BINS, cell: 'SYNTHETIC-A' });
  data = join(root, 'SYNTHETIC-A');
  cell = await loadCell(data);
  const ds = cell.dataset;
  const test = (label: number): string => ds.geneIds[ds.geneIds.findIndex((_, g) => ds.split[g] === 2 && ds.labels[g] === label)] as string;
  genes = [test(1), test(0)];
  attentive = join(tmp('attentive'), 'run');
  plain = join(tmp('plain'), 'run');
  for (const [name, out] of [[attentionModel, attentive], [plainModel, plain]] as const) {
    const r = await runMain(['train', '--cpu', '--model', name, '--data', data, '--epochs', '1', '--batch', '10', '--seed', '3', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 300_000);

describe(`explain on an attention model (${attentionModel})`, () => {
  let out: string;
  let stderr: string;
  beforeAll(async () => {
    const r = await runMain(['explain', '--cpu', '--model', attentive, '--data', data, '--method', 'saliency', '--genes', genes.join(',')]);
    expect(r.code, r.stderr).toBe(0);
    stderr = r.stderr;
    out = join(attentive, 'explain');
  }, 300_000);

  it('writes the attention charts beside the attribution ones, and says so', () => {
    expect(readdirSync(out).sort()).toEqual(
      [
        `${STEM}.attributions.safetensors`,
        `${STEM}.gene-${genes[0]}.svg`,
        `${STEM}.gene-${genes[1]}.svg`,
        `${STEM}.json`,
        `${STEM}.mean-abs-maps.svg`,
        `${STEM}.mean-attention-maps.svg`,
        `${STEM}.mean-maps.svg`,
        `${STEM}.mean.csv`,
      ].sort(),
    );
    expect(stderr).toContain(`explain: ${attentionModel} has attention layers: its attention is drawn beside the attributions (${STEM}.mean-attention-maps.svg and the gene maps)`);
  });

  it('draws each gene’s attribution, bin-level attention and mark-level attention, titled by the gene and its label', () => {
    for (const [id, label] of [[genes[0], 'expressed'], [genes[1], 'silent']] as const) {
      const svg = readFileSync(join(out, `${STEM}.gene-${id}.svg`), 'utf8');
      expect(svg).toContain(`SYNTHETIC-A gene ${id} (${label}): saliency, beside its attention`);
      expect(svg).toContain('saliency attribution');
      expect(svg).toContain('bin attention');
      expect(svg).toContain('mark attention');
      expect(svg).toContain("attention: each mark's weights over its bins sum to 1, and the marks' weights sum to 1");
      expect(svg).toContain('bin (TSS dashed)');
      for (const mark of MARKS) expect(svg).toContain(mark);
    }
  });

  it('draws the expressed and silent genes’ mean attention beside their mean |attribution|', () => {
    const svg = readFileSync(join(out, `${STEM}.mean-attention-maps.svg`), 'utf8');
    expect(svg).toContain(`SYNTHETIC-A: mean |saliency| attribution beside ${attentionModel}'s attention`);
    for (const what of ['mean |attribution|', 'mean bin attention']) {
      expect(svg).toContain(`${what}, expressed (label 1, 1 genes)`);
      expect(svg).toContain(`${what}, silent (label 0, 1 genes)`);
    }
    expect(svg).toContain('mean mark attention, expressed');
    for (const mark of MARKS) expect(svg).toContain(mark);
  });

  it('keeps the maps with the attributions: predict --attention’s, laid out [gene, bin, mark], and the API’s', async () => {
    const file = await readSafetensors(join(out, `${STEM}.attributions.safetensors`));
    expect(file.tensors.get('bin_attention')?.shape).toEqual([2, BINS, M]);
    expect(file.tensors.get('mark_attention')?.shape).toEqual([2, M]);
    expect(file.metadata.layout).toBe('attribution[gene, bin, mark], bin_attention[gene, bin, mark], mark_attention[gene, mark]; marks in the order of "marks"');
    const bins = file.tensors.get('bin_attention')?.data as Float32Array;
    const marks = file.tensors.get('mark_attention')?.data as Float32Array;
    const predicted = (await predictApi(attentive, cell, { device: 'cpu', attention: true })).attention;
    if (!predicted) throw new Error('predict gave no attention');
    genes.forEach((id, n) => {
      const g = cell.dataset.geneIds.indexOf(id);
      for (let k = 0; k < M; k++) {
        expect(marks[n * M + k]).toBe(predicted.marks[g * M + k]);
        let column = 0;
        for (let b = 0; b < BINS; b++) {
          expect(bins[n * W + b * M + k]).toBe(predicted.bins[(g * M + k) * BINS + b]);
          column += bins[n * W + b * M + k] as number;
        }
        expect(Math.abs(column - 1)).toBeLessThan(1e-5);
      }
    });
    const api = await explainApi(attentive, cell, { device: 'cpu', method: 'saliency', genes });
    expect(Array.from(api.attention?.bins ?? [])).toEqual(Array.from(bins));
    expect(Array.from(api.attention?.marks ?? [])).toEqual(Array.from(marks));
    // One gene a group: each group's mean is its gene's map.
    expect(Array.from(api.attention?.expressed.bins ?? [])).toEqual(Array.from(bins.subarray(0, W)));
    expect(Array.from(api.attention?.silent.marks ?? [])).toEqual(Array.from(marks.subarray(M, 2 * M)));
    expect((await explainApi(attentive, cell, { device: 'cpu', method: 'saliency', genes, attention: false })).attention).toBeUndefined();
  }, 120_000);
});

describe('explain on a model without attention', () => {
  it('writes what it wrote before: no attention file or tensor, the gene map the attribution heatmap alone', async () => {
    const r = await explainCli(plain);
    expect(r.code, r.stderr).toBe(0);
    const out = join(plain, 'explain');
    expect(readdirSync(out).sort()).toEqual(
      [`${STEM}.attributions.safetensors`, `${STEM}.gene-${genes[0]}.svg`, `${STEM}.gene-${genes[1]}.svg`, `${STEM}.json`, `${STEM}.mean-abs-maps.svg`, `${STEM}.mean-maps.svg`, `${STEM}.mean.csv`].sort(),
    );
    const file = await readSafetensors(join(out, `${STEM}.attributions.safetensors`));
    expect([...file.tensors.keys()].sort()).toEqual(['attribution', 'label', 'output', 'split']);
    expect(file.metadata.layout).toBe('attribution[gene, bin, mark]; marks in the order of "marks"');
    // The gene's chart is the one heatmap it was before attention was drawn beside.
    const attributions = file.tensors.get('attribution')?.data as Float32Array;
    const outputs = file.tensors.get('output')?.data as Float32Array;
    const about = `${plainModel} trained on SYNTHETIC-A, 2 genes of SYNTHETIC-A; the gradient of the output with respect to each window value (signed)`;
    const before = attributionChart(
      `SYNTHETIC-A gene ${genes[0]} (expressed): saliency`,
      `output ${(outputs[0] as number).toFixed(3)}; ${about}`,
      [{ title: genes[0] as string, values: attributions.subarray(0, W) }],
      BINS,
      MARKS,
      'attribution',
    );
    // Vega numbers its gradients by a counter of the process.
    const plainSvg = (svg: string): string => svg.replace(/gradient_\d+/g, 'gradient');
    const same = plainSvg(readFileSync(join(out, `${STEM}.gene-${genes[0]}.svg`), 'utf8')) === plainSvg(await renderSvg(before));
    expect(same).toBe(true);
    await expect(explainApi(plain, cell, { device: 'cpu', method: 'saliency', genes, attention: true })).rejects.toThrow(
      `explain with attention: a ${plainModel} model has no attention layers; attention maps come from ${attentionModel} models`,
    );
  }, 120_000);
});

describe('attention heatmaps', () => {
  it('take a sequential scale from white at 0 to the largest weight, beside the attributions’ scale diverging at 0', async () => {
    const spec = geneMapChart(
      { cell: 'c', geneId: 'g1', expressed: true, method: 'saliency', output: 0.5, about: 'a', attribution: [0.5, -2, 0, 1], attention: { bins: [0.25, 0.75, 0.75, 0.25], marks: [0.4, 0.6] } },
      2,
      ['m1', 'm2'],
    );
    const text = JSON.stringify(spec);
    expect(text).toContain('"domain":[-2,2],"domainMid":0');
    expect(text).toContain('"domain":[0,0.75],"range":["#ffffff","#54278f"]');
    expect(text).toContain('"resolve":{"scale":{"color":"independent"}}');
    // The TSS is marked on both heatmaps.
    expect(text.match(/\{"tss":1\}/g)).toHaveLength(2);
    const svg = await renderSvg(spec);
    for (const words of ['c gene g1 (expressed): saliency, beside its attention', 'saliency attribution', 'bin attention', 'mark attention', 'weight', 'm2']) expect(svg).toContain(words);
  });
});
