import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { removeFinishedRunFolders, runFolder, runInProgress } from '../src/cli/experiment/experimentRunCheckpoints.ts';
import { loadData, settingsOf } from '../src/cli/session/session.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { runMain, snapshot, startPausing, syntheticCellFolder } from './cliHelpers.ts';

// The run an experiment is training keeps a checkpoint after every epoch in
// running/, so a kill mid-run loses at most an epoch: the resumed experiment
// continues that run from its checkpoint (not from epoch 1) and ends with the
// rows an uninterrupted experiment writes (on the CPU, bit for bit but the
// seconds), and running/ is gone once the row is written.

const { root, data } = syntheticCellFolder('sc-exp-runckpt-', { genes: 60, seed: 21, bins: 6, cell: 'SYNTHETIC-RC' });
const args = (out: string, ...extra: string[]): string[] => [
  '--cpu', '--experiment', 'small-data', '--data', data, '--models', 'mlp,logreg', '--sizes', 'all', '--seeds', '1',
  '--epochs', '4', '--batch', '8', '--quiet', '--out', out, ...extra,
];
const withoutSeconds = (csv: string): string[] => csv.trim().split('\n').map((l) => l.replace(/,[\d.]+$/, ''));
const FOLDER = join('running', 'SYNTHETIC-RC-mlp-all-seed1');

