import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interruptWhen, runMain, syntheticCellFolder } from './cliHelpers.ts';

// One entry of a plan at a time, on a tiny synthetic cell: a VAE entry and a
// run entry stopped mid-training (SIGINT) continue from their checkpoints
// when run again, and the collected tables equal the experiment run on one
// machine. (test/slurm.test.ts runs the real samples through Slurm.)

const { root, data } = syntheticCellFolder('sc-job-', { genes: 40, seed: 21, bins: 6, cell: 'SYNTHETIC-J' });
const grid = (): string[] => ['--cpu', '--experiment', 'small-data', '--data', data, '--models', 'logreg,vae-mlp', '--sizes', 'all', '--seeds', '1', '--epochs', '4', '--vae-epochs', '4', '--latent', '3', '--batch', '16', '--quiet'];
const withoutSeconds = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, -1).join(','));

describe('job', () => {
  it('continues an interrupted VAE entry and an interrupted run from their checkpoints, and collect matches one machine', async () => {
    const one = join(root, 'one');
    const ref = await runMain([...grid(), '--out', one]);
    expect(ref.code, ref.stderr).toBe(0);
    const plan = join(root, 'plan.json');
    const out = join(root, 'grid');
    expect((await runMain([...grid(), '--out', out, '--plan', plan])).code).toBe(0);
    const vaeDir = join(out, 'entries', '00000-vae-SYNTHETIC-J-seed1');

    const vae = await interruptWhen(['job', '--plan', plan, '--index', '0'], /vae epoch +1\/4/, 'SIGINT');
    expect(vae.code, vae.stderr).toBe(130);
    expect(vae.stderr).toContain(`job: entry 0 (VAE of SYNTHETIC-J, seed 1) stopped; run it again to continue from its last checkpoint in ${vaeDir}`);
    expect(existsSync(join(vaeDir, 'vae.safetensors'))).toBe(true);
    expect(readdirSync(vaeDir).sort()).toEqual(['entry.json', 'vae.safetensors']);
    // The run that needs this VAE refuses to start without it.
    const early = await runMain(['job', '--plan', plan, '--index', '2', '--quiet']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('entry 0 (VAE of SYNTHETIC-J, seed 1) has not finished');

    const resumed = await runMain(['job', '--plan', plan, '--index', '0', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`job: continuing from ${join(vaeDir, 'vae.safetensors')}`);
    expect((await runMain(['job', '--plan', plan, '--index', '0'])).stderr).toBe('job: entry 0 (VAE of SYNTHETIC-J, seed 1) has finished: nothing to do\n');

    const runDir = join(out, 'entries', '00002-SYNTHETIC-J-vae-mlp-nall-seed1');
    const run = await interruptWhen(['job', '--plan', plan, '--index', '2'], /vae-mlp epoch +1\/4/, 'SIGINT');
    expect(run.code, run.stderr).toBe(130);
    expect(existsSync(join(runDir, 'last.safetensors'))).toBe(true);
    expect(existsSync(join(runDir, 'result.json'))).toBe(false);
    const again = await runMain(['job', '--plan', plan, '--index', '2', '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`job: continuing from ${join(runDir, 'last.safetensors')}`);

    const saved = process.env.SLURM_ARRAY_TASK_ID;
    process.env.SLURM_ARRAY_TASK_ID = '0';
    const byTask = await runMain(['job', '--plan', plan, '--offset', '1', '--quiet']);
    if (saved === undefined) delete process.env.SLURM_ARRAY_TASK_ID;
    else process.env.SLURM_ARRAY_TASK_ID = saved;
    expect(byTask.code, byTask.stderr).toBe(0);
    expect(byTask.stderr).toContain('job: entry 1 (logreg on SYNTHETIC-J, all labeled genes, seed 1)');

    const c = await runMain(['collect', '--plan', plan]);
    expect(c.code, c.stderr).toBe(0);
    expect(withoutSeconds(join(out, 'small-data.csv'))).toEqual(withoutSeconds(join(one, 'small-data.csv')));
    const files = ['small-data.md', 'paired.csv', 'experiment.json', 'auroc-vs-labeled.svg', 'vae-curves.csv', 'vae-curves.svg'];
    for (const f of files) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(one, f), 'utf8'));
    expect(c.stdout).toBe(ref.stdout.replace(/wrote .*\n$/, `wrote ${['small-data.md', 'small-data.csv', 'paired.csv', 'experiment.json', 'auroc-vs-labeled.svg', 'vae-curves.csv', 'vae-curves.svg'].map((f) => join(out, f)).join(', ')}\n`));
  }, 300_000);
});
