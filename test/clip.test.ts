import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { runSettingsOf } from '../src/api/core.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { parseArgs, UsageError } from '../src/cli/flags/args.ts';
import { checkFlagsApply } from '../src/cli/flags/flagScope.ts';
import { pickRunSettings } from '../src/cli/flags/pickRunSettings.ts';
import { restoreSettings } from '../src/cli/flags/restoreSettings.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { inWords } from '../src/util/inWords.ts';
import { mlpModel } from '../src/models/mlp.ts';
import { MODEL_NAMES, isLinear } from '../src/models/registry.ts';
import { GRADS, PARAMS } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { T, buildClassifierPlan } from '../src/train/classifierPlan.ts';
import { restoreRunSettings } from '../src/train/runFlags.ts';
import type { Progress } from '../src/train/runModel.ts';
import { RUN_DEFAULTS, settingsThatApply } from '../src/train/runSettings.ts';
import { initialise, stepsPerEpoch } from '../src/train/trainClassifier.ts';
import { runMain, snapshot } from './cliHelpers.ts';
import { getGpu, maxRelError, messageOf, randomArray } from './helpers.ts';

// --clip N: torch.nn.utils.clip_grad_norm_ before every Adam step of the model a run trains, on the GPU inside the
// step's submit (src/kernels/clipGradNorm.ts, appended by appendOptimizerStep). Here: the step scales the whole
// gradient as torch does on both executors, the flag's refusals, where it applies, and that a run keeps it through
// its checkpoint and metrics.json.