describe('an experiment killed mid-run', () => {
  it('continues the run from its last checkpoint and ends as an uninterrupted experiment does', async () => {
    const reference = join(root, 'reference');
    const full = await runMain(args(reference));
    expect(full.code, full.stderr).toBe(0);
    expect(existsSync(join(reference, 'running'))).toBe(false);

    const out = join(root, 'killed');
    const p = startPausing(args(out), ['checkpoint-saved']);
    // The first pause is the first epoch's checkpoint; let it go on to the second.
    await p.pausedAt('checkpoint-saved');
    p.proceed();
    await p.pausedAt('checkpoint-saved');
    await p.kill();
    const last = await readClassifierCheckpoint(join(out, FOLDER, 'last.safetensors'), 'last');
    expect(last.state.epoch).toBe(2);
    expect(readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n')).toHaveLength(1);

    const resumed = await runMain(['--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    // Epochs 3 and 4 are trained now; 1 and 2 are not trained again.
    expect(resumed.stderr.match(/mlp epoch +\d+\/4/g)).toEqual(['mlp epoch   3/4', 'mlp epoch   4/4']);
    expect(resumed.stderr).toContain(`experiment: SYNTHETIC-RC, mlp, all, seed 1: continuing from ${join(out, FOLDER, 'last.safetensors')} (epoch 2 of 4, best epoch ${last.state.bestEpoch})`);
    expect(withoutSeconds(readFileSync(join(out, 'small-data.csv'), 'utf8'))).toEqual(withoutSeconds(readFileSync(join(reference, 'small-data.csv'), 'utf8')));
    expect(readFileSync(join(out, 'paired.csv'), 'utf8')).toBe(readFileSync(join(reference, 'paired.csv'), 'utf8'));
    // The resumed row's seconds count the epochs the killed process trained.
    const seconds = Number(readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n')[1]?.split(',').at(-1));
    expect(seconds).toBeGreaterThanOrEqual(last.state.history.reduce((s, e) => s + e.seconds, 0));
    expect(existsSync(join(out, 'running'))).toBe(false);
    expect(Object.keys(snapshot(out)).sort()).toEqual(Object.keys(snapshot(reference)).sort());
  });

  it('killed after the run\'s last epoch, before its row: the resumed experiment scores it without training again', async () => {
    const reference = join(root, 'reference');
    const out = join(root, 'last-epoch');
    const p = startPausing(args(out), ['checkpoint-saved']);
    for (let epoch = 1; epoch < 4; epoch++) {
      await p.pausedAt('checkpoint-saved');
      p.proceed();
    }
    await p.pausedAt('checkpoint-saved');
    await p.kill();
    expect((await readClassifierCheckpoint(join(out, FOLDER, 'last.safetensors'), 'last')).state.epoch).toBe(4);
    const resumed = await runMain(['--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('(epoch 4 of 4, best epoch');
    expect(resumed.stderr).not.toMatch(/mlp epoch +\d+\/4/);
    expect(withoutSeconds(readFileSync(join(out, 'small-data.csv'), 'utf8'))).toEqual(withoutSeconds(readFileSync(join(reference, 'small-data.csv'), 'utf8')));
  });

  it('a weight search killed in its second value: the first is not trained again, the second continues from its epoch', async () => {
    const m2 = (out: string): string[] => [
      '--cpu', '--experiment', 'small-data', '--data', data, '--models', 'vae-m2', '--alpha', '0.1,1', '--sizes', '20', '--seeds', '1',
      '--epochs', '3', '--vae-epochs', '2', '--latent', '3', '--batch', '8', '--quiet', '--out', out,
    ];
    const reference = join(root, 'm2-reference');
    const full = await runMain(m2(reference));
    expect(full.code, full.stderr).toBe(0);
    const out = join(root, 'm2-killed');
    const folder = join(out, 'running', 'SYNTHETIC-RC-vae-m2-20-seed1');
    const p = startPausing(m2(out), ['checkpoint-saved']);
    // Let it go on until the first value is kept and the second has a checkpoint of its own.
    for (;;) {
      await p.pausedAt('checkpoint-saved');
      if (existsSync(join(folder, 'weight-0.json')) && existsSync(join(folder, 'weight-1', 'last.safetensors'))) break;
      p.proceed();
    }
    await p.kill();
    expect(existsSync(join(folder, 'weight-0'))).toBe(false);
    const epoch = (await readClassifierCheckpoint(join(folder, 'weight-1', 'last.safetensors'), 'last')).state.epoch;
    expect(epoch).toBe(1);

    const resumed = await runMain(['--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`experiment: SYNTHETIC-RC, vae-m2, 20, seed 1, weight 0.1: trained in an earlier sitting, from ${join(folder, 'weight-0.json')}`);
    expect(resumed.stderr).toContain(`experiment: SYNTHETIC-RC, vae-m2, 20, seed 1, weight 1: continuing from ${join(folder, 'weight-1', 'last.safetensors')} (epoch 1, best epoch`);
    // Only the second value's last two epochs are trained now.
    expect(resumed.stderr.match(/vae-m2 α=[\d.]+ epoch +\d+\/3/g)).toEqual(['vae-m2 α=1 epoch   2/3', 'vae-m2 α=1 epoch   3/3']);
    expect(withoutSeconds(readFileSync(join(out, 'small-data.csv'), 'utf8'))).toEqual(withoutSeconds(readFileSync(join(reference, 'small-data.csv'), 'utf8')));
    // Each value's validation score and the one kept, as the uninterrupted search chose.
    expect(readFileSync(join(out, 'weight-choices.csv'), 'utf8')).toBe(readFileSync(join(reference, 'weight-choices.csv'), 'utf8'));
    expect(existsSync(join(out, 'running'))).toBe(false);
  });

  it('says on SIGINT that the run in progress continues from its last finished epoch', async () => {
    const out = join(root, 'interrupted');
    const p = startPausing(args(out), ['checkpoint-saved']);
    await p.pausedAt('checkpoint-saved');
    // Delivered when the process goes on, just after its first checkpoint.
    process.kill(p.pid, 'SIGINT');
    p.proceed();
    const stopped = await p.exited;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`the runs that finished are in ${join(out, 'small-data.csv')}, and the run in progress continues from its last finished epoch; continue with: npx tsx run.ts --resume ${out}`);
    expect(existsSync(join(out, FOLDER, 'last.safetensors'))).toBe(true);
  });

  it('refuses a checkpoint of other settings in the run\'s folder, naming both, and changes nothing', async () => {
    const out = join(root, 'other');
    const p = startPausing(args(out), ['checkpoint-saved']);
    await p.pausedAt('checkpoint-saved');
    await p.kill();
    const o = parseArgs(['--cpu', '--data', data, '--model', 'mlp', '--epochs', '4', '--batch', '8']);
    const loaded = await loadData(o);
    const at = { cell: 'SYNTHETIC-RC', model: 'mlp', size: 'all' as const, seed: 1 };
    const target = { dir: () => out, saved: () => undefined };
    const before = snapshot(out);
    const file = join(runFolder(out, at), 'last.safetensors');
    await expect(runInProgress(target, at, { ...settingsOf(o), lr: 0.01 }, loaded, () => undefined)).rejects.toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: a checkpoint of other settings or data \\(run-SYNTHETIC-RC-mlp-all-seed1-[0-9a-f]{16}\\); this run's is run-SYNTHETIC-RC-mlp-all-seed1-[0-9a-f]{16}\\. Move the folder away to train the run again$`),
    );
    expect(snapshot(out)).toEqual(before);

    // A weight search's kept value of another run (or another weight) in a run's folder is refused the same way.
    const fresh = join(root, 'fresh');
    const inProgress = await runInProgress({ dir: () => fresh, saved: () => undefined }, at, settingsOf(o), loaded, () => undefined);
    const store = inProgress.hooks.weightValues;
    if (!store) throw new Error('no weight store');
    expect(await store.finished(0, 0.1)).toBeUndefined();
    const kept = join(runFolder(fresh, at), 'weight-0.json');
    writeFileSync(kept, JSON.stringify({ runId: 'run-other', value: 0.1, trained: {} }));
    await expect(store.finished(0, 0.1)).rejects.toThrow(`${kept}: the result of another run or weight (run-other, 0.1); this run's is `);
  });

  it('deletes the folders of runs the CSV holds (a stop between the row and the deletion), and no other', () => {
    const dir = join(root, 'leftover');
    mkdirSync(join(dir, 'running', 'E003-mlp-all-seed1'), { recursive: true });
    mkdirSync(join(dir, 'running', 'E003-vae-mlp-neighbors-functional-100-seed2'), { recursive: true });
    cpSync(join(dir, 'running'), join(dir, 'copy'), { recursive: true });
    const removed = removeFinishedRunFolders(dir, [
      { cell: 'E003', model: 'mlp', size: 'all', seed: 1 },
      { cell: 'E003', model: 'logreg', size: 'all', seed: 1 },
    ]);
    expect(removed).toEqual(['E003-mlp-all-seed1']);
    expect(readdirSync(join(dir, 'running'))).toEqual(['E003-vae-mlp-neighbors-functional-100-seed2']);
    expect(removeFinishedRunFolders(dir, [{ cell: 'E003', model: 'vae-mlp-neighbors:functional', size: 100, seed: 2 }])).toEqual(['E003-vae-mlp-neighbors-functional-100-seed2']);
    expect(existsSync(join(dir, 'running'))).toBe(false);
  });

  it('keeps a run\'s folder inside running/ whatever the cell is called', () => {
    expect(() => runFolder(root, { cell: '../x', model: 'mlp', size: 'all', seed: 1 })).toThrow(`run "../x-mlp-all-seed1" would put its checkpoints outside ${join(root, 'running')}`);
  });
});
