import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { readLatentsFile, writeLatentsFile } from '../src/cli/experiment/latentsFile.ts';
import { interruptWhen, runMain } from './cliHelpers.ts';

// The experiment keeps each VAE it trains in vaes/<cell>-seed<N>/: a
// checkpoint after every epoch, then the latents its runs read. A stop
// mid-VAE continues from the last epoch, a stop after it never trains it
// again, and either way the tables are the uninterrupted experiment's. A
// directory committed with its data beside it resumes from another place.

const root = mkdtempSync(join(tmpdir(), 'sc-exp-vaes-'));
let data = '';
beforeAll(async () => {
  // A tiny cell: the VAEs train in seconds on the CPU path.
  await writeSynthetic(join(root, 'place'), { genes: 40, seed: 9, bins: 6, cell: 'SYNTHETIC-K' });
  data = join(root, 'place', 'SYNTHETIC-K');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ARGS = ['--cpu', '--experiment', 'small-data', '--models', 'mlp,vae-mlp', '--sizes', '10,all', '--seeds', '2', '--epochs', '1', '--vae-epochs', '4', '--latent', '3', '--batch', '8', '--vae-batch', '16'];
const withoutSeconds = (csv: string): string[] => csv.trim().split('\n').map((l) => l.replace(/,[\d.]+$/, ''));
const latentsOf = (dir: string, seed: number) => join(dir, 'vaes', `SYNTHETIC-K-seed${seed}`, 'latents.safetensors');

describe("an experiment's VAEs", () => {
  let reference = '';
  it('are kept per cell and seed as latents, their checkpoints removed once the latents are written', async () => {
    reference = join(root, 'reference');
    const r = await runMain([...ARGS, '--data', data, '--quiet', '--out', reference]);
    expect(r.code, r.stderr).toBe(0);
    for (const seed of [1, 2]) {
      expect(readdirSync(join(reference, 'vaes', `SYNTHETIC-K-seed${seed}`))).toEqual(['latents.safetensors']);
      const vae = await readLatentsFile(latentsOf(reference, seed));
      // 40 genes in each of the three splits, 3 latent dimensions.
      expect(vae.latents.length).toBe(120 * 3);
      expect(vae.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    }
  });

  it('continue from the last VAE epoch after a stop mid-VAE, and end as an uninterrupted experiment', async () => {
    const out = join(root, 'midvae');
    const stopped = await interruptWhen([...ARGS, '--data', data, '--out', out], /vae epoch {3}2\/4/, 'SIGINT');
    expect(stopped.code).toBe(130);
    expect(existsSync(join(out, 'vaes', 'SYNTHETIC-K-seed1', 'vae.safetensors'))).toBe(true);
    expect(existsSync(latentsOf(out, 1))).toBe(false);
    const resumed = await runMain(['--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/experiment: SYNTHETIC-K, seed 1: continuing the VAE from .*vae\.safetensors \(epoch [23]\)/);
    expect(withoutSeconds(readFileSync(join(out, 'small-data.csv'), 'utf8'))).toEqual(withoutSeconds(readFileSync(join(reference, 'small-data.csv'), 'utf8')));
    // The same VAE, bit for bit (its file differs only in the seconds its curve records).
    expect((await readLatentsFile(latentsOf(out, 1))).latents).toEqual((await readLatentsFile(latentsOf(reference, 1))).latents);
    expect(readFileSync(join(out, 'vae-curves.csv'), 'utf8')).toBe(readFileSync(join(reference, 'vae-curves.csv'), 'utf8'));
  });

  it('are never trained again after a stop once their latents are written', async () => {
    const out = join(root, 'aftervae');
    // Seed 1's VAE served its first run (10 labeled genes) and is stored; seed 1's run on all genes still needs it.
    const stopped = await interruptWhen([...ARGS, '--data', data, '--quiet', '--out', out], /experiment: 2 of 8 runs done/, 'SIGINT');
    expect(stopped.code).toBe(130);
    expect(existsSync(latentsOf(out, 1))).toBe(true);
    const resumed = await runMain(['--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`experiment: SYNTHETIC-K, seed 1: the VAE trained earlier, from ${latentsOf(out, 1)}`);
    // Only seed 2's VAE trains.
    expect(resumed.stderr.split('\n').filter((l) => /vae epoch/.test(l))).toHaveLength(4);
    expect(withoutSeconds(readFileSync(join(out, 'small-data.csv'), 'utf8'))).toEqual(withoutSeconds(readFileSync(join(reference, 'small-data.csv'), 'utf8')));
  });

  it('refuse a stored VAE of other settings, naming the file and what to do', async () => {
    const out = join(root, 'other');
    cpSync(reference, out, { recursive: true });
    // The finished experiment's last runs are forgotten, so it needs its VAEs again.
    const csv = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(out, 'small-data.csv'), `${csv.slice(0, -1).join('\n')}\n`);
    const vae = await readLatentsFile(latentsOf(out, 2));
    await writeLatentsFile(latentsOf(out, 2), 'SYNTHETIC-K', 3, vae, 'some other VAE');
    const r = await runMain(['--resume', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${latentsOf(out, 2)}: holds a VAE trained with other settings or data (some other VAE); this run needs SYNTHETIC-K|2|3|`);
    expect(r.stderr).toContain('Move the file away to train it again');
  });

  it('resume from another place when the data moved with the experiment', async () => {
    const out = join(root, 'place', 'results', 'exp');
    const stopped = await interruptWhen([...ARGS, '--data', data, '--quiet', '--out', out], /experiment: 1 of 8 runs done/, 'SIGINT');
    expect(stopped.code).toBe(130);
    const stored = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')) as { dataRelative: string };
    expect(stored.dataRelative).toBe(join('..', '..', 'SYNTHETIC-K'));
    // A clone elsewhere: the data's absolute path is gone, its place beside the experiment is the same.
    mkdirSync(join(root, 'elsewhere'));
    renameSync(join(root, 'place'), join(root, 'elsewhere', 'place'));
    const moved = join(root, 'elsewhere', 'place', 'results', 'exp');
    const resumed = await runMain(['--resume', moved, '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(withoutSeconds(readFileSync(join(moved, 'small-data.csv'), 'utf8'))).toEqual(withoutSeconds(readFileSync(join(reference, 'small-data.csv'), 'utf8')));
    renameSync(join(root, 'elsewhere', 'place'), join(root, 'place'));
  });
});
