import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GridPlan, planIdOf } from '../src/cli/grid/gridPlan.ts';
import { arraySpec } from '../src/cli/grid/slurmScripts.ts';
import { sampleCellFolder } from './cellFolder.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// The grid as a plan file, one entry by index, the Slurm scripts and collect,
// without a scheduler: what each writes, and every bad input refused with a
// message and nothing lost. Nothing here trains (test/slurm.test.ts does).

const root = mkdtempSync(join(tmpdir(), 'sc-plan-'));
let folder = '';
let plan = '';
const out = join(root, 'grid');
beforeAll(async () => {
  folder = sampleCellFolder(root);
  plan = join(root, 'plan.json');
  const r = await runMain(['--cpu', '--experiment', 'small-data', '--data', folder, '--models', 'logreg,vae-mlp,vae-mlp-neighbors', '--neighbors', 'spatial,functional', '--sizes', '100,1000,all', '--seeds', '2', '--epochs', '2', '--vae-epochs', '3', '--quiet', '--out', out, '--plan', plan]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the grid as a plan', () => {
  it('lists one VAE per (cell, seed) first, then every run in the order one machine runs them, each in its own directory', () => {
    const p = JSON.parse(readFileSync(plan, 'utf8')) as { root: string; settings: Record<string, unknown>; cells: { cell: string; sizes: unknown[] }[]; entries: Record<string, unknown>[] };
    expect(p.root).toBe(out);
    // 1000 is above the samples' 400 training genes: skipped, as the experiment skips it.
    expect(p.cells.map((c) => [c.cell, c.sizes])).toEqual([['E003', [100, 'all']], ['E123', [100, 'all']]]);
    expect(p.settings).toMatchObject({ models: ['logreg', 'vae-mlp', 'vae-mlp-neighbors'], seeds: 2, epochs: 2, vaeEpochs: 3, device: 'cpu', neighbors: 'spatial,functional' });
    expect(Object.keys(p.settings.fingerprints as object)).toEqual(['E003', 'E123']);
    const vaes = p.entries.filter((e) => e.kind === 'vae');
    expect(vaes.map((e) => [e.index, e.cell, e.seed])).toEqual([[0, 'E003', 1], [1, 'E003', 2], [2, 'E123', 1], [3, 'E123', 2]]);
    // 2 cells × 2 seeds × 2 sizes × 4 arms.
    expect(p.entries).toHaveLength(4 + 32);
    expect(p.entries[4]).toEqual({ index: 4, kind: 'run', cell: 'E003', seed: 1, size: 100, model: 'logreg', dir: 'entries/00004-E003-logreg-n100-seed1' });
    expect(p.entries[7]).toEqual({ index: 7, kind: 'run', cell: 'E003', seed: 1, size: 100, model: 'vae-mlp-neighbors:functional', dir: 'entries/00007-E003-vae-mlp-neighbors-functional-n100-seed1', after: 0 });
    expect(p.entries[35]).toMatchObject({ cell: 'E123', seed: 2, size: 'all', model: 'vae-mlp-neighbors:functional', after: 3 });
    expect(new Set(p.entries.map((e) => e.dir)).size).toBe(p.entries.length);
  });

  it('writes the same plan again unchanged, and never replaces another plan', async () => {
    const args = ['--cpu', '--experiment', 'small-data', '--data', folder, '--models', 'logreg,vae-mlp,vae-mlp-neighbors', '--neighbors', 'spatial,functional', '--sizes', '100,1000,all', '--seeds', '2', '--epochs', '2', '--vae-epochs', '3', '--quiet', '--out', out, '--plan', plan];
    const before = readFileSync(plan, 'utf8');
    const same = await runMain(args);
    expect(same.code).toBe(0);
    expect(same.stderr).toContain(`plan: ${plan} already holds this plan; left as it is`);
    const other = await runMain(args.map((a) => (a === '3' ? '4' : a)));
    expect(other.code).toBe(2);
    expect(other.stderr.split('\n').at(-2)).toBe(`simplechrome: --plan ${plan} already holds another plan; it is not replaced (choose another file name, or delete it if its runs are not wanted)`);
    expect(readFileSync(plan, 'utf8')).toBe(before);
  });

  it('refuses --plan where it does not apply', async () => {
    const single = await runMain(['--cpu', '--model', 'mlp', '--plan', join(root, 'x.json')]);
    expect(single.stderr).toBe('simplechrome: --plan belongs to --experiment small-data; a single training run does not use it (it takes --model, --train-size and --seed)\n');
    const over = await runMain(['--cpu', '--experiment', 'small-data', '--overwrite', '--plan', join(root, 'x.json')]);
    expect(over.stderr).toBe('simplechrome: --overwrite does not apply to --plan: a plan file is never replaced, and each entry of the plan writes only into its own directory\n');
  });
});

describe('job, slurm and collect', () => {
  it('refuse bad flags and indices with a message', async () => {
    const cases: [string[], string][] = [
      [['job', '--index', '0'], 'simplechrome: job needs --plan FILE (written by --experiment small-data ... --plan FILE) (usage: tsx run.ts job --plan FILE [--index N | --offset K with $SLURM_ARRAY_TASK_ID] [--quiet])\n'],
      [['job', '--plan', plan, '--epochs', '3'], 'simplechrome: job: --epochs does not apply (usage: tsx run.ts job --plan FILE [--index N | --offset K with $SLURM_ARRAY_TASK_ID] [--quiet])\n'],
      [['job', '--plan', plan, '--index', '36'], 'simplechrome: job: index 36 is not in the plan (entries 0-35)\n'],
      [['job', '--plan', plan, '--index', '-1'], 'simplechrome: --index needs an integer >= 0, got "-1"\n'],
      [['job', '--plan', plan, '--index', '1', '--offset', '2'], 'simplechrome: job: --index N names the entry; --offset applies to $SLURM_ARRAY_TASK_ID only: give one\n'],
      [['job', '--plan', join(root, 'none.json'), '--index', '0'], `simplechrome: --plan ${join(root, 'none.json')}: no such file (write one with --experiment small-data ... --plan ${join(root, 'none.json')})\n`],
      [['slurm', '--plan', plan, '--partition', 'gpu; rm -rf /'], 'simplechrome: --partition "gpu; rm -rf /": only letters, digits and _ . : , = + - / are allowed\n'],
      [['slurm', '--plan', plan, '--max-running', '0'], 'simplechrome: --max-running needs an integer >= 1, got "0"\n'],
      [['collect', '--plan', plan, '--submit'], 'simplechrome: collect: --submit does not apply (usage: tsx run.ts collect --plan FILE)\n'],
    ];
    for (const [argv, message] of cases) {
      const r = await runMain(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toBe(message);
    }
    const saved = process.env.SLURM_ARRAY_TASK_ID;
    delete process.env.SLURM_ARRAY_TASK_ID;
    const noTask = await runMain(['job', '--plan', plan]);
    if (saved !== undefined) process.env.SLURM_ARRAY_TASK_ID = saved;
    expect(noTask.stderr).toBe('simplechrome: job needs --index N, or $SLURM_ARRAY_TASK_ID (set by a Slurm job array)\n');
  });

  it('a run whose VAE has not finished fails with what to do, and collect lists it', async () => {
    const r = await runMain(['job', '--plan', plan, '--index', '5', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('simplechrome: entry 0 (VAE of E003, seed 1) has not finished; the runs that use its VAE wait for it (slurm submits them with afterok), or run it first: job --index 0\n');
    const c = await runMain(['collect', '--plan', plan]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('collect: none of the 32 runs');
    expect(c.stderr).toContain('  5  vae-mlp on E003, 100 labeled genes, seed 1: failed: entry 0 (VAE of E003, seed 1) has not finished;');
    expect(c.stderr).toContain('  4  logreg on E003, 100 labeled genes, seed 1: not finished');
  });

  it('a plan edited by hand, or entries written under another plan, are refused', async () => {
    const p = JSON.parse(readFileSync(plan, 'utf8')) as { entries: { index: number }[]; planId: string };
    const edited = join(root, 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...p, entries: p.entries.map((e, i) => (i === 3 ? { ...e, index: 9 } : e)) }));
    const r = await runMain(['job', '--plan', edited, '--index', '0']);
    expect(r.stderr).toBe(`simplechrome: ${edited}: entry 3 carries index 9; the plan was edited\n`);
    // Another plan with the same root: its own identity, and entry 5 in the folder the first plan's entry 5 wrote.
    const other = join(root, 'other.json');
    const otherPlan = { ...p, settings: { ...(p as unknown as { settings: object }).settings, epochs: 3 } } as unknown as GridPlan;
    const otherId = planIdOf(otherPlan);
    writeFileSync(other, JSON.stringify({ ...otherPlan, planId: otherId }));
    const before = snapshot(out);
    const refused = await runMain(['job', '--plan', other, '--index', '5']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`holds an entry of another plan (see ${join(out, 'entries', '00005-E003-vae-mlp-n100-seed1', 'entry.json')}); this plan is ${otherId}: give the plan another --out`);
    expect(snapshot(out)).toEqual(before);
  });

  it('writes job arrays with the cap, the flags given, a log per task and the afterok dependency', async () => {
    const r = await runMain(['slurm', '--plan', plan, '--partition', 'gpu', '--account', 'lab1', '--time', '02:00:00', '--gres', 'gpu:1', '--mem', '8G', '--cpus-per-task', '4', '--max-running', '20', '--max-array-size', '10']);
    expect(r.code, r.stderr).toBe(0);
    const vae = readFileSync(join(out, 'slurm', 'sc-vae.sbatch'), 'utf8');
    for (const line of ['#SBATCH --array=0-3%20', '#SBATCH --partition=gpu', '#SBATCH --account=lab1', '#SBATCH --time=02:00:00', '#SBATCH --gres=gpu:1', '#SBATCH --mem=8G', '#SBATCH --cpus-per-task=4', `#SBATCH --output=${join(out, 'logs', 'sc-vae-%A_%a.log')}`]) {
      expect(vae).toContain(line);
    }
    // 32 runs with task ids below 10: four arrays of 9, 9, 9 and 5, each its own offset into the plan.
    expect(readFileSync(join(out, 'slurm', 'sc-runs-0.sbatch'), 'utf8')).toContain('#SBATCH --array=0-8%20');
    expect(readFileSync(join(out, 'slurm', 'sc-runs-3.sbatch'), 'utf8')).toMatch(/#SBATCH --array=0-4%20[\s\S]*--offset 31\n/);
    const submit = readFileSync(join(out, 'slurm', 'submit.sh'), 'utf8');
    expect(submit.match(/--dependency=afterok\$after --kill-on-invalid-dep=yes/g)).toHaveLength(4);
    expect(r.stdout).toContain('(36 of 36 entries left)');
    expect(arraySpec([0, 1, 2, 5, 7, 8], 3)).toBe('0-2,5,7-8%3');
  });
});
