import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { LOCK_FILE } from '../src/cli/session/runLock.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// Odd states of a run's folders, each named clearly (docs/RELIABILITY.md,
// "Odd files and odd values"): a refused --out is refused before anything is
// written into it, even a lock for a moment; --resume of a folder that a killed
// swap left in two names says where both are; a lock whose PID was reused says
// so; a cache that cannot be written is said on stderr and in metrics.json.

const tmp = (tag: string): string => mkdtempSync(join(tmpdir(), `sc-odd-runs-${tag}-`));

describe('odd run folders', () => {
  let data = '';
  const train = (out: string, ...extra: string[]) =>
    runMain(['train', '--cpu', '--model', 'logreg', '--data', data, '--epochs', '1', '--batch', '8', '--quiet', '--out', out, ...extra]);

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 24, seed: 5, bins: 6, cell: 'SYNTHETIC-OR' });
    data = join(root, 'SYNTHETIC-OR');
  });

  it('a refused --out (a user\'s folder, or /) is refused before a lock file is made in it, even for a moment', async () => {
    const mine = tmp('mine');
    writeFileSync(join(mine, 'notes.txt'), 'my notes\n');
    const kept = snapshot(mine);
    // A file made and removed again changes the folder's modification time; nothing made leaves it as it was.
    const mtime = statSync(mine).mtimeMs;
    const r = await train(mine);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${mine} is not empty and holds files that are not a simplechrome run's (notes.txt); nothing was changed`);
    expect(snapshot(mine)).toEqual(kept);
    expect(statSync(mine).mtimeMs).toBe(mtime);
    const rootMtime = statSync('/').mtimeMs;
    const slash = await train('/');
    expect(slash.code).toBe(2);
    expect(slash.stderr).toContain('--out / is not empty and holds files that are not a simplechrome run\'s');
    expect(existsSync(join('/', LOCK_FILE))).toBe(false);
    expect(statSync('/').mtimeMs).toBe(rootMtime);
  }, 120_000);

  it('--resume after a kill between the two renames of --overwrite\'s swap names the kept .old and .new folders and how to recover', async () => {
    const parent = tmp('swap');
    const out = join(parent, 'run');
    const first = await train(out);
    expect(first.code, first.stderr).toBe(0);
    // What a kill between `rename(out, .old)` and `rename(.new, out)` leaves: no `run`, the earlier run in .old, the new one in .new.
    const pid = 4242;
    const old = join(parent, `.run.old-${pid}`);
    const fresh = join(parent, `.run.new-${pid}`);
    spawnSync('mv', [out, old]);
    mkdirSync(fresh);
    writeFileSync(join(fresh, 'best.safetensors'), 'the replacing run');
    const kept = snapshot(parent);
    const r = await runMain(['train', '--cpu', '--resume', out, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `--resume ${out}: no such directory; a run (process ${pid}) that replaced ${out} stopped between the two renames of its swap: ` +
        `the earlier run is in ${old}, the replacing one (which had written its first checkpoint) in ${fresh}. Nothing was changed. ` +
        `Move the one to keep back: mv ${fresh} ${out} to continue the replacing run (then --resume ${out}), or mv ${old} ${out} to keep the earlier run`,
    );
    expect(snapshot(parent)).toEqual(kept);
    // A folder that never existed still reads as before.
    const none = await runMain(['train', '--cpu', '--resume', join(parent, 'nothing'), '--quiet']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`--resume ${join(parent, 'nothing')}: no such directory\n`);
  }, 120_000);

  it('a lock whose PID now belongs to another process (PID reuse) is taken over, saying so', async () => {
    const out = tmp('reused');
    // PID 1 runs, but it is not the process that wrote this lock: the start time recorded differs from its own.
    writeFileSync(join(out, LOCK_FILE), `${JSON.stringify({ pid: 1, host: hostname(), startTicks: '999999999999', started: '2026-01-01T00:00:00.000Z', command: 'run.ts' })}\n`);
    const r = await train(out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `note: ${out} was locked by process 1, which has ended: the process 1 running now is another program that reuses its number ` +
        '(its start time differs from the one the lock recorded on 2026-01-01T00:00:00.000Z); this run took the lock over',
    );
    expect(r.stderr).not.toContain('no longer running');
  }, 120_000);

  it('a cache that cannot be written is said on stderr and recorded in metrics.json; the run goes on', async () => {
    const root = tmp('nocache');
    await writeSynthetic(root, { genes: 24, seed: 5, bins: 6, cell: 'SYNTHETIC-NC' });
    // A file where the cache folder should be: the cache cannot be made there (as a full or read-only disk).
    writeFileSync(join(root, 'SYNTHETIC-NC', 'classification', '.simplechrome-cache'), 'not a folder\n');
    const kept = snapshot(root);
    const out = join(tmp('nocache-run'), 'run');
    const r = await runMain(['train', '--cpu', '--model', 'logreg', '--data', join(root, 'SYNTHETIC-NC'), '--epochs', '1', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/data: the cache could not be written \(.+\); the data is read from its sources each time until it can be/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { data: { cache: string } };
    expect(metrics.data.cache).toMatch(/^unwritable: ./);
    expect(snapshot(root)).toEqual(kept);
  }, 120_000);
});
