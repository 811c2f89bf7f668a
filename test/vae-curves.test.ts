import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { FLAT_WINDOW, parseVaeCurves, reconstructionFall, vaeCurveRows, vaeCurvesCsv, vaeCurvesMarkdown, withCurve } from '../src/cli/experiment/vaeCurves.ts';
import type { VaeEpochRecord } from '../src/train/trainVae.ts';
import { runMain } from './cliHelpers.ts';

// Whether each VAE of an experiment trained long enough is reported beside the
// tables: its curve, and how much its reconstruction still fell at the end.

const root = mkdtempSync(join(tmpdir(), 'sc-vae-curves-'));
let data = '';
beforeAll(async () => {
  // A tiny cell, so two real VAEs train in seconds.
  await writeSynthetic(root, { genes: 40, seed: 5, bins: 6, cell: 'SYNTHETIC-V' });
  data = join(root, 'SYNTHETIC-V');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const record = (epoch: number, reconstruction: number): VaeEpochRecord => ({ epoch, loss: reconstruction + 0.001, reconstruction, kl: 10, seconds: 1, genesPerSecond: 1 });

describe('VAE curves', () => {
  it('measure the fall of the last window against the one before, by hand', () => {
    // Epochs 1–5 at 0.2 each, 6–10 at 0.1: the last window fell by half. Epoch 0 is outside both windows.
    const recs = [record(0, 9), ...Array.from({ length: 5 }, (_, i) => record(i + 1, 0.2)), ...Array.from({ length: 5 }, (_, i) => record(i + 6, 0.1))];
    expect(FLAT_WINDOW).toBe(5);
    expect(reconstructionFall(vaeCurveRows('E003', 1, recs))).toBeCloseTo(0.5, 12);
    // (0.1 - 0.0995) / 0.1 = 0.5%: flat.
    const flat = [...Array.from({ length: 5 }, (_, i) => record(i + 1, 0.1)), ...Array.from({ length: 5 }, (_, i) => record(i + 6, 0.0995))];
    expect(reconstructionFall(vaeCurveRows('E003', 2, flat))).toBeCloseTo(0.005, 12);
    expect(reconstructionFall(vaeCurveRows('E003', 3, flat.slice(1)))).toBeUndefined();
    const table = vaeCurvesMarkdown([...vaeCurveRows('E003', 1, recs), ...vaeCurveRows('E003', 2, flat), ...vaeCurveRows('E123', 1, flat.slice(0, 3))]).join('\n');
    expect(table).toContain('| E003 | 1 | 11 | 0.10000 | 10.00 | 50.00% | still falling |');
    expect(table).toContain('| E003 | 2 | 10 | 0.09950 | 10.00 | 0.50% | flat |');
    expect(table).toContain('| E123 | 1 | 3 | 0.10000 | 10.00 | – | too short to judge (< 10 epochs) |');
  });

  it('read back what they wrote, and a VAE trained again replaces its curve', () => {
    const a = vaeCurveRows('E003', 1, [record(1, 0.3), record(2, 0.25)]);
    const b = vaeCurveRows('E123', 1, [record(1, 0.5)]);
    const rows = parseVaeCurves(vaeCurvesCsv([...a, ...b]), 'curves.csv');
    expect(rows.map((r) => [r.cell, r.seed, r.epoch, r.reconstruction])).toEqual([['E003', 1, 1, 0.3], ['E003', 1, 2, 0.25], ['E123', 1, 1, 0.5]]);
    const again = withCurve(rows, vaeCurveRows('E003', 1, [record(1, 0.4)]));
    expect(again.map((r) => [r.cell, r.epoch, r.reconstruction])).toEqual([['E123', 1, 0.5], ['E003', 1, 0.4]]);
    expect(() => parseVaeCurves('cell,seed\n', 'x.csv')).toThrow('x.csv: expected the header cell,seed,epoch,loss,reconstruction,kl, found "cell,seed"');
    expect(() => parseVaeCurves(`${vaeCurvesCsv(a).trim()}\nE003,1,3,NaN,0.1,1\n`, 'x.csv')).toThrow('x.csv:4: not a VAE curve row: "E003,1,3,NaN,0.1,1"');
  });

  it('are written by the experiment: one curve per cell and seed, in the CSV, the figure and the tables', async () => {
    const out = join(root, 'exp');
    const r = await runMain(['--cpu', '--experiment', 'small-data', '--data', data, '--models', 'vae-mlp,vae-mlp-neighbors', '--sizes', 'all', '--seeds', '2', '--epochs', '1', '--vae-epochs', '2', '--latent', '3', '--batch', '16', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseVaeCurves(readFileSync(join(out, 'vae-curves.csv'), 'utf8'), 'vae-curves.csv');
    // Two VAEs (seeds 1 and 2), each shared by vae-mlp and vae-mlp-neighbors, each kept once.
    expect(rows.map((x) => [x.cell, x.seed, x.epoch])).toEqual([['SYNTHETIC-V', 1, 1], ['SYNTHETIC-V', 1, 2], ['SYNTHETIC-V', 2, 1], ['SYNTHETIC-V', 2, 2]]);
    expect(rows.every((x) => x.reconstruction > 0 && x.kl > 0)).toBe(true);
    const md = readFileSync(join(out, 'small-data.md'), 'utf8');
    expect(md).toContain('## The VAEs');
    expect(md).toContain('| SYNTHETIC-V | 2 | 2 |');
    expect(readFileSync(join(out, 'vae-curves.svg'), 'utf8')).toContain('SYNTHETIC-V seed 2');
  });
});
