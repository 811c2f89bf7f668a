import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { type Cell, type TrainedRun, encode, loadCell, predict, train } from '../src/api/index.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { predictionsCsv } from '../src/train/predictionsCsv.ts';
import { bundledShaders } from '../web/build.ts';
import { run, runMain, snapshot } from './cliHelpers.ts';

// The programmatic API (src/api): the example a user starts from runs and gives the command line's numbers, bit
// for bit on the CPU; train's `out` writes the directory `train --out` writes; predict and encode give what the
// commands give; every bad input is refused by name; and the browser-safe core bundles for the page.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const tmp = (tag: string): string => mkdtempSync(join(tmpdir(), `sc-api-${tag}-`));

interface Metrics {
  readonly bestEpoch: number;
  readonly valid: { readonly auroc: number };
  readonly test: { readonly auroc: number };
  readonly history: readonly { readonly trainLoss: number }[];
}
const metricsIn = (dir: string): Metrics => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Metrics;

describe('examples/train-and-predict.ts', () => {
  it("trains mlp on 100 labeled E003 genes for 2 epochs on the CPU, with the command line's numbers bit for bit, and predicts", async () => {
    const example = await run(TSX, ['examples/train-and-predict.ts'], REPO);
    expect(example.code, example.stderr).toBe(0);
    const dir = join(tmp('cli'), 'run');
    const cli = await runMain(['train', '--cpu', '--model', 'mlp', '--train-size', '100', '--epochs', '2', '--data', DEFAULT_REAL_SAMPLE, '--out', dir, '--quiet']);
    expect(cli.code, cli.stderr).toBe(0);
    const m = metricsIn(dir);
    // String(x) round-trips a double, as metrics.json's JSON does: equal text is equal bits.
    expect(example.stdout).toContain('cell E003: 600 genes × 100 bins × 5 marks (deepchrome layout)\n');
    expect(example.stdout).toContain(`mlp: best epoch ${m.bestEpoch}, valid AUROC ${m.valid.auroc}, test AUROC ${m.test.auroc}\n`);
    // predict on the cell it trained on scores its test genes as training did.
    expect(example.stdout).toMatch(new RegExp(`^predict: 600 genes, first 130749 P\\(high\\) 0\\.\\d{4}; test AUROC ${m.test.auroc}$`, 'm'));
    expect(example.stdout).not.toContain('vae-mlp');
  }, 900_000);
});

