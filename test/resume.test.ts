import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs, UsageError } from '../src/cli/flags/args.ts';
import type { Progress } from '../src/train/runModel.ts';
import { type TrainingOutcome, TrainingStoppedError, trainToDirectory } from '../src/cli/run/trainRun.ts';
import { readClassifierCheckpoint, readVaeCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { getGpu } from './helpers.ts';

// An interrupted run, resumed, ends exactly (bit for bit) where the same run
// uninterrupted ends: interrupted in-process, or killed with SIGKILL in the
// middle of an epoch, in the classifier or the VAE phase, on the CPU and on
// the GPU. The CPU runs are DeepChrome (dropout keyed on the step counter)
// on a small synthetic cell.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-resume-${tag}-`));

class Interrupt extends Error {}

/** A progress printer that throws after the given epoch, as a crash right after a checkpoint would. */
function interruptAfter(phase: 'vae' | 'classifier', epoch: number): Progress {
  return {
    epoch: (_m, r) => {
      if (phase === 'classifier' && r.epoch === epoch) throw new Interrupt(`interrupted after epoch ${epoch} for the test`);
    },
    vaeEpoch: (r) => {
      if (phase === 'vae' && r.epoch === epoch) throw new Interrupt(`interrupted after VAE epoch ${epoch} for the test`);
    },
  };
}

/** Every tensor of every checkpoint file, and the test predictions, are identical. */
async function expectSameRun(a: string, b: string, files: readonly string[]): Promise<void> {
  for (const f of files) {
    const [x, y] = [await readSafetensors(join(a, f)), await readSafetensors(join(b, f))];
    expect([...y.tensors.keys()], f).toEqual([...x.tensors.keys()]);
    for (const [name, t] of x.tensors) {
      const u = y.tensors.get(name);
      const bytes = (d: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) =>
        Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      expect(u && bytes(u.data).equals(bytes(t.data)), `${f}: ${name}`).toBe(true);
    }
    for (const key of ['epoch', 'step', 'rng_state', 'best_epoch', 'best_valid_auroc']) {
      expect(y.metadata[key], `${f}: ${key}`).toBe(x.metadata[key]);
    }
  }
  expect(readFileSync(join(b, 'predictions.csv'), 'utf8')).toBe(readFileSync(join(a, 'predictions.csv'), 'utf8'));
  const losses = (dir: string) => (JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { history: { trainLoss: number }[] }).history.map((h) => h.trainLoss);
  expect(losses(b)).toEqual(losses(a));
}

describe('resuming DeepChrome on the CPU', () => {
  let data: string;
  let reference: string;
  const args = (out: string, ...extra: string[]) =>
    parseArgs(['--cpu', '--model', 'deepchrome', '--data', data, '--epochs', '4', '--batch', '16', '--out', out, '--quiet', ...extra]);

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 100, seed: 11, bins: 20, cell: 'SYNTHETIC-R' });
    data = join(root, 'SYNTHETIC-R');
    reference = tmp('ref');
    await trainToDirectory(args(reference), { progress: quiet });
  });

  it('interrupted after epoch 2 keeps that checkpoint, and the resumed run ends bit-identical', async () => {
    const out = tmp('int');
    const stopped = await trainToDirectory(args(out), { progress: interruptAfter('classifier', 2) }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(TrainingStoppedError);
    expect((stopped as Error).message).toBe(
      'interrupted after epoch 2 for the test\n' +
        `the last good checkpoint is ${join(out, 'last.safetensors')} (classifier epoch 2); continue with: npx tsx run.ts --resume ${out}`,
    );
    expect((await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last')).state.epoch).toBe(2);
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
    const resumed: TrainingOutcome = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(resumed.options.epochs).toBe(4);
    expect(resumed.run.result.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    await expectSameRun(reference, out, ['best.safetensors', 'last.safetensors']);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { resumedFrom: unknown };
    expect(metrics.resumedFrom).toEqual({ vaeEpoch: null, classifierEpoch: 2 });
  });

  it('a child process killed with SIGKILL mid-epoch loses only the unfinished epoch', async () => {
    const out = tmp('kill');
    const argv = ['run.ts', '--cpu', '--model', 'deepchrome', '--data', data, '--epochs', '4', '--batch', '16', '--out', out];
    // Node with tsx's loader: SIGKILL sent to the tsx command would kill only that wrapper, and the run it
    // started would go on writing (the run's lock then refuses the resume below, as it should).
    const child = spawn(process.execPath, ['--import', 'tsx', ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // The progress line comes after the epoch's checkpoint is on disk: the kill lands in epoch 2.
      if (/deepchrome epoch +1\/4/.test(stderr)) child.kill('SIGKILL');
    });
    const { signal } = await exit;
    expect(signal, stderr).toBe('SIGKILL');
    const kept = await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last');
    expect(kept.state.epoch).toBeGreaterThanOrEqual(1);
    expect(kept.state.epoch).toBeLessThan(4);
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
    await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    await expectSameRun(reference, out, ['best.safetensors', 'last.safetensors']);
  });

  it('flags that contradict the checkpoint are refused; the ones a resume may change are not', async () => {
    const resume = (...extra: string[]) => trainToDirectory(parseArgs(['--resume', reference, '--quiet', ...extra]), { progress: quiet });
    await expect(resume('--lr', '0.01')).rejects.toThrow(
      `--lr 0.01 conflicts with the checkpoint in ${reference} (--lr 0.001); a resumed run takes its settings from its checkpoint`,
    );
    await expect(resume('--model', 'mlp')).rejects.toThrow(`--model mlp conflicts with the checkpoint in ${reference} (--model deepchrome)`);
    await expect(resume('--train-size', '50')).rejects.toThrow(`--train-size 50 conflicts with the checkpoint in ${reference} (--train-size all)`);
    await expect(resume('--epochs', '2')).rejects.toThrow(`--epochs 2: the run in ${reference} has already finished 4 epochs`);
    await expect(resume('--out', '/tmp/elsewhere')).rejects.toThrow(`--out /tmp/elsewhere conflicts with --resume ${reference}: a resumed run writes where it started`);
    await expect(resume('--seeds', '2')).rejects.toBeInstanceOf(UsageError);
    await expect(resume('--seeds', '2')).rejects.toThrow(`--resume ${reference}: cannot be combined with --seeds`);
    expect(() => parseArgs(['--resume', reference, '--experiment', 'small-data'])).toThrow(
      '--resume DIR continues a training run or an experiment with the settings stored in DIR; give it without --experiment',
    );
    const empty = tmp('empty');
    await expect(trainToDirectory(parseArgs(['--resume', empty]))).rejects.toThrow(
      `--resume ${empty}: nothing to resume: no last.safetensors or vae.safetensors (a run writes them after its first finished epoch)`,
    );
    const other = tmp('other');
    await writeSynthetic(other, { genes: 100, seed: 12, bins: 20, cell: 'SYNTHETIC-R' });
    await expect(resume('--data', join(other, 'SYNTHETIC-R'))).rejects.toThrow(
      /--resume .*: the data at .*SYNTHETIC-R is not the data this run trained on \(SYNTHETIC-R, 300 genes from .*; fingerprints differ\)/,
    );
    // Same settings, given again, are fine; so is a longer run: it continues from epoch 5.
    const longer = await resume('--lr', '0.001', '--epochs', '5');
    expect(longer.run.result.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('resuming a VAE-based model on the CPU', () => {
  let data: string;
  let reference: string;
  const files = ['vae.safetensors', 'best.safetensors', 'last.safetensors'];
  const args = (out: string) =>
    parseArgs(['--cpu', '--model', 'vae-mlp', '--data', data, '--vae-epochs', '3', '--epochs', '2', '--latent', '3', '--batch', '16', '--out', out, '--quiet']);

  beforeAll(async () => {
    const root = tmp('vdata');
    await writeSynthetic(root, { genes: 20, seed: 21, bins: 6, cell: 'SYNTHETIC-V' });
    data = join(root, 'SYNTHETIC-V');
    reference = tmp('vref');
    await trainToDirectory(args(reference), { progress: quiet });
  });

  it('interrupted in the VAE phase: vae.safetensors is kept per epoch and the run resumes exactly', async () => {
    const out = tmp('vint');
    const stopped = await trainToDirectory(args(out), { progress: interruptAfter('vae', 2) }).catch((e: unknown) => e);
    expect((stopped as Error).message).toContain(`the last good checkpoint is ${join(out, 'vae.safetensors')} (VAE epoch 2)`);
    expect((await readVaeCheckpoint(join(out, 'vae.safetensors'))).state.epoch).toBe(2);
    expect(existsSync(join(out, 'last.safetensors'))).toBe(false);
    await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    await expectSameRun(reference, out, files);
  });

  it('interrupted in the classifier phase: the VAE is reloaded, its latents recomputed, and the run resumes exactly', async () => {
    const out = tmp('vcls');
    await trainToDirectory(args(out), { progress: interruptAfter('classifier', 1) }).catch(() => undefined);
    expect((await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last')).state.epoch).toBe(1);
    await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    await expectSameRun(reference, out, files);
  });
});

describe('on the GPU', () => {
  // One device for the file (pipelines compile once per device on SwiftShader); the device-loss test destroys it, so it runs last.
  let root: string;
  const args = (out: string, ...extra: string[]) =>
    parseArgs(['--gpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-G'), '--epochs', '3', '--batch', '8', '--out', out, '--quiet', ...extra]);
  const onGpu = async () => {
    const gpu = await getGpu();
    return { device: { kind: 'gpu' as const, gpu }, name: gpu.adapterName, release: () => {} };
  };
  beforeAll(async () => {
    root = tmp('gdata');
    await writeSynthetic(root, { genes: 24, seed: 31, bins: 4, cell: 'SYNTHETIC-G' });
  });

  it('a tiny MLP interrupted after epoch 1 and resumed on the same adapter ends bit-identical', async () => {
    const device = await onGpu();
    const reference = tmp('gref');
    await trainToDirectory(args(reference), { progress: quiet, device });
    const out = tmp('gint');
    await expect(trainToDirectory(args(out), { progress: interruptAfter('classifier', 1), device })).rejects.toThrow(/classifier epoch 1/);
    await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet, device });
    await expectSameRun(reference, out, ['best.safetensors', 'last.safetensors']);
  });

  it('a NaN loss is traced to its step through the per-step loss buffer on the device', async () => {
    const out = tmp('gnan');
    await expect(trainToDirectory(args(out, '--lr', '1e30'), { progress: quiet, device: await onGpu() })).rejects.toThrow(
      'training diverged: the loss is NaN at epoch 1, step 2 of 3 (step 2 of the run)\n' +
        'no checkpoint was written: the run stopped before its first epoch finished',
    );
  });

  it('a lost device stops the run with a message, and the last good checkpoint stays usable', async () => {
    const device = await onGpu();
    const out = tmp('glost');
    const loseDevice: Progress = {
      epoch: (_m, r) => {
        if (r.epoch === 1) device.device.gpu.destroy();
      },
      vaeEpoch: () => {},
    };
    const stopped = await trainToDirectory(args(out), { progress: loseDevice, device }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(TrainingStoppedError);
    expect((stopped as Error).message).toMatch(
      new RegExp(
        `^GPU device lost .*\\nthe last good checkpoint is ${join(out, 'last.safetensors')} \\(classifier epoch 1\\); continue with: npx tsx run.ts --resume ${out}$`,
        's',
      ),
    );
    const kept = await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last');
    expect(kept.state.epoch).toBe(1);
    // It continues on the CPU (not bit for bit, but from the kept epoch on).
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--cpu', '--quiet']), { progress: quiet });
    expect(resumed.run.result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
  });
});
