import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GridPlan, planIdOf } from '../src/cli/grid/gridPlan.ts';
import { runMain, snapshot, syntheticCellFolder } from './cliHelpers.ts';

// The grid (plan, job, collect) keeps the promises a single run keeps
// (docs/RELIABILITY.md): it never writes into a folder holding a user's
// files, never replaces a file it did not write, and never writes outside
// the plan's root, whatever the plan file says. Each refusal leaves every
// file under the test's folder as it was.

const { root, data } = syntheticCellFolder('sc-gridsafe-', { genes: 40, seed: 31, bins: 6, cell: 'SYNTHETIC-S' }, 'data');
const grid = (out: string, plan: string): string[] =>
  ['--cpu', '--experiment', 'small-data', '--data', data, '--models', 'logreg', '--sizes', 'all', '--seeds', '1', '--epochs', '2', '--batch', '16', '--quiet', '--out', out, '--plan', plan];
/** An edited plan given a matching identity, as a careless or crafted edit could. */
const withId = (p: Record<string, unknown>): Record<string, unknown> => ({ ...p, planId: planIdOf(p as unknown as GridPlan) });
const readPlan = (file: string): Record<string, unknown> & { entries: Record<string, unknown>[] } => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { entries: Record<string, unknown>[] };

describe('a plan, job and collect never touch a user’s files', () => {
  it('a plan into a folder holding a user’s files is refused, as a plain experiment into it is', async () => {
    const work = join(root, 'user');
    const mine = join(work, 'mine');
    mkdirSync(mine, { recursive: true });
    writeFileSync(join(mine, 'notes.txt'), 'my notes\n');
    writeFileSync(join(mine, 'small-data.md'), '# my own table\n');
    const before = snapshot(work);
    const plan = join(work, 'plan.json');
    const r = await runMain(grid(mine, plan));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`simplechrome: --out ${mine} is not empty and holds files that are not a simplechrome run's (notes.txt); nothing was changed: choose a new or empty directory\n`);
    expect(snapshot(work)).toEqual(before);
    // Only an earlier experiment's table in it: refused as holding a run (--overwrite does not apply to a plan).
    rmSync(join(mine, 'notes.txt'));
    const tableOnly = snapshot(work);
    const r2 = await runMain(grid(mine, plan));
    expect(r2.code).toBe(2);
    expect(r2.stderr).toBe(`simplechrome: --out ${mine} already holds a run (small-data.md); nothing was changed: choose a new or empty directory for the plan\n`);
    expect(snapshot(work)).toEqual(tableOnly);
  });

  it('collect never replaces a file it did not write: files dropped into the root after the plan, or edited after collect', async () => {
    const work = join(root, 'collect');
    const out = join(work, 'grid');
    const plan = join(work, 'plan.json');
    mkdirSync(work);
    const made = await runMain(grid(out, plan));
    expect(made.code, made.stderr).toBe(0);
    const job = await runMain(['job', '--plan', plan, '--index', '0', '--quiet']);
    expect(job.code, job.stderr).toBe(0);
    writeFileSync(join(out, 'small-data.md'), '# my own table\n');
    const before = snapshot(work);
    const r = await runMain(['collect', '--plan', plan]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`simplechrome: collect: ${join(out, 'small-data.md')} was not written by collect of this plan; nothing was changed: move it out of ${out}, or give the plan another --out\n`);
    expect(snapshot(work)).toEqual(before);
    writeFileSync(join(out, 'notes.txt'), 'my notes\n');
    const withNotes = snapshot(work);
    const r2 = await runMain(['collect', '--plan', plan]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toBe(`simplechrome: collect: ${out} holds files that are not a simplechrome run's (notes.txt); nothing was changed: move them out of ${out}, or give the plan another --out\n`);
    expect(snapshot(work)).toEqual(withNotes);
    // Moved away: collect writes, and may replace its own files when run again.
    renameSync(join(out, 'small-data.md'), join(work, 'small-data.md'));
    renameSync(join(out, 'notes.txt'), join(work, 'notes.txt'));
    const first = await runMain(['collect', '--plan', plan]);
    expect(first.code, first.stderr).toBe(0);
    const again = await runMain(['collect', '--plan', plan]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(work, 'small-data.md'), 'utf8')).toBe('# my own table\n');
    // A table the user edited after collect wrote it is theirs now.
    writeFileSync(join(out, 'small-data.md'), `${readFileSync(join(out, 'small-data.md'), 'utf8')}\nmy remark\n`);
    const edited = snapshot(work);
    const r3 = await runMain(['collect', '--plan', plan]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(`collect: ${join(out, 'small-data.md')} was not written by collect of this plan`);
    expect(snapshot(work)).toEqual(edited);
  }, 120_000);
});

