import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/checkpoint/safetensors.ts';
import { decodeSafetensorsWith } from '../src/checkpoint/safetensorsCodec.ts';
import { classifierCheckpointFrom } from '../src/checkpoint/checkpointFormat.ts';
import { jsSha256 } from '../src/util/sha256.ts';
import { readLatentsFile, writeLatentsFile } from '../src/cli/experiment/latentsFile.ts';
import { loadCell, predict } from '../src/api/index.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// A checkpoint whose checksum is right can still hold a weight no training
// writes: NaN or ±Infinity, put there by an edit, a conversion or a bug. It is
// refused where it is read (predict, encode, --resume), naming the file and
// the tensor, before anything is written; and a model whose finite weights
// still give NaN is named by its folder, not by the metric that met the NaN.

const root = mkdtempSync(join(tmpdir(), 'sc-ckptvalues-'));
let data = '';
let mlp = '';
let vae = '';
const trained = (name: string, model: string, extra: readonly string[] = []): Promise<{ code: number; stderr: string }> =>
  runMain(['--cpu', '--model', model, '--data', data, '--epochs', '1', '--batch', '16', '--quiet', '--out', join(root, name), ...extra]);

/** Rewrites `file` with the first value of `tensor` (the first weight when none is named) set to `value`; the checksum is recomputed. */
function poison(file: string, value: number | ((data: Float32Array) => void), tensor?: string): string {
  const f = decodeSafetensors(readFileSync(file), file);
  const name = tensor ?? ([...f.tensors.keys()].find((n) => !n.includes('.m.') && !n.includes('.v.') && !n.startsWith('best.')) as string);
  const tensors = [...f.tensors].map(([n, t]) => {
    if (n !== name) return { name: n, shape: t.shape, data: t.data };
    const copy = Float32Array.from(t.data);
    if (typeof value === 'number') copy[0] = value;
    else value(copy);
    return { name: n, shape: t.shape, data: copy };
  });
  writeFileSync(file, encodeSafetensors(tensors, f.metadata));
  return name;
}

