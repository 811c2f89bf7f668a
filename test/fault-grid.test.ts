import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type GridPlan, planIdOf } from '../src/cli/grid/gridPlan.ts';
import { runMain, snapshot, startPausing, syntheticCellFolder } from './cliHelpers.ts';

// Fault injection on the grid: two `job` processes on one entry at once (the
// first held at the moment it has the entry's lock by the test-pause hook,
// src/util/testPause.ts, never by timing), and a plan edited between `job`
// and `collect`. Each asserts the exit code, the message, and that nothing
// outside the entry's own folder changed.

const { root, data } = syntheticCellFolder('sc-fault-grid-', { genes: 40, seed: 41, bins: 6, cell: 'SYNTHETIC-FG' });
const grid = (out: string, plan: string, seeds = 1): string[] =>
  ['--cpu', '--experiment', 'small-data', '--data', data, '--models', 'mlp', '--sizes', 'all', '--seeds', String(seeds), '--epochs', '2', '--batch', '16', '--quiet', '--out', out, '--plan', plan];
const entry0 = 'entry 0 (mlp on SYNTHETIC-FG, all labeled genes, seed 1)';

describe('grid faults', () => {
  it('two jobs on one entry at once, and two collects: the second is refused naming the first, and the result is the first one’s', async () => {
    const work = mkdtempSync(join(root, 'two-'));
    const out = join(work, 'grid');
    const plan = join(work, 'plan.json');
    expect((await runMain(grid(out, plan))).code).toBe(0);
    const dir = join(out, 'entries', '00000-SYNTHETIC-FG-mlp-nall-seed1');
    const first = startPausing(['job', '--plan', plan, '--index', '0', '--quiet'], ['job-locked']);
    await first.pausedAt('job-locked');
    const before = snapshot(root);
    const second = await runMain(['job', '--plan', plan, '--index', '0', '--quiet']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `^simplechrome: job: ${entry0.replace(/[()]/g, '\\$&')} in ${dir} is in use by another run: process ${first.pid} \\(started [^)]+: .*job --plan ${plan} --index 0 --quiet\\); ` +
          'nothing was changed: wait for it to finish \\(collect takes its result\\), or stop it\\n$',
      ),
    );
    expect(snapshot(root)).toEqual(before);
    first.proceed();
    const ran = await first.exited;
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).not.toContain('continuing from');
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { index: number; line: string };
    expect(result.index).toBe(0);
    // The first job's result stands on its checkpoint, and collect takes it.
    const c = await runMain(['collect', '--plan', plan]);
    expect(c.code, c.stderr).toBe(0);
    expect(readFileSync(join(out, 'small-data.csv'), 'utf8')).toContain(result.line.split(',').slice(0, 4).join(','));
    // Two collects at once, the same way: the second is refused and changes nothing; the first writes the tables.
    const collecting = startPausing(['collect', '--plan', plan], ['collect-locked']);
    await collecting.pausedAt('collect-locked');
    const tables = snapshot(root);
    const other = await runMain(['collect', '--plan', plan]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      new RegExp(`^simplechrome: collect: ${out} is in use by another run: process ${collecting.pid} \\(started [^)]+: .*collect --plan ${plan}\\); nothing was changed: wait for it to finish, or stop it\\n$`),
    );
    expect(snapshot(root)).toEqual(tables);
    collecting.proceed();
    const collected = await collecting.exited;
    expect(collected.code, collected.stderr).toBe(0);
  }, 180_000);

  it('a collect killed between two of its files: each file is whole, and the next collect takes them all as its own', async () => {
    const work = mkdtempSync(join(root, 'killed-collect-'));
    const out = join(work, 'grid');
    const plan = join(work, 'plan.json');
    expect((await runMain(grid(out, plan, 2))).code).toBe(0);
    expect((await runMain(['job', '--plan', plan, '--index', '0', '--quiet'])).code).toBe(0);
    expect((await runMain(['collect', '--plan', plan])).code).toBe(1);
    expect((await runMain(['job', '--plan', plan, '--index', '1', '--quiet'])).code).toBe(0);
    const before = snapshot(out);
    const p = startPausing(['collect', '--plan', plan], ['collect-file-written']);
    await p.pausedAt('collect-file-written');
    await p.kill();
    // Killed after its first file: small-data.csv is this collect's, the others the last one's.
    const after = snapshot(out);
    expect(after['small-data.csv']).not.toBe(before['small-data.csv']);
    expect(after['small-data.md']).toBe(before['small-data.md']);
    expect(Object.keys(after).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const entries = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('entries/')));
    expect(entries(after)).toEqual(entries(before));
    const again = await runMain(['collect', '--plan', plan]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`note: ${out} was locked by process ${p.pid}, which is no longer running; this run took the lock over`);
    expect(readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
  }, 180_000);

  it('a plan edited between job and collect: collect refuses it, by its identity or entry by entry, and changes nothing', async () => {
    const work = mkdtempSync(join(root, 'edited-'));
    const out = join(work, 'grid');
    const plan = join(work, 'plan.json');
    expect((await runMain(grid(out, plan))).code).toBe(0);
    const job = await runMain(['job', '--plan', plan, '--index', '0', '--quiet']);
    expect(job.code, job.stderr).toBe(0);
    const original = readFileSync(plan, 'utf8');
    const p = JSON.parse(original) as GridPlan;
    // Edited by hand: the plan's identity no longer matches what it says.
    writeFileSync(plan, JSON.stringify({ ...p, settings: { ...p.settings, epochs: 9 } }));
    const byHand = snapshot(root);
    const r = await runMain(['collect', '--plan', plan]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`simplechrome: ${plan}: the plan's contents do not match its identity (planId ${p.planId}); it was edited: write a new plan\n`);
    expect(snapshot(root)).toEqual(byHand);
    // Edited with its identity made right again (as writing another plan over it would): the entry's result was
    // computed under the old identity, so collect names the entry and takes nothing.
    const edited = { ...p, settings: { ...p.settings, epochs: 9 } };
    const newId = planIdOf(edited);
    writeFileSync(plan, JSON.stringify({ ...edited, planId: newId }));
    const reidentified = snapshot(root);
    const r2 = await runMain(['collect', '--plan', plan]);
    expect(r2.code).toBe(1);
    const dir = join(out, 'entries', '00000-SYNTHETIC-FG-mlp-nall-seed1');
    expect(r2.stderr).toBe(
      `collect: none of the 1 runs of ${plan} could be collected:\n` +
        `  0  mlp on SYNTHETIC-FG, all labeled genes, seed 1: refused: ${join(dir, 'result.json')}: written by another plan (plan ${p.planId}, entry 0); this plan is ${newId} (${dir})\n`,
    );
    expect(snapshot(root)).toEqual(reidentified);
    // job refuses to run the entry of the edited plan in the old plan's folder, naming it; still nothing changed.
    const again = await runMain(['job', '--plan', plan, '--index', '0', '--quiet']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${join(dir, 'result.json')}: written by another plan (plan ${p.planId}, entry 0); this plan is ${newId}`);
    expect(snapshot(root)).toEqual(reidentified);
    // The plan put back as it was: collect takes the result.
    writeFileSync(plan, original);
    const back = await runMain(['collect', '--plan', plan]);
    expect(back.code, back.stderr).toBe(0);
  }, 180_000);
});