describe('the API on a small synthetic cell', () => {
  let root = '';
  let cell: Cell;
  let other: Cell;
  let cliDir = '';
  let apiDir = '';
  let written: TrainedRun;
  const settings = { model: 'vae-mlp', vaeEpochs: 2, epochs: 2, latent: 3, batch: 16, device: 'cpu' } as const;
  const flags = ['--cpu', '--model', 'vae-mlp', '--vae-epochs', '2', '--epochs', '2', '--latent', '3', '--batch', '16', '--quiet'];

  beforeAll(async () => {
    root = tmp('syn');
    await writeSynthetic(root, { genes: 20, seed: 51, bins: 6, cell: 'SYNTHETIC-E' });
    await writeSynthetic(root, { genes: 15, seed: 52, bins: 6, cell: 'SYNTHETIC-F' });
    cell = await loadCell(join(root, 'SYNTHETIC-E'));
    other = await loadCell(join(root, 'SYNTHETIC-F'));
    cliDir = join(root, 'cli');
    apiDir = join(root, 'api');
    const cli = await runMain(['train', ...flags, '--data', join(root, 'SYNTHETIC-E'), '--out', cliDir]);
    expect(cli.code, cli.stderr).toBe(0);
    written = await train(cell, { ...settings, out: apiDir });
  });

  it("with `out` writes the run directory `train --out` writes, with the command line's numbers and the in-memory run's", async () => {
    expect(readdirSync(apiDir).sort()).toEqual(readdirSync(cliDir).sort());
    expect([...(written.files ?? [])].sort()).toEqual(readdirSync(apiDir).sort());
    const [api, cli] = [metricsIn(apiDir), metricsIn(cliDir)];
    expect([api.bestEpoch, api.valid, api.test, api.history.map((h) => h.trainLoss)]).toEqual([cli.bestEpoch, cli.valid, cli.test, cli.history.map((h) => h.trainLoss)]);
    expect(written.test).toEqual(cli.test);
    const inMemory = await train(cell, settings);
    expect([inMemory.bestEpoch, inMemory.valid, inMemory.test]).toEqual([cli.bestEpoch, cli.valid, cli.test]);
    expect(inMemory.run.result.history.map((h) => h.trainLoss)).toEqual(cli.history.map((h) => h.trainLoss));
    expect(inMemory.settings).toEqual(written.settings);
  });

  it("predicts and encodes another cell as `predict` and `encode` do, from a run directory or from a run in memory", async () => {
    const out = join(root, 'use');
    mkdirSync(out);
    const csv = join(out, 'p.csv');
    const z = join(out, 'z.safetensors');
    expect((await runMain(['predict', '--model', cliDir, '--data', join(root, 'SYNTHETIC-F'), '--out', csv, '--cpu', '--quiet'])).code).toBe(0);
    expect((await runMain(['encode', '--model', cliDir, '--data', join(root, 'SYNTHETIC-F'), '--out', z, '--cpu', '--quiet'])).code).toBe(0);

    const fromDir = await predict(cliDir, other, { device: 'cpu' });
    const all = Array.from({ length: other.dataset.genes }, (_, g) => g);
    expect(predictionsCsv(other.dataset, all, fromDir.values)).toBe(readFileSync(csv, 'utf8'));
    expect(fromDir.geneIds).toEqual(other.dataset.geneIds);
    expect(fromDir.scores?.map((s) => s.split)).toEqual(['train', 'valid', 'test', 'all']);
    expect((await predict(written, other, { device: 'cpu' })).values).toEqual(fromDir.values);

    const latents = await encode(cliDir, other, { device: 'cpu' });
    const mu = (await readSafetensors(z)).tensors.get('latent_mean');
    expect([latents.means.length / latents.latent, latents.latent]).toEqual(mu?.shape);
    expect(Array.from(latents.means)).toEqual(Array.from(mu?.data ?? []));
    expect((await encode(written, other, { device: 'cpu' })).means).toEqual(latents.means);
  });

  it('refuses a setting it does not know, or a bad value, by name, before any training', async () => {
    await expect(train(cell, { epoch: 2 } as never)).rejects.toThrow(/^unknown setting "epoch" \(did you mean epochs\?\); the settings are model, target, /);
    await expect(train(cell, { epochs: 2.5 })).rejects.toThrow('epochs needs a positive integer, got "2.5"');
    await expect(train(cell, { model: 'mlpp' } as never)).rejects.toThrow(/^model must be one of .*mlp.*; got "mlpp"$/);
    await expect(train(cell, { alpha: [1, 1] })).rejects.toThrow('alpha 1,1 names a value twice');
    // A setting the model would ignore, as the command line refuses its flag.
    await expect(train(cell, { model: 'mlp', k: 4 })).rejects.toThrow(/^k applies to the .*vae-mlp-neighbors.* models only; model mlp uses no neighbours$/);
    await expect(train(cell, { model: 'logreg', latent: 8 })).rejects.toThrow(/^latent applies to the VAE of the .* models; model logreg has no VAE$/);
    await expect(train(cell, { model: 'logreg', clip: 1 })).rejects.toThrow(/^clip limits the gradient of each Adam step; model logreg is fit by full-batch L-BFGS/);
    await expect(train(cell, { normalize: 'sqrt', device: 'cpu' } as never)).rejects.toThrow(/^normalize must be one of raw, log1p, .*; got "sqrt"$/);
    await expect(train(cell, { device: 'tpu' } as never)).rejects.toThrow(`device must be 'gpu', 'cpu' or an acquired device; got "tpu"`);
    const training = Array.from(cell.dataset.split).filter((c) => c === 0).length;
    await expect(train(cell, { trainSize: 500, device: 'cpu' })).rejects.toThrow(
      `trainSize 500: SYNTHETIC-E has only ${training} training genes; give ${training} or fewer, or trainSize all`,
    );
  });

  it("refuses a model that cannot take the cell, and encode without a VAE, naming what it needs", async () => {
    const mlp = await train(cell, { model: 'mlp', epochs: 1, device: 'cpu' });
    await expect(encode(mlp, other, { device: 'cpu' })).rejects.toThrow(/^encode needs a model with a VAE \(vae-mlp, .*\); this is a mlp model$/);
    const narrow = tmp('narrow');
    await writeSynthetic(narrow, { genes: 10, seed: 1, bins: 8, cell: 'SYNTHETIC-P' });
    await expect(predict(mlp, await loadCell(join(narrow, 'SYNTHETIC-P')), { device: 'cpu' })).rejects.toThrow(
      'SYNTHETIC-P has 8 bins × 5 marks per gene, the mlp model takes 6 × 5',
    );
  });

  it('with `out`: refuses a cell it cannot name on disk, and a finished run there unless told to overwrite it, which is kept', async () => {
    const { path: _path, ...unnamed } = cell;
    await expect(train(unnamed, { ...settings, out: join(root, 'nowhere') })).rejects.toThrow(/^out .*nowhere: a run directory records the data's path; read the cell with loadCell\(path\)$/);
    await expect(train(cell, { ...settings, out: join(root, 'x'), annotation: '/elsewhere.txt.gz' })).rejects.toThrow(/leave sources, annotation and expressionTable unset$/);
    const before = snapshot(apiDir);
    await expect(train(cell, { ...settings, out: apiDir })).rejects.toThrow(/--overwrite/);
    expect(snapshot(apiDir)).toEqual(before);
  });
});

describe('the browser-safe core', () => {
  const bundle = (entry: string) =>
    build({ entryPoints: [join(REPO, entry)], bundle: true, platform: 'browser', format: 'esm', write: false, plugins: [bundledShaders], logLevel: 'silent' });

  it("bundles for the browser as the page's build does (esbuild refuses Node's modules there)", async () => {
    const r = await bundle('src/api/core.ts');
    expect(r.errors).toEqual([]);
    expect(r.outputFiles[0]?.text).toContain('acquireBrowserGpu');
  });

  it('while the Node entry does not: the check can fail', async () => {
    await expect(bundle('src/api/index.ts')).rejects.toThrow(/node:/);
  });
});
