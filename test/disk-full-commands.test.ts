import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { fillDisk, mountTmpfs, runMain, snapshot, startPausing } from './cliHelpers.ts';

// Fault injection: a run's folder, and a plan's root, on a small tmpfs that
// fills up while `train`, `job` and `collect` write (each held at the exact
// moment by the test-pause hook, src/util/testPause.ts, while the test fills
// the disk). Each command exits 1 naming the file and "no space", leaves the
// other runs, entries and the earlier tables as they were, and leaves no
// half-written file that a later --resume, collect or job would trust; once
// there is room the run or entry continues and collect completes.
// (test/disk-full.test.ts fills the disk under a run in-process, at each
// step of its checkpoints, and checks that the resumed run is bit-identical.)
// Mounting needs root (CI runs as root); where it is impossible the test fails
// saying why (mountTmpfs): it never skips.

const work = mkdtempSync(join(tmpdir(), 'sc-full-grid-'));
let tmpfs: ReturnType<typeof mountTmpfs> | undefined;
let mnt = '';
let data = '';
let plan = '';
let out = '';
const dirOf = (i: number): string => join(out, 'entries', `0000${i}-SYNTHETIC-FULL-mlp-nall-seed${i + 1}`);
/** Every file under the plan's root and the data, less entry `i`'s folder: what a job of entry `i` must leave alone. */
const outside = (i: number): Record<string, string> =>
  Object.fromEntries([...Object.entries(snapshot(out)), ...Object.entries(snapshot(data)).map(([k, v]) => [`data/${k}`, v])].filter(([k]) => !k.startsWith(`entries/${dirOf(i).split('/').pop()}/`)));
/** Files a writer left behind under a temporary name. */
const debris = (dir: string): string[] => Object.keys(snapshot(dir)).filter((f) => f.includes('.tmp-'));

beforeAll(async () => {
  tmpfs = mountTmpfs('4m');
  mnt = tmpfs.dir;
  await writeSynthetic(work, { genes: 40, seed: 51, bins: 6, cell: 'SYNTHETIC-FULL' });
  data = join(work, 'SYNTHETIC-FULL');
  plan = join(work, 'plan.json');
  out = join(mnt, 'grid');
  const made = await runMain(['--cpu', '--experiment', 'small-data', '--data', data, '--models', 'mlp', '--sizes', 'all', '--seeds', '2', '--epochs', '2', '--batch', '16', '--quiet', '--out', out, '--plan', plan]);
  expect(made.code, made.stderr).toBe(0);
  // Entry 1 finished earlier: its result must survive everything below.
  const earlier = await runMain(['job', '--plan', plan, '--index', '1', '--quiet']);
  expect(earlier.code, earlier.stderr).toBe(0);
});
afterAll(() => {
  tmpfs?.unmount();
  rmSync(work, { recursive: true, force: true });
});

/** Runs `argv` held at `point`, fills the disk (leaving `leave` bytes) there, lets it go on; frees the disk after. */
async function withDiskFilledAt(argv: string[], point: string, leave: number): Promise<{ code: number | null; stderr: string }> {
  const p = startPausing(argv, [point]);
  await p.pausedAt(point);
  const filler = fillDisk(mnt, leave);
  try {
    p.proceed();
    return await p.exited;
  } finally {
    unlinkSync(filler);
  }
}

