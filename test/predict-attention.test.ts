import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { markAttentionCsv } from '../src/checkpoint/attentionFiles.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { MODEL_NAMES, attentionMapsOf } from '../src/models/registry.ts';
import { loadCell, predict as predictApi } from '../src/api/index.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// predict --attention on a small synthetic cell: an attention model's
// mark-level weights as a CSV and its bin-level maps as safetensors, beside
// the predictions, for the same genes in the same order; each map a softmax
// (rows sum to 1); the GPU's maps the CPU's; a model without attention refused
// by name; and nothing of the user's replaced.

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-attention-${tag}-`));
const BINS = 6;
const MARKS = 5;
const PER_SPLIT = 40;
const GENES = 3 * PER_SPLIT;
const attentionModel = MODEL_NAMES.find((n) => attentionMapsOf(n) !== undefined) as string;
const plainModel = MODEL_NAMES.find((n) => n === 'logreg') as string;

interface Maps {
  readonly predictions: string[];
  readonly markRows: string[];
  readonly bins: Float32Array;
  readonly marks: Float32Array;
  readonly split: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
  readonly shape: readonly number[];
}

describe('predict --attention', () => {
  let data: string;
  let model: string;
  let plain: string;
  const train = (name: string, out: string) =>
    runMain(['train', '--cpu', '--model', name, '--data', data, '--epochs', '1', '--batch', '10', '--seed', '3', '--quiet', '--out', out]);
  const predict = (out: string, ...more: string[]) => runMain(['predict', '--model', model, '--data', data, '--out', out, '--quiet', ...more]);
  async function mapsOf(dir: string): Promise<Maps> {
    const st = await readSafetensors(join(dir, 'bin-attention.safetensors'));
    const t = (n: string) => st.tensors.get(n)?.data;
    return {
      predictions: readFileSync(join(dir, 'predictions.csv'), 'utf8').trim().split('\n'),
      markRows: readFileSync(join(dir, 'mark-attention.csv'), 'utf8').trim().split('\n'),
      bins: t('bin_attention') as Float32Array,
      marks: t('mark_attention') as Float32Array,
      split: t('split') as Uint8Array,
      metadata: st.metadata,
      shape: st.tensors.get('bin_attention')?.shape ?? [],
    };
  }
  let cpu: Maps;

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: PER_SPLIT, seed: 5, bins: BINS, cell: 'SYNTHETIC-A' });
    data = join(root, 'SYNTHETIC-A');
    model = join(tmp('model'), 'run');
    plain = join(tmp('plain'), 'run');
    for (const [name, out] of [[attentionModel, model], [plainModel, plain]] as const) {
      const r = await train(name, out);
      expect(r.code, r.stderr).toBe(0);
    }
    const dir = tmp('cpu');
    const r = await predict(join(dir, 'predictions.csv'), '--cpu', '--attention');
    expect(r.code, r.stderr).toBe(0);
    cpu = await mapsOf(dir);
  }, 300_000);

  it('writes mark-level weights per gene as CSV, rows summing to 1, genes and splits as in predictions.csv', () => {
    expect(cpu.markRows[0]).toBe('gene_id,split,H3K27me3,H3K36me3,H3K4me1,H3K4me3,H3K9me3');
    expect(cpu.markRows.length).toBe(GENES + 1);
    expect(cpu.predictions.length).toBe(GENES + 1);
    for (let g = 1; g <= GENES; g++) {
      const [id, split, ...weights] = (cpu.markRows[g] as string).split(',');
      const p = (cpu.predictions[g] as string).split(',');
      expect(id).toBe(p[0]);
      expect(split).toBe(p[3]);
      expect(weights.length).toBe(MARKS);
      const sum = weights.reduce((a, w) => a + Number(w), 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5); // six digits a weight leave at most 2.5e-6
    }
  });

  it('writes bin-level maps [genes, marks, bins] as safetensors, each (gene, mark) summing to 1, with ids and splits', () => {
    expect(cpu.shape).toEqual([GENES, MARKS, BINS]);
    for (let r = 0; r < GENES * MARKS; r++) {
      const row = cpu.bins.subarray(r * BINS, (r + 1) * BINS);
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      for (const v of row) expect(v).toBeGreaterThan(0);
    }
    for (let g = 0; g < GENES; g++) {
      expect(Math.abs(cpu.marks.subarray(g * MARKS, (g + 1) * MARKS).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    }
    const ids = JSON.parse(cpu.metadata.gene_ids as string) as string[];
    const codes = JSON.parse(cpu.metadata.split_codes as string) as Record<string, number>;
    const names = Object.fromEntries(Object.entries(codes).map(([k, v]) => [v, k]));
    expect(JSON.parse(cpu.metadata.marks as string)).toEqual(cpu.markRows[0]?.split(',').slice(2));
    ids.forEach((id, g) => {
      const p = (cpu.predictions[g + 1] as string).split(',');
      expect(id).toBe(p[0]);
      expect(names[cpu.split[g] as number]).toBe(p[3]);
    });
  });

  it('the GPU gives the CPU’s maps and predictions', async () => {
    const dir = tmp('gpu');
    const r = await predict(join(dir, 'predictions.csv'), '--gpu', '--attention');
    expect(r.code, r.stderr).toBe(0);
    const gpu = await mapsOf(dir);
    expect(gpu.shape).toEqual(cpu.shape);
    let worst = 0;
    for (let i = 0; i < cpu.bins.length; i++) worst = Math.max(worst, Math.abs((gpu.bins[i] as number) - (cpu.bins[i] as number)));
    for (let i = 0; i < cpu.marks.length; i++) worst = Math.max(worst, Math.abs((gpu.marks[i] as number) - (cpu.marks[i] as number)));
    expect(worst).toBeLessThan(1e-4);
    const probabilities = (m: Maps) => m.predictions.slice(1).map((l) => Number(l.split(',')[2]));
    probabilities(gpu).forEach((p, g) => expect(p).toBeCloseTo(probabilities(cpu)[g] as number, 4));
  }, 300_000);

  it('is refused for a model without attention, naming it and the models that have it; nothing is written', async () => {
    const dir = tmp('refused');
    const r = await runMain(['predict', '--model', plain, '--data', data, '--out', join(dir, 'p.csv'), '--cpu', '--attention']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`predict --attention: the model in ${plain}: a ${plainModel} model has no attention layers; attention maps come from ${attentionModel} models`);
    expect(snapshot(dir)).toEqual({});
  });

  it('bad uses are refused before any work, and nothing of the user’s is replaced', async () => {
    const dir = tmp('keep');
    writeFileSync(join(dir, 'mark-attention.csv'), 'mine\n');
    const before = snapshot(dir);
    const cases: [string[], string][] = [
      [['predict', '--model', model, '--data', data, '--cpu', '--attention'], 'predict --attention writes its files beside the predictions: give --out FILE'],
      [['encode', '--model', model, '--data', data, '--out', join(dir, 'z.csv'), '--attention'], 'encode: --attention applies to predict'],
      [['predict', '--model', model, '--data', data, '--out', join(dir, 'p.csv'), '--cpu', '--attention'], `predict --attention: ${join(dir, 'mark-attention.csv')} exists; nothing was written`],
      [['predict', '--model', model, '--data', data, '--out', join(dir, 'bin-attention.safetensors'), '--cpu', '--attention'], `predict --out ${join(dir, 'bin-attention.safetensors')} is the name of an attention file --attention writes beside it; nothing was written`],
    ];
    for (const [argv, message] of cases) {
      const r = await runMain(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain(`simplechrome: ${message}`);
      expect(snapshot(dir)).toEqual(before);
    }
    expect(existsSync(join(dir, 'p.csv'))).toBe(false);
  });

  it('the API’s predict returns the same maps with { attention: true }, and refuses them for a model without attention', async () => {
    const cell = await loadCell(data);
    const p = await predictApi(model, cell, { device: 'cpu', attention: true });
    const a = p.attention;
    expect(a?.markNames).toEqual(JSON.parse(cpu.metadata.marks as string));
    expect(a?.binCount).toBe(BINS);
    expect(Array.from(a?.bins ?? [])).toEqual(Array.from(cpu.bins));
    expect(Array.from(a?.marks ?? [])).toEqual(Array.from(cpu.marks));
    expect((await predictApi(model, cell, { device: 'cpu' })).attention).toBeUndefined();
    await expect(predictApi(plain, cell, { device: 'cpu', attention: true })).rejects.toThrow(`a ${plainModel} model has no attention layers; attention maps come from ${attentionModel} models`);
  }, 120_000);

  it('neutralises gene ids a spreadsheet would run, as predictions.csv does', () => {
    const ds = { genes: 1, marks: ['H3K4me3', 'H3K27me3'], geneIds: ['=HYPERLINK("x")'], split: Uint8Array.of(2) } as unknown as Dataset;
    expect(markAttentionCsv(ds, Float32Array.of(0.25, 0.75))).toBe('gene_id,split,H3K4me3,H3K27me3\n"\'=HYPERLINK(""x"")",test,0.250000,0.750000\n');
  });
});
