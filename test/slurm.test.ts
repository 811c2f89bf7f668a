import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVaeCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { DEFAULTS } from '../src/cli/flags/args.ts';
import { latentMeans } from '../src/train/predictWith.ts';
import { loadData, settingsOf } from '../src/cli/session/session.ts';
import { sampleCellFolder } from './cellFolder.ts';
import { runMain } from './cliHelpers.ts';
import { type SlurmCluster, startSlurm } from './slurmCluster.ts';

// The experiment grid as Slurm job arrays, on a real single-node Slurm
// started here (test/slurmCluster.ts): submitted, run, collected, and equal
// to the same grid run on one machine; then with a task cancelled mid-run
// and submitted again. Two cells of the samples' first 40 genes a split, one
// seed, 30 labeled genes, logreg and vae-mlp (so the runs wait on the VAE
// array), one epoch each.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'sc-slurm-'));
const REPORT_FILES = ['small-data.md', 'paired.csv', 'per-cell.csv', 'experiment.json', 'auroc-vs-labeled.svg'];
let cluster: SlurmCluster | undefined;
let folder = '';
let reference: Promise<{ code: number | null; stderr: string }>;
const savedConf = process.env.SLURM_CONF;

const grid = (): string[] => ['--cpu', '--experiment', 'small-data', '--data', folder, '--models', 'logreg,vae-mlp', '--sizes', '30', '--seeds', '1', '--epochs', '1', '--vae-epochs', '1', '--quiet'];

