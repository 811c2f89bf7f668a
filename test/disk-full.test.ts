import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import type { Progress } from '../src/train/runModel.ts';
import { TrainingStoppedError, trainToDirectory } from '../src/cli/run/trainRun.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { fillDisk, mountTmpfs, snapshot } from './cliHelpers.ts';

// Fault injection: a small tmpfs fills up while a run writes its checkpoints.
// The last good checkpoint survives, no temporary file keeps the space used,
// the message names the file and says the disk is full, and once there is
// room again the run resumes and ends exactly as a run that never stopped.
// Mounting needs root (CI runs as root); where it is impossible the test
// fails saying why (mountTmpfs in cliHelpers.ts): it never skips.

const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };

/** A progress printer that fills the disk of `dir` right after classifier epoch `epoch` (its checkpoint is on disk then). */
function fillingAfter(dir: string, epoch: number): { progress: Progress; filler: () => string | undefined } {
  let filler: string | undefined;
  return {
    progress: {
      epoch: (_m, r) => {
        if (r.epoch === epoch) filler = fillDisk(dir);
      },
      vaeEpoch: () => {},
    },
    filler: () => filler,
  };
}

const free = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

describe('a full disk during checkpointing (on a tmpfs)', () => {
  let tmpfs: ReturnType<typeof mountTmpfs> | undefined;
  let mnt: string;
  let data: string;
  let reference: string;
  const argv = (out: string, ...extra: string[]) => ['--cpu', '--model', 'mlp', '--data', data, '--epochs', '4', '--batch', '8', '--quiet', '--out', out, ...extra];

  beforeAll(async () => {
    tmpfs = mountTmpfs('3m');
    mnt = tmpfs.dir;
    const root = mkdtempSync(join(tmpdir(), 'sc-full-data-'));
    await writeSynthetic(root, { genes: 24, seed: 8, bins: 6, cell: 'SYNTHETIC-D' });
    data = join(root, 'SYNTHETIC-D');
    reference = mkdtempSync(join(tmpdir(), 'sc-full-ref-'));
    await trainToDirectory(parseArgs(argv(reference)), { progress: quiet });
  });

  afterAll(() => tmpfs?.unmount());

  it('the disk fills after epoch 2: epoch 2’s checkpoint survives, no debris, and the run resumes bit for bit', async () => {
    const out = join(mnt, 'run');
    const filling = fillingAfter(mnt, 2);
    const run = trainToDirectory(parseArgs(argv(out)), { progress: filling.progress });
    await expect(run).rejects.toBeInstanceOf(TrainingStoppedError);
    await expect(run).rejects.toThrow(
      new RegExp(
        `^${join(out, '(best|last)')}\\.safetensors: could not be written: no space left on the device \\(ENOSPC\\)\\n` +
          `the last good checkpoint is ${join(out, 'last.safetensors')} \\(classifier epoch 2\\); once the disk has room, continue with: npx tsx run.ts --resume ${out}$`,
      ),
    );
    expect(readdirSync(out).sort()).toEqual(['best.safetensors', 'last.safetensors', 'progress.jsonl']);
    const kept = await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last');
    expect(kept.state.epoch).toBe(2);
    // Space is back: the resumed run ends where the uninterrupted one did.
    unlinkSync(filling.filler() as string);
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(resumed.run.result.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    for (const f of ['best.safetensors', 'last.safetensors']) {
      const [a, b] = [await readSafetensors(join(reference, f)), await readSafetensors(join(out, f))];
      for (const [name, t] of a.tensors) expect(Buffer.from((b.tensors.get(name)?.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), `${f} ${name}`).toBe(true);
    }
    rmSync(out, { recursive: true });
  });

  it('the disk fills after the last epoch: the trained model is kept and --resume writes the outputs once there is room', async () => {
    const out = join(mnt, 'outputs');
    const filling = fillingAfter(mnt, 4);
    try {
      const run = trainToDirectory(parseArgs(argv(out)), { progress: filling.progress });
      await expect(run).rejects.toThrow(
        new RegExp(`: could not be written: no space left on the device \\(ENOSPC\\)\\nthe trained model is kept in ${out}; write its outputs again with: npx tsx run.ts --resume ${out}$`),
      );
      expect(readdirSync(out).filter((f) => f.includes('.tmp-') || f.startsWith('.simplechrome.lock'))).toEqual([]);
      expect((await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last')).state.epoch).toBe(4);
    } finally {
      const filler = filling.filler();
      if (filler !== undefined) unlinkSync(filler);
    }
    const again = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(again.files).toContain('metrics.json');
    expect(existsSync(join(out, 'metrics.json'))).toBe(true);
    rmSync(out, { recursive: true });
  });

  it('a full disk at the first checkpoint: nothing kept, the space is freed, and the message says so', async () => {
    const out = join(mnt, 'first');
    // Room for the directory and its lock, not for a checkpoint (best.safetensors of this MLP is ~170 kB).
    const filler = fillDisk(mnt, 64 * 1024);
    try {
      const before = free(mnt);
      const run = trainToDirectory(parseArgs(argv(out)), { progress: quiet });
      await expect(run).rejects.toThrow(
        new RegExp(`could not be written: no space left on the device \\(ENOSPC\\)\\nno checkpoint was kept: the first one could not be written; ${out} was removed$`),
      );
      expect(existsSync(out)).toBe(false);
      expect(free(mnt)).toBe(before);
      // With no room even for the lock, the run is refused before it starts, and leaves nothing.
      const full = fillDisk(mnt, 0);
      const refused = trainToDirectory(parseArgs(argv(out)), { progress: quiet });
      await expect(refused).rejects.toThrow(`--out ${out}: cannot create the lock file ${join(out, '.simplechrome.lock')}: no space left on the device (ENOSPC)`);
      expect(readdirSync(mnt)).toEqual([full.replace(`${mnt}/`, '')]);
    } finally {
      rmSync(filler, { force: true });
    }
  });

  it('--overwrite on a full disk leaves the earlier run byte-identical', async () => {
    const out = join(mnt, 'earlier');
    mkdirSync(out);
    await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', data, '--epochs', '1', '--batch', '8', '--quiet', '--out', out]), { progress: quiet });
    const earlier = snapshot(out);
    const filler = fillDisk(mnt, 64 * 1024);
    try {
      const run = trainToDirectory(parseArgs(argv(out, '--overwrite')), { progress: quiet });
      await expect(run).rejects.toThrow(new RegExp(`no space left on the device \\(ENOSPC\\)\\nno checkpoint was kept: the first one could not be written; the earlier run in ${out} is unchanged$`));
      expect(snapshot(out)).toEqual(earlier);
      expect(readdirSync(mnt).sort()).toEqual(['earlier', 'filler.bin']);
    } finally {
      unlinkSync(filler);
    }
  });
});
