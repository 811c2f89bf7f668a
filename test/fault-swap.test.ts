import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { LOCK_FILE } from '../src/cli/session/runLock.ts';
import { runMain, snapshot, startPausing } from './cliHelpers.ts';

// Fault injection: SIGKILL at each step of --overwrite's swap
// (src/cli/session/runDirectory.ts), reached through the test-pause hook
// (src/util/testPause.ts), never by timing. After each kill one of the two
// runs is whole and readable under a name the user is told, the next command
// says what it found, and nothing outside the run's own folders changed.

const root = mkdtempSync(join(tmpdir(), 'sc-fault-swap-'));
let data = '';
let earlier = '';
const args = (out: string, epochs: number, ...extra: string[]): string[] =>
  ['train', '--cpu', '--model', 'mlp', '--data', data, '--epochs', String(epochs), '--batch', '8', '--quiet', '--out', out, ...extra];

beforeAll(async () => {
  await writeSynthetic(root, { genes: 24, seed: 12, bins: 6, cell: 'SYNTHETIC-SW' });
  data = join(root, 'SYNTHETIC-SW');
  earlier = join(root, 'earlier');
  const r = await runMain(args(earlier, 1));
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder holding a copy of the earlier run at `run`, and a user's notes beside it; the --overwrite run killed at `point`. */
async function killedAt(point: string): Promise<{ parent: string; out: string; pid: number; others: () => Record<string, string> }> {
  const parent = join(root, point);
  const out = join(parent, 'run');
  mkdirSync(parent);
  cpSync(earlier, out, { recursive: true });
  writeFileSync(join(parent, 'notes.txt'), 'my notes\n');
  // Everything outside the run's own folders (OUT, .OUT.new-PID, .OUT.old-PID): the user's notes and the data.
  const others = (): Record<string, string> => ({ ...snapshot(join(root, 'SYNTHETIC-SW')), notes: snapshot(parent)['notes.txt'] ?? 'gone' });
  const before = others();
  const p = startPausing(args(out, 2, '--overwrite'), [point]);
  await p.pausedAt(point);
  await p.kill();
  expect(others()).toEqual(before);
  return { parent, out, pid: p.pid, others };
}

/** A run's files, without the lock that the killed process left in it (the next command takes that over, saying so). */
const runFiles = (dir: string): Record<string, string> => {
  const { [LOCK_FILE]: _lock, ...files } = snapshot(dir);
  return files;
};
const epochOf = async (dir: string): Promise<number> => (await readClassifierCheckpoint(join(dir, 'last.safetensors'), 'last')).state.epoch;

describe('SIGKILL at each step of the --overwrite swap', () => {
  it.each([
    ['swap-staged', 'with the staging folder made, before any checkpoint', [LOCK_FILE]],
    ['swap-before-renames', 'with the first checkpoint staged, before the renames', [LOCK_FILE, 'best.safetensors', 'last.safetensors']],
  ])('%s (%s): the earlier run is as it was; a rerun removes the staged run, saying so, and replaces it', async (point, _when, staged) => {
    const { parent, out, pid, others } = await killedAt(point);
    expect(runFiles(out)).toEqual(snapshot(earlier));
    expect(readdirSync(join(parent, `.run.new-${pid}`)).sort()).toEqual(staged);
    const kept = others();
    const again = await runMain(args(out, 2, '--overwrite'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`note: ${out} was locked by process ${pid}, which is no longer running; this run took the lock over`);
    expect(again.stderr).toContain(`note: removed ${join(parent, `.run.new-${pid}`)}, left by a replacing run (process ${pid}) that stopped before it replaced ${out}; the run there was left as it was`);
    expect(readdirSync(parent).sort()).toEqual(['notes.txt', 'run']);
    expect(await epochOf(out)).toBe(2);
    expect(others()).toEqual(kept);
  }, 120_000);

  it('between the two renames: both runs are kept and named; --resume and a rerun are refused saying how to restore either', async () => {
    const { parent, out, pid, others } = await killedAt('swap-between-renames');
    const old = join(parent, `.run.old-${pid}`);
    const fresh = join(parent, `.run.new-${pid}`);
    expect(existsSync(out)).toBe(false);
    expect(runFiles(old)).toEqual(snapshot(earlier));
    expect(await epochOf(fresh)).toBe(1);
    const kept = snapshot(parent);
    const found =
      `a run (process ${pid}) that replaced ${out} stopped between the two renames of its swap: the earlier run is in ${old}, ` +
      `the replacing one (which had written its first checkpoint) in ${fresh}. Nothing was changed. ` +
      `Move the one to keep back: mv ${fresh} ${out} to continue the replacing run (then --resume ${out}), or mv ${old} ${out} to keep the earlier run`;
    const resumed = await runMain(['train', '--cpu', '--resume', out, '--quiet']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toBe(`simplechrome: --resume ${out}: no such directory; ${found}\n`);
    const rerun = await runMain(args(out, 2, '--overwrite'));
    expect(rerun.code).toBe(2);
    expect(rerun.stderr).toBe(`simplechrome: --out ${out} is not there, but the runs that were there are kept beside it; ${found}\n`);
    expect(snapshot(parent)).toEqual(kept);
    // Following the advice: the replacing run continues to its end; the earlier one is still named.
    renameSync(fresh, out);
    const continued = await runMain(['train', '--cpu', '--resume', out, '--quiet']);
    expect(continued.code, continued.stderr).toBe(0);
    expect(continued.stderr).toContain(`note: ${out} was locked by process ${pid}, which is no longer running; this run took the lock over`);
    expect(continued.stderr).toContain(`note: process ${pid} stopped after it had replaced the run in ${out} with its own, before it removed the earlier run: that is in ${old}, left as it is`);
    expect(await epochOf(out)).toBe(2);
    expect(runFiles(old)).toEqual(snapshot(earlier));
    expect(others()['notes']).toBe(kept['notes.txt']);
  }, 120_000);

  it('after the renames, before the earlier run is removed: --resume continues the new run and names the earlier one, left as it was', async () => {
    const { parent, out, pid, others } = await killedAt('swap-before-removing-old');
    const old = join(parent, `.run.old-${pid}`);
    expect(runFiles(old)).toEqual(snapshot(earlier));
    expect(await epochOf(out)).toBe(1);
    const kept = others();
    const r = await runMain(['train', '--cpu', '--resume', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: ${out} was locked by process ${pid}, which is no longer running; this run took the lock over`);
    expect(r.stderr).toContain(
      `note: process ${pid} stopped after it had replaced the run in ${out} with its own, before it removed the earlier run: that is in ${old}, left as it is; delete it if you do not need it`,
    );
    expect(await epochOf(out)).toBe(2);
    expect(existsSync(join(out, 'metrics.json'))).toBe(true);
    expect(runFiles(old)).toEqual(snapshot(earlier));
    expect(readdirSync(parent).sort()).toEqual([`.run.old-${pid}`, 'notes.txt', 'run']);
    expect(others()).toEqual(kept);
  }, 120_000);
});
