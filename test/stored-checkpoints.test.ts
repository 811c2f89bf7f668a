import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/flags/args.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { runMain } from './cliHelpers.ts';

// Run directories an older version wrote (test/fixtures/checkpoints, see its
// README) still work: predicting with one gives the predictions it wrote, and
// resuming one with an epoch more ends bit for bit where the same command line
// run uninterrupted ends today (both on the CPU path, which is deterministic).

const FIXTURES = fileURLToPath(new URL('./fixtures/checkpoints/', import.meta.url));
const quiet = { epoch: () => {}, vaeEpoch: () => {} };
const root = mkdtempSync(join(tmpdir(), 'sc-stored-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A copy, so that the data cache and the resumed runs never write into the checkout.
let data = '';
beforeAll(() => {
  data = join(root, 'SYNTHETIC-F');
  cpSync(join(FIXTURES, 'SYNTHETIC-F'), data, { recursive: true });
});

/** Each fixture with the command line that wrote it (make.sh), less --data, --out and --epochs. */
const RUNS = [
  { dir: 'mlp', flags: ['--cpu', '--model', 'mlp', '--batch', '16', '--quiet'], files: ['best.safetensors', 'last.safetensors'] },
  {
    dir: 'vae-mlp',
    flags: ['--cpu', '--model', 'vae-mlp', '--vae-epochs', '2', '--latent', '3', '--batch', '16', '--quiet'],
    files: ['best.safetensors', 'last.safetensors', 'vae.safetensors'],
  },
] as const;

const bytes = (d: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Buffer =>
  Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** A stored history without its timings, which no two runs share. */
const untimed = (history: string | undefined): unknown[] =>
  (JSON.parse(history ?? '[]') as Record<string, unknown>[]).map(({ seconds: _s, genesPerSecond: _g, ...rest }) => rest);

describe.each(RUNS)('the stored $dir run', ({ dir, flags, files }) => {
  const fixture = join(FIXTURES, dir);

  it('predicts the test genes as it did when it was written', async () => {
    const out = join(root, `${dir}-predict.csv`);
    const r = await runMain(['predict', '--model', fixture, '--data', data, '--cpu', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...stored] = readFileSync(join(fixture, 'predictions.csv'), 'utf8').trim().split('\n');
    const predicted = readFileSync(out, 'utf8').trim().split('\n');
    // The stored files predate the split column, which predictions.csv now ends in.
    expect(predicted[0]).toBe(`${header},split`);
    // predict writes every gene of the cell; the run wrote its test genes.
    const byGene = new Map(predicted.slice(1).map((row) => [row.split(',')[0], row]));
    expect(stored.length).toBeGreaterThan(0);
    for (const row of stored) expect(byGene.get(row.split(',')[0])).toBe(`${row},test`);
  });

  it('resumed with one epoch more, ends bit for bit as the same run uninterrupted', async () => {
    const resumed = join(root, `${dir}-resumed`);
    cpSync(fixture, resumed, { recursive: true });
    await trainToDirectory(parseArgs(['--resume', resumed, '--cpu', '--data', data, '--epochs', '3', '--quiet']), { progress: quiet });
    const reference = join(root, `${dir}-reference`);
    await trainToDirectory(parseArgs([...flags, '--data', data, '--epochs', '3', '--out', reference]), { progress: quiet });

    for (const f of files) {
      const [x, y] = [await readSafetensors(join(reference, f)), await readSafetensors(join(resumed, f))];
      expect([...y.tensors.keys()], f).toEqual([...x.tensors.keys()]);
      for (const [name, t] of x.tensors) {
        const u = y.tensors.get(name);
        expect(u && bytes(u.data).equals(bytes(t.data)), `${f}: ${name}`).toBe(true);
      }
      for (const key of ['epoch', 'step', 'rng_state', 'best_epoch', 'best_valid_auroc']) {
        expect(y.metadata[key], `${f}: ${key}`).toBe(x.metadata[key]);
      }
      expect(untimed(y.metadata.history), `${f}: history`).toEqual(untimed(x.metadata.history));
    }
    expect(readFileSync(join(resumed, 'predictions.csv'), 'utf8')).toBe(readFileSync(join(reference, 'predictions.csv'), 'utf8'));
  });
});