const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-clip-${tag}-`));
const sources = { annotation: 'genes.gtf', expressionTable: 'rpkm.csv' };
const l2 = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));

/** `steps` MLP training steps from the same start on the CPU and the GPU; every tensor the test reads back. */
async function mlpSteps(clip: number | undefined, steps: number) {
  const model = mlpModel({ inputShape: [2, 5], hidden: [37, 9] });
  const genes = 60;
  const batch = 16;
  const x = randomArray(genes * 10, 11, 0, 3);
  const labels = Array.from({ length: genes }, (_, g) => ((x[g * 10] as number) > 1.5 ? 1 : 0));
  const idx = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
  const data = { features: x, labels, split: { train: idx(0, 41), valid: idx(41, 51), test: idx(51, genes) } };
  const trainOrderLength = stepsPerEpoch(41, batch) * batch;
  const cp = buildClassifierPlan(model, { genes, batch, predictBatch: 8, trainOrderLength, optimizer: { lr: 1e-2, clip }, seed: 3 });
  const order = Uint32Array.from({ length: trainOrderLength }, (_, i) => (i * 7) % 41);
  const cpu = new CpuExecutor(cp.plan);
  const gpu = await GpuExecutor.create(await getGpu(), cp.plan);
  try {
    for (const e of [cpu, gpu]) {
      initialise(e, cp, data, model.store.initialValues(5));
      e.write(T.trainOrder, order);
      e.write(T.trainCursor, [0]);
      e.write(T.reportLoss, [0]);
    }
    cpu.run(steps, 'train');
    await gpu.run(steps, 'train');
    return {
      cpu: { grads: cpu.read(GRADS), params: cpu.read(PARAMS), loss: cpu.read(T.reportLoss) },
      gpu: { grads: await gpu.read(GRADS), params: await gpu.read(PARAMS), loss: await gpu.read(T.reportLoss) },
    };
  } finally {
    gpu.destroy();
  }
}

describe('a clipped training step', () => {
  it('scales the whole gradient by min(1, N / (norm + 1e-6)) before Adam, on the CPU and the GPU alike', async () => {
    const free = await mlpSteps(undefined, 1);
    const norm = l2(free.cpu.grads);
    const maxNorm = norm / 4;
    const clipped = await mlpSteps(maxNorm, 1);
    const coef = maxNorm / (norm + 1e-6);
    for (const side of ['cpu', 'gpu'] as const) {
      const expected = Array.from(free[side].grads, (g) => g * coef);
      expect(maxRelError(clipped[side].grads, expected), side).toBeLessThanOrEqual(1e-5);
      // torch's 1e-6 leaves the clipped norm just under the limit.
      expect(l2(clipped[side].grads) / maxNorm, side).toBeCloseTo(norm / (norm + 1e-6), 5);
    }
    expect(maxRelError(clipped.gpu.grads, clipped.cpu.grads)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(clipped.gpu.params, clipped.cpu.params)).toBeLessThanOrEqual(1e-4);
    // A limit above the norm leaves the step as it was, bit for bit.
    const loose = await mlpSteps(norm * 4, 1);
    expect(Array.from(loose.cpu.params)).toEqual(Array.from(free.cpu.params));
    expect(Array.from(loose.gpu.params)).toEqual(Array.from(free.gpu.params));
  });

  it('changes where three steps lead (Adam’s first step alone is nearly scale-free), the same on both executors', async () => {
    const free = await mlpSteps(undefined, 3);
    const clipped = await mlpSteps(l2(free.cpu.grads) / 20, 3);
    expect(maxRelError(clipped.gpu.params, clipped.cpu.params)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(clipped.gpu.loss, clipped.cpu.loss)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(clipped.cpu.params, free.cpu.params)).toBeGreaterThan(1e-4);
  });
});

describe('the --clip flag', () => {
  it('takes a positive number, or off (the default)', () => {
    expect(parseArgs([]).clip).toBeUndefined();
    expect(RUN_DEFAULTS.clip).toBeUndefined();
    expect(parseArgs(['--clip', '1']).clip).toBe(1);
    expect(parseArgs(['--clip=0.25']).clip).toBe(0.25);
    expect(parseArgs(['--clip', 'off']).clip).toBeUndefined();
  });

  it.each(['0', '-1', 'NaN', 'nan', '', 'Infinity', '1e39', '1e-50', 'one'])('refuses --clip "%s", naming the flag and the value', (v) => {
    const message = `--clip needs the largest gradient norm, a positive number (or off), got "${v}"`;
    expect(() => parseArgs(['--clip', v])).toThrow(UsageError);
    expect(messageOf(() => parseArgs([`--clip=${v}`]))).toBe(message);
  });

  it('refuses a bad value before anything is written, and leaves the --out directory as it was', async () => {
    const out = tmp('refused');
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    const before = snapshot(out);
    const r = await runMain(['train', '--cpu', '--model', 'mlp', '--clip', '-1', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--clip needs the largest gradient norm, a positive number (or off), got "-1"');
    expect(snapshot(out)).toEqual(before);
  });

  it('is refused for models fit by L-BFGS, and taken where any chosen model trains by Adam steps', () => {
    const linear = MODEL_NAMES.filter(isLinear);
    expect(linear.length).toBeGreaterThan(0);
    for (const model of linear) {
      expect(messageOf(() => checkFlagsApply(parseArgs(['--model', model, '--clip', '1'])))).toBe(
        `--clip limits the gradient of each Adam step; --model ${model} is fit by full-batch L-BFGS to convergence, as ${inWords(linear, 'and')} are, and takes no clip`,
      );
    }
    const trained = MODEL_NAMES.filter((m) => !isLinear(m));
    for (const model of trained) expect(() => checkFlagsApply(parseArgs(['--model', model, '--clip', '1']))).not.toThrow();
    expect(() => checkFlagsApply(parseArgs(['experiment', '--models', `${linear[0]},${trained[0]}`, '--clip', '1']))).not.toThrow();
    expect(() => checkFlagsApply(parseArgs(['experiment', '--models', linear.join(','), '--clip', '1']))).toThrow(/--experiment small-data is fit by full-batch L-BFGS/);
  });

  it('is a setting of the models trained by Adam steps only, as metrics.json records them', () => {
    for (const model of MODEL_NAMES) {
      const applies = settingsThatApply({ ...RUN_DEFAULTS, ...sources, model, clip: 2 });
      expect(applies.clip, model).toBe(isLinear(model) ? undefined : 2);
    }
  });

  it('reads back from stored settings the same way on the page and the command line; absent means off', () => {
    const stored = { ...RUN_DEFAULTS, trainSize: null, normalize: 'log1p-max', device: 'cpu', data: '/data/E003' };
    const viaCli = (raw: Record<string, unknown>) => pickRunSettings(restoreSettings(raw, 'last.safetensors'), sources);
    for (const [raw, clip] of [
      [{ ...stored, clip: 0.5 }, 0.5],
      [stored, undefined],
    ] as const) {
      const page = restoreRunSettings(raw, 'last.safetensors', sources);
      expect(page.clip).toBe(clip);
      expect(viaCli(raw)).toEqual(page);
    }
    const bad = { ...stored, clip: -2 };
    const message = 'last.safetensors: stored settings are invalid: --clip needs the largest gradient norm, a positive number (or off), got "-2"';
    expect(messageOf(() => restoreRunSettings(bad, 'last.safetensors', sources))).toBe(message);
    expect(messageOf(() => viaCli(bad))).toBe(message);
  });

  it('is a typed setting of the programmatic API, checked by the same parser', () => {
    expect(runSettingsOf({ clip: 1 }, [], sources).clip).toBe(1);
    expect(runSettingsOf({}, [], sources).clip).toBeUndefined();
    expect(messageOf(() => runSettingsOf({ clip: 0 }, [], sources))).toBe('clip needs the largest gradient norm, a positive number (or off), got "0"');
  });
});

describe('a --clip run end to end', () => {
  let data: string;
  const args = (device: '--cpu' | '--gpu', out: string, ...extra: string[]) =>
    parseArgs([device, '--model', 'mlp', '--data', data, '--epochs', '2', '--batch', '8', '--clip', '0.05', '--out', out, '--quiet', ...extra]);
  const metricsOf = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { config: { clip?: number }; history: { trainLoss: number; valid: { auroc: number } }[] };
  const onGpu = async () => {
    const gpu = await getGpu();
    return { device: { kind: 'gpu' as const, gpu }, name: gpu.adapterName, release: () => {} };
  };

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 24, seed: 31, bins: 4, cell: 'SYNTHETIC-C' });
    data = join(root, 'SYNTHETIC-C');
  });

  it('trains on the CPU and the GPU to the same losses, records the clip, and differs from an unclipped run', async () => {
    const cpu = tmp('cpu');
    const gpu = tmp('gpu');
    const free = tmp('free');
    await trainToDirectory(args('--cpu', cpu), { progress: quiet });
    await trainToDirectory(args('--gpu', gpu), { progress: quiet, device: await onGpu() });
    await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', data, '--epochs', '2', '--batch', '8', '--out', free, '--quiet']), { progress: quiet });
    const [c, g, f] = [metricsOf(cpu), metricsOf(gpu), metricsOf(free)];
    expect(c.config.clip).toBe(0.05);
    expect(g.config.clip).toBe(0.05);
    expect(f.config.clip).toBeUndefined();
    c.history.forEach((h, i) => expect(maxRelError([g.history[i]?.trainLoss ?? Number.NaN], [h.trainLoss]), `epoch ${i + 1}`).toBeLessThanOrEqual(1e-4));
    expect(c.history.map((h) => h.trainLoss)).not.toEqual(f.history.map((h) => h.trainLoss));
    const stored = await readClassifierCheckpoint(join(cpu, 'last.safetensors'), 'last');
    expect(stored.info.settings.clip).toBe(0.05);
  });

  it('resumes with its clip, bit-identical to the run left alone; a different --clip on resume is refused', async () => {
    const reference = tmp('ref');
    await trainToDirectory(args('--cpu', reference), { progress: quiet });
    const out = tmp('int');
    const stopAfterOne: Progress = {
      ...quiet,
      epoch: (_m, r) => {
        if (r.epoch === 1) throw new Error('stopped after epoch 1 for the test');
      },
    };
    await expect(trainToDirectory(args('--cpu', out), { progress: stopAfterOne })).rejects.toThrow(/stopped after epoch 1/);
    await expect(trainToDirectory(parseArgs(['--resume', out, '--clip', '1', '--quiet']), { progress: quiet })).rejects.toThrow(
      `--clip 1 conflicts with the checkpoint in ${out} (--clip 0.05); a resumed run takes its settings from its checkpoint`,
    );
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(resumed.options.clip).toBe(0.05);
    const scores = (dir: string) => metricsOf(dir).history.map((h) => [h.trainLoss, h.valid.auroc]);
    expect(scores(out)).toEqual(scores(reference));
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8')).toBe(readFileSync(join(reference, 'predictions.csv'), 'utf8'));
    const free = tmp('free-resume');
    await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', data, '--epochs', '1', '--batch', '8', '--out', free, '--quiet']), { progress: quiet });
    await expect(trainToDirectory(parseArgs(['--resume', free, '--clip', '1', '--epochs', '2', '--quiet']), { progress: quiet })).rejects.toThrow(
      `--clip 1 conflicts with the checkpoint in ${free} (--clip off)`,
    );
  });
});