beforeAll(async () => {
  const d = join(root, 'data');
  mkdirSync(d);
  await writeSynthetic(d, { genes: 48, seed: 17, bins: 6, cell: 'SYNTHETIC-V' });
  data = join(d, 'SYNTHETIC-V');
  const a = await trained('mlp', 'mlp');
  expect(a.code, a.stderr).toBe(0);
  const b = await trained('vae', 'vae-mlp', ['--vae-epochs', '1', '--latent', '2']);
  expect(b.code, b.stderr).toBe(0);
  mlp = join(root, 'mlp');
  vae = join(root, 'vae');
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A run folder's copy, so each test poisons its own. */
function copyOf(dir: string, name: string): string {
  const to = join(root, name);
  mkdirSync(to);
  for (const [f] of Object.entries(snapshot(dir))) writeFileSync(join(to, f), readFileSync(join(dir, f)));
  return to;
}

describe('a checkpoint holding a value no training writes is refused where it is read', () => {
  it('predict: a NaN weight in best.safetensors is named with the file and the tensor; no predictions are written', async () => {
    const model = copyOf(mlp, 'nan-best');
    const tensor = poison(join(model, 'best.safetensors'), Number.NaN);
    const out = join(root, 'nan-predictions.csv');
    const before = snapshot(root);
    const r = await runMain(['predict', '--model', model, '--data', data, '--out', out, '--cpu', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `simplechrome: ${join(model, 'best.safetensors')}: tensor "${tensor}" holds NaN at index 0 (1 of its values is not a finite number); ` +
        'no training writes such a value: the file was damaged or edited, and is not used\n',
    );
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(snapshot(root)).toEqual(before);
  }, 60_000);

  it('--resume: an infinite Adam moment in last.safetensors is refused the same way; the run folder is left as it was', async () => {
    const run = copyOf(mlp, 'inf-last');
    const tensor = poison(join(run, 'last.safetensors'), Number.POSITIVE_INFINITY, [...decodeSafetensors(readFileSync(join(run, 'last.safetensors')), 'x').tensors.keys()].find((n) => n.startsWith('adam.v.')));
    const before = snapshot(root);
    const r = await runMain(['--resume', run, '--epochs', '2', '--cpu', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `simplechrome: ${join(run, 'last.safetensors')}: tensor "${tensor}" holds Infinity at index 0 (1 of its values is not a finite number); ` +
        'no training writes such a value: the file was damaged or edited, and is not used\n',
    );
    expect(snapshot(root)).toEqual(before);
  }, 60_000);

  it('encode: a -Infinity in vae.safetensors is refused; no latents are written', async () => {
    const model = copyOf(vae, 'inf-vae');
    const tensor = poison(join(model, 'vae.safetensors'), (w) => w.fill(Number.NEGATIVE_INFINITY, 2, 5));
    const out = join(root, 'latents.csv');
    const before = snapshot(root);
    const r = await runMain(['encode', '--model', model, '--data', data, '--out', out, '--cpu', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `simplechrome: ${join(model, 'vae.safetensors')}: tensor "${tensor}" holds -Infinity at index 2 (3 of its values are not finite numbers); ` +
        'no training writes such a value: the file was damaged or edited, and is not used\n',
    );
    expect(existsSync(out)).toBe(false);
    expect(snapshot(root)).toEqual(before);
  }, 60_000);

  it('the page’s loader (bytes in memory, plain-JavaScript SHA-256) refuses it the same way', () => {
    const model = copyOf(mlp, 'nan-page');
    const tensor = poison(join(model, 'best.safetensors'), Number.NaN);
    const bytes = new Uint8Array(readFileSync(join(model, 'best.safetensors')));
    expect(() => classifierCheckpointFrom(decodeSafetensorsWith(jsSha256, bytes, 'best.safetensors'), 'best.safetensors', 'best')).toThrow(
      `best.safetensors: tensor "${tensor}" holds NaN at index 0 (1 of its values is not a finite number); no training writes such a value: the file was damaged or edited, and is not used`,
    );
  });

  it('a VAE’s latents file (what the grid’s runs and a resumed experiment read) with a NaN latent mean is refused', async () => {
    const file = join(root, 'nan-latents.safetensors');
    const latents = Float32Array.from({ length: 8 }, (_, i) => (i === 5 ? Number.NaN : i));
    await writeLatentsFile(file, 'SYNTHETIC-V', 2, { latents, params: new Float32Array(3), history: [], parameters: 3 });
    await expect(readLatentsFile(file)).rejects.toThrow(
      `${file}: tensor "latent_mean" holds NaN at index 5 (1 of its values is not a finite number); no training writes such a value: the file was damaged or edited, and is not used`,
    );
  });

  it('predict: finite weights that still give NaN (they overflow) are named by the model’s folder, not by the metric; nothing is written', async () => {
    const model = copyOf(mlp, 'overflow');
    // Every weight of the first layer at ±float32's largest: the products overflow to +Infinity and -Infinity, whose sum is NaN.
    poison(join(model, 'best.safetensors'), (w) => w.forEach((_, i) => (w[i] = (i % 2 === 0 ? 1 : -1) * 3.4e38)));
    const out = join(root, 'overflow-predictions.csv');
    const before = snapshot(root);
    const r = await runMain(['predict', '--model', model, '--data', data, '--out', out, '--cpu', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^simplechrome: predict: the model in ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(mlp, run \\S+\\) gives no finite output for \\d+ of 144 genes of SYNTHETIC-V \\(the first: \\S+, NaN\\); ` +
          'its weights overflow on this data, or the data holds extreme values: nothing was written\\n$',
      ),
    );
    expect(r.stderr).not.toContain('auroc');
    expect(existsSync(out)).toBe(false);
    expect(snapshot(root)).toEqual(before);
    // The programmatic API's predict (the page's path too) refuses it the same way, before scoring.
    await expect(predict(model, await loadCell(data), { device: 'cpu' })).rejects.toThrow(/^predict: the mlp model gives no finite output for \d+ of 144 genes of SYNTHETIC-V \(the first: \S+, NaN\)/);
  }, 60_000);
});