describe('a plan file cannot send a job outside the plan’s root', () => {
  let out = '';
  let plan = '';
  beforeAll(async () => {
    const work = join(root, 'escape');
    out = join(work, 'grid');
    plan = join(work, 'plan.json');
    mkdirSync(work);
    const made = await runMain(grid(out, plan));
    expect(made.code, made.stderr).toBe(0);
  });

  it('an entry whose folder leads out of the root is refused, naming the entry and the folder; nothing is written', async () => {
    const p = readPlan(plan);
    const edited = join(root, 'escape', 'edited.json');
    writeFileSync(edited, JSON.stringify(withId({ ...p, entries: p.entries.map((e, i) => (i === 0 ? { ...e, dir: '../../etc' } : e)) })));
    const before = snapshot(root);
    const r = await runMain(['job', '--plan', edited, '--index', '0', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`simplechrome: ${edited}: entry 0 names the folder "../../etc", which is outside the plan's root ${out}; the plan was edited\n`);
    expect(snapshot(root)).toEqual(before);
    const absolute = join(root, 'escape', 'absolute.json');
    writeFileSync(absolute, JSON.stringify(withId({ ...p, entries: p.entries.map((e, i) => (i === 0 ? { ...e, dir: join(root, 'elsewhere') } : e)) })));
    const r2 = await runMain(['collect', '--plan', absolute]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`entry 0 names the folder "${join(root, 'elsewhere')}", which is outside the plan's root ${out}`);
  });

  it('a plan whose contents no longer match its identity is refused', async () => {
    const p = readPlan(plan);
    const edited = join(root, 'escape', 'settings.json');
    writeFileSync(edited, JSON.stringify({ ...p, settings: { ...(p.settings as object), epochs: 9 } }));
    const before = snapshot(root);
    const r = await runMain(['job', '--plan', edited, '--index', '0', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`simplechrome: ${edited}: the plan's contents do not match its identity (planId ${String(p.planId)}); it was edited: write a new plan\n`);
    expect(snapshot(root)).toEqual(before);
  });

  it('an entry pointed at an existing run folder adds nothing to it', async () => {
    const theirs = join(out, 'their-run');
    mkdirSync(theirs, { recursive: true });
    writeFileSync(join(theirs, 'metrics.json'), '{}\n');
    writeFileSync(join(theirs, 'best.safetensors'), 'weights');
    const p = readPlan(plan);
    const edited = join(root, 'escape', 'pointed.json');
    writeFileSync(edited, JSON.stringify(withId({ ...p, entries: p.entries.map((e, i) => (i === 0 ? { ...e, dir: 'their-run' } : e)) })));
    const before = snapshot(root);
    const r = await runMain(['job', '--plan', edited, '--index', '0', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`simplechrome: job: entry 0 (logreg on SYNTHETIC-S, all labeled genes, seed 1): ${theirs} already holds a run that is not an entry of this plan (best.safetensors, metrics.json); nothing was changed: give the plan another --out\n`);
    expect(snapshot(root)).toEqual(before);
    rmSync(theirs, { recursive: true });
  });
});