/** run.ts in a process of its own, so that it runs beside the Slurm tasks. */
function runTs(argv: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts', ...argv], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const withoutSeconds = (csv: string): string[] => csv.trim().split('\n').map((l) => l.split(',').slice(0, -1).join(','));

async function expectSameAsOneMachine(dir: string): Promise<void> {
  const r = await reference;
  expect(r.code, r.stderr).toBe(0);
  const one = join(root, 'one-machine');
  for (const f of REPORT_FILES) expect(readFileSync(join(dir, f), 'utf8'), f).toBe(readFileSync(join(one, f), 'utf8'));
  const csv = withoutSeconds(readFileSync(join(dir, 'small-data.csv'), 'utf8'));
  expect(csv).toEqual(withoutSeconds(readFileSync(join(one, 'small-data.csv'), 'utf8')));
  expect(csv).toHaveLength(1 + 2 * 2);
}

async function submit(plan: string): Promise<Record<string, string>> {
  const r = await runMain(['slurm', '--plan', plan, '--submit']);
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries([...r.stdout.matchAll(/^(sc-[a-z0-9-]+): job (\d+)/gm)].map((m) => [m[1] as string, m[2] as string]));
}

const waitFor = async (what: string, ok: () => boolean, seconds: number): Promise<void> => {
  const until = Date.now() + seconds * 1000;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what} after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

beforeAll(async () => {
  folder = sampleCellFolder(root, 40);
  cluster = await startSlurm();
  process.env.SLURM_CONF = cluster.env.SLURM_CONF;
  // The same grid on one machine, started now so that it runs while Slurm does.
  reference = runTs([...grid(), '--out', join(root, 'one-machine')]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (savedConf === undefined) delete process.env.SLURM_CONF;
  else process.env.SLURM_CONF = savedConf;
  await reference?.catch(() => {});
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('the experiment grid on Slurm', () => {
  it('runs as a VAE array and a run array after it, and collects into the files one machine writes', async () => {
    const plan = join(root, 'a.plan.json');
    const out = join(root, 'a');
    const p = await runMain([...grid(), '--out', out, '--plan', plan]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`wrote ${plan}: 6 entries (2 VAEs, indices 0-1; 4 runs, indices 2-5) over 2 cells; they write under ${out}`);
    const jobs = await submit(plan);
    expect(Object.keys(jobs)).toEqual(['sc-vae', 'sc-runs']);
    const vaeScript = readFileSync(join(out, 'slurm', 'sc-vae.sbatch'), 'utf8');
    expect(vaeScript).toContain('#SBATCH --array=0-1%100');
    expect(vaeScript).toContain(`--plan '${plan}' --offset 0`);
    expect(readFileSync(join(out, 'slurm', 'sc-runs.sbatch'), 'utf8')).toContain(`--plan '${plan}' --offset 2`);
    expect(readFileSync(join(out, 'slurm', 'submit.sh'), 'utf8')).toContain('--dependency=afterok$after');
    // The runs wait on the VAEs through the scheduler: while a VAE task is queued or running, no run has started.
    const early = cluster?.run('squeue', ['-h', '-j', jobs['sc-runs'] as string, '-o', '%T %r']) ?? '';
    if (cluster?.queued().some((id) => id.startsWith(`${jobs['sc-vae']}_`))) expect(early).toMatch(/PENDING/);
    await cluster?.drain(600);
    const c = await runMain(['collect', '--plan', plan]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain('collect: all 4 runs');
    await expectSameAsOneMachine(out);
    const logs = readdirSync(join(out, 'logs')).sort();
    expect(logs).toEqual([...[0, 1].map((t) => `sc-vae-${jobs['sc-vae']}_${t}.log`), ...[0, 1, 2, 3].map((t) => `sc-runs-${jobs['sc-runs']}_${t}.log`)].sort());
    expect(readFileSync(join(out, 'logs', `sc-runs-${jobs['sc-runs']}_1.log`), 'utf8')).toContain('job: entry 3 (vae-mlp on E003, 30 labeled genes, seed 1)');
    // The latents the VAE entry wrote for its runs are what its saved VAE encodes, bit for bit.
    const vaeDir = join(out, 'entries', '00000-vae-E003-seed1');
    const data = await loadData({ ...DEFAULTS, data: join(folder, 'E003'), quiet: true });
    const encoded = await latentMeans(data.dataset, await readVaeCheckpoint(join(vaeDir, 'vae.safetensors')), { ...settingsOf(DEFAULTS), seed: 1 }, { kind: 'cpu' });
    const stored = (await readSafetensors(join(vaeDir, 'latents.safetensors'))).tensors.get('latent_mean');
    expect(stored?.data).toEqual(encoded);
    // Submitting a finished plan submits nothing.
    const again = await runMain(['slurm', '--plan', plan, '--submit']);
    expect(again.stdout).toContain('every entry of');
    expect(cluster?.queued()).toEqual([]);
  }, 900_000);

  it('after a task is cancelled mid-run, submitting again runs what is left and gives the same tables', async () => {
    const plan = join(root, 'b.plan.json');
    const out = join(root, 'b');
    expect((await runMain([...grid(), '--out', out, '--plan', plan])).code).toBe(0);
    const jobs = await submit(plan);
    const log = join(out, 'logs', `sc-vae-${jobs['sc-vae']}_0.log`);
    await waitFor('the VAE task of E003 to start', () => existsSync(log) && readFileSync(log, 'utf8').includes('job: entry 0 (VAE of E003, seed 1)'), 300);
    cluster?.run('scancel', [`${jobs['sc-vae']}_0`]);
    await cluster?.drain(600);
    // The run array can never start once a VAE task failed: the scheduler drops it, and collect names what is missing.
    expect(existsSync(join(out, 'entries', '00000-vae-E003-seed1', 'result.json'))).toBe(false);
    expect(readFileSync(log, 'utf8')).toMatch(/CANCELLED|interrupted \(SIGTERM\)/);
    const partial = await runMain(['collect', '--plan', plan]);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toContain('none of the 4 runs');
    expect(partial.stderr).toMatch(/ 0 {2}VAE of E003, seed 1: not finished/);
    const resubmitted = await runMain(['slurm', '--plan', plan, '--submit']);
    expect(resubmitted.code, resubmitted.stderr).toBe(0);
    expect(resubmitted.stdout).toContain('(5 of 6 entries left)');
    expect(resubmitted.stdout).toMatch(/sc-vae: job \d+ \(1 VAE entries\)/);
    expect(readFileSync(join(out, 'slurm', 'sc-vae.sbatch'), 'utf8')).toContain('#SBATCH --array=0%100');
    await cluster?.drain(600);
    const c = await runMain(['collect', '--plan', plan]);
    expect(c.code, c.stderr).toBe(0);
    await expectSameAsOneMachine(out);
  }, 900_000);
});
