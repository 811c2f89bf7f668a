import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import type { Progress } from '../src/train/runModel.ts';
import { LOCK_FILE } from '../src/cli/session/runLock.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// What --out means: a new run never deletes or overwrites an earlier run's
// files unless told to (--overwrite), a replacing run swaps its directory in
// only after its first checkpoint, and a lock refuses a second run into the
// same directory while the first is alive. Each case checks the message and
// that the earlier run's files are byte-identical afterwards.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-out-${tag}-`));

describe('--out never loses an earlier run', () => {
  let data: string;
  let earlier: string;
  let before: Record<string, string>;
  const train = (out: string, ...extra: string[]) =>
    runMain(['--cpu', '--model', 'mlp', '--data', data, '--epochs', '2', '--batch', '8', '--quiet', '--out', out, ...extra]);

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 24, seed: 5, bins: 6, cell: 'SYNTHETIC-O' });
    data = join(root, 'SYNTHETIC-O');
    earlier = join(tmp('runs'), 'vae');
    // A vae-mlp run leaves vae.safetensors, vae-loss.svg and latent.svg, which an mlp run does not write.
    const r = await runMain(['--cpu', '--model', 'vae-mlp', '--data', data, '--epochs', '1', '--vae-epochs', '1', '--latent', '2', '--batch', '8', '--quiet', '--out', earlier]);
    expect(r.code, r.stderr).toBe(0);
    before = snapshot(earlier);
    expect(Object.keys(before)).toContain('latent.svg');
  });

  it('a new run into a directory that holds a run is refused, naming --resume and --overwrite', async () => {
    const r = await train(earlier);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `simplechrome: --out ${earlier} already holds a run (best.safetensors, last.safetensors, latent.svg, loss.svg, metrics.json, pr.svg and 5 more); nothing was changed. ` +
        `Continue it with --resume ${earlier}, replace it with --overwrite, or choose another --out`,
    );
    expect(snapshot(earlier)).toEqual(before);
  });

  it('running the same command twice (the default --out) refuses the second run', () => {
    const cwd = tmp('cwd');
    const argv = ['run.ts', '--cpu', '--model', 'mlp', '--data', data, '--epochs', '1', '--batch', '8', '--quiet'];
    const first = spawnSync(TSX, argv.map((a) => (a === 'run.ts' ? join(REPO, 'run.ts') : a)), { cwd, encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    const out = join(cwd, 'runs', 'SYNTHETIC-O-mlp-nall-seed1');
    const kept = snapshot(out);
    expect(Object.keys(kept)).toContain('best.safetensors');
    const second = spawnSync(TSX, argv.map((a) => (a === 'run.ts' ? join(REPO, 'run.ts') : a)), { cwd, encoding: 'utf8' });
    expect(second.status).toBe(2);
    expect(second.stderr).toContain('--out runs/SYNTHETIC-O-mlp-nall-seed1 already holds a run');
    expect(second.stderr).toContain('Continue it with --resume runs/SYNTHETIC-O-mlp-nall-seed1, replace it with --overwrite');
    expect(second.stdout).not.toContain('wrote');
    expect(snapshot(out)).toEqual(kept);
  });

  it('--overwrite that fails before its first checkpoint leaves the earlier run as it was', async () => {
    const r = await train(earlier, '--overwrite', '--lr', '1e30');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('training diverged');
    expect(r.stderr).toContain(`no checkpoint was written: the run stopped before its first epoch finished; the earlier run in ${earlier} is unchanged`);
    expect(snapshot(earlier)).toEqual(before);
    // No staging directory is left beside it.
    expect(readdirSync(dirname(earlier))).toEqual(['vae']);
  });

  it('--overwrite that succeeds replaces the whole directory: no plot of the earlier run stays', async () => {
    const copy = join(tmp('copy'), 'run');
    mkdirSync(copy);
    for (const f of Object.keys(before)) writeFileSync(join(copy, f), readFileSync(join(earlier, f)));
    const r = await train(copy, '--overwrite');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: ${copy} holds an earlier run; this run replaces it once it has written its first checkpoint`);
    expect(readdirSync(copy).sort()).toEqual(['best.safetensors', 'last.safetensors', 'loss.svg', 'metrics.json', 'pr.svg', 'predictions.csv', 'progress.jsonl', 'roc.svg']);
    expect((JSON.parse(readFileSync(join(copy, 'metrics.json'), 'utf8')) as { model: string }).model).toBe('mlp');
    expect(readdirSync(dirname(copy))).toEqual(['run']);
  });

  it('a directory with files that are not a run’s is refused, even with --overwrite', async () => {
    const mine = tmp('mine');
    writeFileSync(join(mine, 'notes.txt'), 'my notes\n');
    writeFileSync(join(mine, 'metrics.json'), '{}\n');
    const kept = snapshot(mine);
    for (const extra of [[], ['--overwrite']]) {
      const r = await train(mine, ...extra);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--out ${mine} is not empty and holds files that are not a simplechrome run's (notes.txt); nothing was changed`);
      expect(snapshot(mine)).toEqual(kept);
    }
    const file = join(mine, 'notes.txt');
    const r = await train(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${file} is a file, not a directory`);
    expect(snapshot(mine)).toEqual(kept);
  });

  it('a run that fails after loading its data removes the --out it created', async () => {
    const out = join(tmp('fresh'), 'new');
    const r = await train(out, '--lr', '1e30');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no checkpoint was written: the run stopped before its first epoch finished; ${out} was removed`);
    expect(existsSync(out)).toBe(false);
    const tooMany = await train(out, '--train-size', '500');
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('--train-size 500: SYNTHETIC-O has only 24 training genes; give 24 or fewer, or --train-size all');
    expect(existsSync(out)).toBe(false);
  });

  it('the experiment follows the same rules: refused into a directory that holds results, replaced with --overwrite', async () => {
    const out = join(tmp('exp'), 'small');
    const experiment = (...extra: string[]) =>
      runMain(['--cpu', '--experiment', 'small-data', '--models', 'mlp', '--sizes', 'all', '--seeds', '1', '--epochs', '1', '--quiet', '--data', data, '--out', out, ...extra]);
    expect((await experiment()).code).toBe(0);
    const kept = snapshot(out);
    expect(Object.keys(kept).sort()).toEqual(['auroc-vs-labeled.svg', 'experiment.json', 'paired.csv', 'small-data.csv', 'small-data.md']);
    const again = await experiment();
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`--out ${out} already holds a run (auroc-vs-labeled.svg, experiment.json, paired.csv, small-data.csv, small-data.md); nothing was changed`);
    expect(snapshot(out)).toEqual(kept);
    const diverged = await experiment('--overwrite', '--lr', '1e30');
    expect(diverged.code).toBe(1);
    expect(snapshot(out)).toEqual(kept);
    expect(readdirSync(dirname(out))).toEqual(['small']);
    const replaced = await experiment('--overwrite', '--batch', '16');
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(readFileSync(join(out, 'small-data.md'), 'utf8')).toContain('batch 16');
  });

  it('a second run into the same directory while the first runs is refused, naming the process', async () => {
    const out = tmp('busy');
    const first = trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', data, '--epochs', '2', '--batch', '8', '--out', out]), { progress: quiet });
    const r = await train(out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`--out ${out} is in use by another run: process ${process.pid} \\(started [0-9T:.Z-]+: .*\\); wait for it to finish or stop it, or choose another --out`));
    const done = await first;
    expect(done.files).toContain('best.safetensors');
    expect(existsSync(join(out, 'metrics.json'))).toBe(true);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });

  it('a lock left by a process that died is taken over, with a note', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    const out = tmp('stale');
    writeFileSync(join(out, LOCK_FILE), `${JSON.stringify({ pid, host: (await import('node:os')).hostname(), started: '2026-01-01T00:00:00.000Z', command: 'run.ts' })}\n`);
    const r = await train(out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: ${out} was locked by process ${pid}, which is no longer running; this run took the lock over`);
    expect(readdirSync(out)).not.toContain(LOCK_FILE);
  });

  it('what a replacing run that died left beside --out is removed when it kept nothing, and named when it holds a run', async () => {
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const parent = tmp('leftover');
    const out = join(parent, 'run');
    // Each holds the lock its run copied in, naming a process of this host that has stopped.
    const deadLock = `${JSON.stringify({ pid: dead, host: (await import('node:os')).hostname(), started: '2026-01-01T00:00:00.000Z', command: 'run.ts --overwrite' })}\n`;
    mkdirSync(join(parent, `.run.new-${dead}`));
    writeFileSync(join(parent, `.run.new-${dead}`, 'best.safetensors'), 'partial');
    writeFileSync(join(parent, `.run.new-${dead}`, LOCK_FILE), deadLock);
    const r = await train(out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: removed ${join(parent, `.run.new-${dead}`)}, left by a replacing run (process ${dead}) that stopped before it replaced ${out}; the run there was left as it was`);
    expect(readdirSync(parent)).toEqual(['run']);
    // Died between the two renames of the swap: the earlier run and the replacing one both stay, named, and a new
    // run is refused: it would take the name one of them must be moved back to.
    const other = join(parent, 'other');
    mkdirSync(join(parent, `.other.old-${dead}`));
    mkdirSync(join(parent, `.other.new-${dead}`));
    writeFileSync(join(parent, `.other.old-${dead}`, 'metrics.json'), '{}\n');
    writeFileSync(join(parent, `.other.old-${dead}`, LOCK_FILE), deadLock);
    writeFileSync(join(parent, `.other.new-${dead}`, LOCK_FILE), deadLock);
    const kept = snapshot(join(parent, `.other.old-${dead}`));
    const r2 = await train(other);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(
      `--out ${other} is not there, but the runs that were there are kept beside it; a run (process ${dead}) that replaced ${other} stopped between ` +
        `the two renames of its swap: the earlier run is in ${join(parent, `.other.old-${dead}`)}, the replacing one (which had written its first checkpoint) in ` +
        `${join(parent, `.other.new-${dead}`)}. Nothing was changed.`,
    );
    expect(existsSync(other)).toBe(false);
    expect(snapshot(join(parent, `.other.old-${dead}`))).toEqual(kept);
  });

  it('a replacing run in progress on another machine (shared filesystem), or in a live process here, is never removed', async () => {
    const { hostname } = await import('node:os');
    const parent = tmp('shared');
    const lockOf = (pid: number, host: string) => `${JSON.stringify({ pid, host, started: '2026-01-01T00:00:00.000Z', command: 'run.ts --overwrite' })}\n`;
    // Another node's --overwrite of xh, staged beside it: its pid means nothing on this host.
    const out = join(parent, 'xh');
    mkdirSync(out);
    for (const f of Object.keys(before)) writeFileSync(join(out, f), readFileSync(join(earlier, f)));
    const staged = join(parent, `.xh.new-${process.pid + 100000}`);
    mkdirSync(staged);
    writeFileSync(join(staged, 'last.safetensors'), 'their checkpoint');
    writeFileSync(join(staged, LOCK_FILE), lockOf(process.pid + 100000, 'another-node'));
    const kept = snapshot(parent);
    const refused = await train(out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--out ${out} already holds a run`);
    expect(refused.stderr).not.toContain('removed');
    expect(snapshot(parent)).toEqual(kept);
    // A run that goes ahead leaves it too, and says how to clear it when it is known to be dead.
    const fresh = join(parent, 'yh');
    const theirs = join(parent, `.yh.new-${process.pid + 100000}`);
    mkdirSync(theirs);
    writeFileSync(join(theirs, LOCK_FILE), lockOf(process.pid + 100000, 'another-node'));
    // And a live process of this host (this test's parent) staging a third.
    const live = join(parent, `.yh.new-${process.ppid}`);
    mkdirSync(live);
    writeFileSync(join(live, LOCK_FILE), lockOf(process.ppid, hostname()));
    const others = { ...snapshot(theirs), live: snapshot(live) };
    const r = await train(fresh);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `note: ${theirs} belongs to a run of process ${process.pid + 100000} on host another-node (it replaces ${fresh}); it is left as it is. ` +
        `If no run is going on there, delete ${theirs} yourself`,
    );
    expect({ ...snapshot(theirs), live: snapshot(live) }).toEqual(others);
  });

  it('two run.ts processes started together into one directory: one trains, the other is refused', async () => {
    const out = tmp('race');
    const start = () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(TSX, ['run.ts', '--cpu', '--model', 'mlp', '--data', data, '--epochs', '2', '--batch', '8', '--quiet', '--out', out], { cwd: REPO });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const results = await Promise.all([start(), start()]);
    const codes = results.map((r) => r.code).sort();
    expect(codes, results.map((r) => r.stderr).join('\n')).toEqual([0, codes[1]]);
    expect(codes[1]).not.toBe(0);
    const refused = results.find((r) => r.code !== 0);
    expect(refused?.stderr).toMatch(/is in use by another run: process \d+|already holds a run/);
    expect(refused?.stdout).not.toContain('wrote');
  });
});
