import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs, parseUseArgs } from '../src/cli/flags/args.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { main } from '../src/cli/main.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { predictProbabilities, readModelDirectory, useModel } from '../src/cli/use/useModel.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { splitName } from '../src/data/dataset.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { applyNormalization, fitNormalization } from '../src/data/normalize.ts';
import { captured, runMain, snapshot } from './cliHelpers.ts';

// A trained run directory applied to another cell: predict writes a
// probability per gene using the training cell's normalization (never
// refitted on the new cell); encode writes the VAE's latent means per gene.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const E123 = DEFAULT_REAL_SAMPLE.replace('E003', 'E123');
const quiet = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-predict-${tag}-`));

describe('predict: a model trained on E003 applied to E123', () => {
  let model: string;
  beforeAll(async () => {
    model = tmp('e003');
    await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--epochs', '2', '--data', DEFAULT_REAL_SAMPLE, '--out', model, '--quiet']), {
      progress: quiet,
    });
  });

  it('writes gene id, label and probability for every E123 gene, normalised with E003’s statistics', async () => {
    const out = join(tmp('out'), 'e123.csv');
    const r = spawnSync(TSX, ['run.ts', 'predict', '--model', model, '--data', E123, '--out', out, '--cpu'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('normalization log1p-max as fitted on E003\'s 200 training genes');
    expect(r.stderr).toMatch(/^ {2}test {3}200 {4}0\.\d{4} {2}0\.\d{4}$/m);
    expect(r.stderr).toMatch(/predict: 600 genes; wrote /);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('gene_id,label,probability,split');
    expect(rows).toHaveLength(601);

    const raw = (await loadCell(E123, { cache: false })).dataset;
    const e003 = (await loadCell(DEFAULT_REAL_SAMPLE, { cache: false })).dataset;
    const m = await readModelDirectory(model, 'classifier');
    expect(m.normalization).toEqual(fitNormalization(e003, 'log1p-max'));
    expect(m.normalization).not.toEqual(fitNormalization(raw, 'log1p-max'));
    const withE003 = await predictProbabilities(m, applyNormalization(raw, m.normalization), { kind: 'cpu' });
    const refitted = await predictProbabilities(m, applyNormalization(raw, fitNormalization(raw, 'log1p-max')), { kind: 'cpu' });
    rows.slice(1).forEach((row, g) => {
      const [id, label, p, split] = row.split(',');
      expect(id).toBe(raw.geneIds[g]);
      expect(split).toBe(splitName(raw.split[g] as number));
      expect(Number(label)).toBe(raw.labels[g]);
      expect(Number(p)).toBe(Number((withE003[g] as number).toPrecision(6)));
    });
    const differ = Array.from(withE003).filter((p, g) => Math.abs(p - (refitted[g] as number)) > 1e-4).length;
    expect(differ).toBeGreaterThan(100);
  });

  it('without --out, the table goes to stdout', async () => {
    const { code, text } = await captured('stdout', () => main(['predict', '--model', model, '--data', E123, '--cpu', '--quiet']));
    expect(code).toBe(0);
    const rows = text.trim().split('\n');
    expect(rows[0]).toBe('gene_id,label,probability,split');
    expect(rows).toHaveLength(601);
  });

  it('bad uses are refused with messages', async () => {
    expect(() => parseUseArgs(['predict', '--data', E123])).toThrow('predict needs --model DIR (a directory a training run wrote, with best.safetensors)');
    expect(() => parseUseArgs(['predict', '--model', model])).toThrow('predict needs --data PATH (the cell to predict)');
    expect(() => parseUseArgs(['predict', '--model', model, '--data', E123, '--epochs', '3'])).toThrow(
      /^predict: --epochs is a training flag and does not apply to predict, which uses the model as trained \(usage: /,
    );
    expect(() => parseUseArgs(['predict', '--model', model, '--data', E123, '--bogus'])).toThrow(/^predict: unknown argument "--bogus" \(usage: /);
    expect(() => parseUseArgs(['predict', '--model', model, '--data', E123, '--cpu', '--gpu'])).toThrow('predict: --gpu and --cpu contradict each other: give one');
    expect(() => parseUseArgs(['encode', '--model', model, '--model', model])).toThrow('encode --model is given twice');
    expect(() => parseUseArgs(['encode', '--model', model, '--data', E123])).toThrow('encode needs --out FILE.csv or FILE.safetensors');
    expect(() => parseUseArgs(['encode', '--model', model, '--data', E123, '--out', 'z.txt'])).toThrow(
      'encode --out z.txt: the name must end in .csv or .safetensors',
    );
    const { code, text } = await captured('stderr', () => main(['predict', '--model', '/nonexistent/run', '--data', E123]));
    expect(code).toBe(2);
    expect(text).toBe('simplechrome: --model /nonexistent/run: no such directory\n');
    const empty = tmp('empty');
    await expect(useModel(parseUseArgs(['predict', '--model', empty, '--data', E123, '--cpu']))).rejects.toThrow(
      `--model ${empty}: no best.safetensors (a training run writes it after its first epoch)`,
    );
    await expect(useModel(parseUseArgs(['encode', '--model', model, '--data', E123, '--out', join(empty, 'z.csv'), '--cpu']))).rejects.toThrow(
      `--model ${model}: a mlp model has no VAE; encode needs a vae-mlp, vae-mlp-neighbors or vae-joint run`,
    );
    const root = tmp('syn');
    await writeSynthetic(root, { genes: 10, seed: 1, bins: 8, cell: 'SYNTHETIC-P' });
    await expect(useModel(parseUseArgs(['predict', '--model', model, '--data', join(root, 'SYNTHETIC-P'), '--cpu']))).rejects.toThrow(
      `SYNTHETIC-P has 8 bins × 5 marks per gene, the model in ${model} takes 100 × 5`,
    );
  });
});

describe('encode and predict with a VAE-based model', () => {
  let model: string;
  let other: string;
  beforeAll(async () => {
    const root = tmp('vae');
    await writeSynthetic(root, { genes: 20, seed: 51, bins: 6, cell: 'SYNTHETIC-E' });
    await writeSynthetic(root, { genes: 15, seed: 52, bins: 6, cell: 'SYNTHETIC-F' });
    other = join(root, 'SYNTHETIC-F');
    model = join(root, 'run');
    await trainToDirectory(
      parseArgs(['--cpu', '--model', 'vae-mlp', '--data', join(root, 'SYNTHETIC-E'), '--vae-epochs', '2', '--epochs', '2', '--latent', '3', '--batch', '16', '--out', model, '--quiet']),
      { progress: quiet },
    );
  });

  it('writes latent means [genes, latent] as CSV and as safetensors, the same numbers in both', async () => {
    const dir = tmp('enc');
    const csv = join(dir, 'z.csv');
    const st = join(dir, 'z.safetensors');
    expect(await useModel(parseUseArgs(['encode', '--model', model, '--data', other, '--out', csv, '--cpu', '--quiet']))).toBe(0);
    expect(await useModel(parseUseArgs(['encode', '--model', model, '--data', other, '--out', st, '--cpu', '--quiet']))).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('gene_id,label,z1,z2,z3');
    expect(rows).toHaveLength(1 + 45);
    const file = await readSafetensors(st);
    const mu = file.tensors.get('latent_mean');
    expect(mu?.shape).toEqual([45, 3]);
    expect(file.tensors.get('label')?.shape).toEqual([45]);
    expect(file.tensors.get('label')?.dtype).toBe('U8');
    const ids = JSON.parse(file.metadata.gene_ids as string) as string[];
    expect(ids).toHaveLength(45);
    rows.slice(1).forEach((row, g) => {
      const cells = row.split(',');
      expect(cells[0]).toBe(ids[g]);
      for (let j = 0; j < 3; j++) expect(Number(cells[2 + j])).toBeCloseTo(mu?.data[g * 3 + j] as number, 5);
    });
    const raw = (await loadCell(other, { cache: false })).dataset;
    expect(ids).toEqual(raw.geneIds);
  });

  it('predicts through the VAE’s encode segment and the classifier’s predict segment', async () => {
    const out = join(tmp('vp'), 'p.csv');
    expect(await useModel(parseUseArgs(['predict', '--model', model, '--data', other, '--out', out, '--cpu', '--quiet']))).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows).toHaveLength(1 + 45);
    for (const row of rows.slice(1)) {
      const p = Number(row.split(',')[2]);
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
    }
  });

  it('never writes onto its inputs: an --out that is a file of the run, a directory or a data file is refused; nothing changes', async () => {
    const runBefore = snapshot(model);
    const dataBefore = snapshot(other);
    const use = (command: string, out: string) => runMain([command, '--model', model, '--data', other, '--out', out, '--cpu', '--quiet']);
    const cases: [string, string, string][] = [
      ['predict', join(model, 'best.safetensors'), `predict --out ${join(model, 'best.safetensors')} is one of the files of the training run in ${model}; nothing was written`],
      ['predict', join(model, 'metrics.json'), `predict --out ${join(model, 'metrics.json')} is one of the files of the training run in ${model}`],
      ['encode', join(model, 'vae.safetensors'), `encode --out ${join(model, 'vae.safetensors')} is one of the files of the training run in ${model}`],
      ['predict', model, `predict --out ${model} is a directory; give a file name, e.g. ${join(model, 'predictions.csv')}`],
      ['encode', join(other, 'classification', 'train.csv'), `encode --out ${join(other, 'classification', 'train.csv')} is one of the data's files (${join(other, 'classification', 'train.csv')})`],
      ['predict', join(other, 'classification', 'test.csv'), `predict --out ${join(other, 'classification', 'test.csv')} is one of the data's files`],
    ];
    const link = join(tmp('link'), 'model.csv');
    symlinkSync(join(model, 'best.safetensors'), link);
    cases.push(['predict', link, `predict --out ${link} is the model's best.safetensors (through another name)`]);
    for (const [command, out, message] of cases) {
      const r = await use(command, out);
      expect(r.code, out).toBe(2);
      expect(r.stderr, out).toContain(`simplechrome: ${message}`);
      expect(snapshot(model), out).toEqual(runBefore);
      expect(snapshot(other), out).toEqual(dataBefore);
    }
    // A file of the run's directory that is not one of its own is fine.
    const beside = join(model, 'other-cell.csv');
    expect((await use('predict', beside)).code).toBe(0);
    expect(readFileSync(beside, 'utf8').split('\n')[0]).toBe('gene_id,label,probability,split');
  });
});