describe('a full disk under train, job and collect', () => {
  it('train: the disk fills after the first checkpoint; it exits 1 naming the file and no space, and --resume finishes the run once there is room', async () => {
    const run = join(mnt, 'run');
    const kept = snapshot(work);
    const entries = snapshot(out);
    const r = await withDiskFilledAt(['train', '--cpu', '--model', 'mlp', '--data', data, '--epochs', '3', '--batch', '16', '--quiet', '--out', run], 'checkpoint-saved', 0);
    expect(r.code).toBe(1);
    // The first write after the checkpoint is epoch 1's line of progress.jsonl (appended right after it).
    expect(r.stderr).toContain(
      `simplechrome: ${join(run, 'progress.jsonl')}: could not be written: no space left on the device (ENOSPC)\n` +
        `the last good checkpoint is ${join(run, 'last.safetensors')} (classifier epoch 1); once the disk has room, continue with: npx tsx run.ts --resume ${run}\n`,
    );
    expect(debris(run)).toEqual([]);
    expect(readdirSync(run).sort()).toEqual(['best.safetensors', 'last.safetensors', 'progress.jsonl']);
    expect(snapshot(work)).toEqual(kept);
    expect(snapshot(out)).toEqual(entries);
    const resumed = await runMain(['train', '--resume', run, '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(existsSync(join(run, 'metrics.json'))).toBe(true);
    expect(readFileSync(join(run, 'progress.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1, 2, 3]);
    rmSync(run, { recursive: true });
  }, 240_000);

  it('job: the disk fills before the first checkpoint, then before result.json; each says which file and no space, and the entry continues once there is room', async () => {
    const dir = dirOf(0);
    const kept = outside(0);
    const first = await withDiskFilledAt(['job', '--plan', plan, '--index', '0', '--quiet'], 'job-locked', 64 * 1024);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(
      `simplechrome: ${dir}/best.safetensors: could not be written: no space left on the device (ENOSPC)\n` +
        'job: entry 0 (mlp on SYNTHETIC-FULL, all labeled genes, seed 1) stopped; run it again once there is room: it starts again (no checkpoint was kept)\n',
    );
    expect(debris(out)).toEqual([]);
    expect(existsSync(join(dir, 'result.json'))).toBe(false);
    expect(outside(0)).toEqual(kept);

    const second = await withDiskFilledAt(['job', '--plan', plan, '--index', '0', '--quiet'], 'job-before-result', 0);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `simplechrome: ${join(dir, 'result.json')}: could not be written: no space left on the device (ENOSPC)\n` +
        `job: entry 0 (mlp on SYNTHETIC-FULL, all labeled genes, seed 1) stopped; run it again once there is room: it continues from ${join(dir, 'last.safetensors')}\n`,
    );
    expect(debris(out)).toEqual([]);
    expect(existsSync(join(dir, 'result.json'))).toBe(false);
    expect(outside(0)).toEqual(kept);

    // Nothing half-written is trusted: collect takes entry 1 and names entry 0 as not taken.
    const c = await runMain(['collect', '--plan', plan]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/collect: 1 of 2 runs finished; the tables leave out what these entries would add:\n {2}0 {2}mlp on SYNTHETIC-FULL, all labeled genes, seed 1: (failed: .*no space left on the device|not finished)/);
    expect(readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n')).toHaveLength(2);

    const again = await runMain(['job', '--plan', plan, '--index', '0', '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`job: continuing from ${join(dir, 'last.safetensors')}`);
  }, 240_000);

  it('collect: the disk fills while it writes the tables; it says which file and no space, and the next collect replaces its own tables', async () => {
    const before = snapshot(out);
    const tables = (): string[] => readdirSync(out).filter((f) => !['entries', '.simplechrome.lock'].includes(f)).sort();
    const r = await withDiskFilledAt(['collect', '--plan', plan], 'collect-locked', 8 * 1024);
    expect(r.code).toBe(1);
    const failed = /simplechrome: (\S+): could not be written: no space left on the device \(ENOSPC\)\n/.exec(r.stderr)?.[1] ?? '';
    expect(r.stderr.slice(r.stderr.indexOf('simplechrome: '))).toBe(
      `simplechrome: ${failed}: could not be written: no space left on the device (ENOSPC)\n` +
        `collect stopped there: each of its files in ${out} is whole, as the last collect or this one wrote it; collect again once it can be written\n`,
    );
    expect(debris(out)).toEqual([]);
    // It stopped midway: the table it wrote first is this collect's, the one it could not write is the last collect's.
    const after = snapshot(out);
    expect(after['small-data.csv']).not.toBe(before['small-data.csv']);
    expect(after[failed.slice(out.length + 1)]).toBe(before[failed.slice(out.length + 1)]);
    // The entries are as they were; each table is the earlier collect's or this one's, whole.
    const entries = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('entries/')));
    expect(entries(snapshot(out))).toEqual(entries(before));
    expect(tables()).toEqual(Object.keys(before).filter((f) => !f.startsWith('entries/') && f !== '.simplechrome.lock').sort());
    const c = await runMain(['collect', '--plan', plan]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`collect: all 2 runs of ${plan} finished`);
    expect(readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
  }, 240_000);
});
