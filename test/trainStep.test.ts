import { describe, expect, it } from 'vitest';
import { deepChromeModel } from '../src/models/deepchrome.ts';
import { mlpModel } from '../src/models/mlp.ts';
import { vaeModel } from '../src/models/vae.ts';
import { V, buildVaePlan } from '../src/train/vaePlan.ts';
import { encodeAll, initialiseVae } from '../src/train/trainVae.ts';
import { PARAMS } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { type Model, T, buildClassifierPlan } from '../src/train/classifierPlan.ts';
import { initialise, stepsPerEpoch } from '../src/train/trainClassifier.ts';
import { getGpu, maxRelError, randomArray } from './helpers.ts';

// A whole optimisation step — gather through the shuffled order, forward,
// BCE, backward, Adam, counters — is the same plan on both executors, so it
// must give the same parameters.

function tinyData(genes: number, features: number) {
  const x = randomArray(genes * features, 11, 0, 3);
  const labels = Array.from({ length: genes }, (_, g) => ((x[g * features] as number) > 1.5 ? 1 : 0));
  const idx = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
  return { features: x, labels, split: { train: idx(0, 41), valid: idx(41, 51), test: idx(51, genes) } };
}

async function stepBoth(model: Model, steps: number) {
  const genes = 60;
  const batch = 16;
  const data = tinyData(genes, model.inputShape.reduce((a, b) => a * b, 1));
  const trainOrderLength = stepsPerEpoch(data.split.train.length, batch) * batch;
  const cp = buildClassifierPlan(model, { genes, batch, predictBatch: 8, trainOrderLength, optimizer: { lr: 1e-2 }, seed: 3 });
  const init = model.store.initialValues(5);
  const order = Uint32Array.from({ length: trainOrderLength }, (_, i) => (i * 7) % 41);
  const cpu = new CpuExecutor(cp.plan);
  const gpu = await GpuExecutor.create(await getGpu(), cp.plan);
  try {
    for (const e of [cpu, gpu]) {
      initialise(e, cp, data, init);
      e.write(T.trainOrder, order);
      e.write(T.trainCursor, [0]);
      e.write(T.reportLoss, [0]);
    }
    cpu.run(steps, 'train');
    await gpu.run(steps, 'train');
    return { cpu: cpu.read(PARAMS), gpu: await gpu.read(PARAMS), init, cpuLoss: cpu.read(T.reportLoss), gpuLoss: await gpu.read(T.reportLoss) };
  } finally {
    gpu.destroy();
  }
}

describe('a training step is the same plan on GPU and CPU', () => {
  it('one MLP step gives the same parameters', async () => {
    const r = await stepBoth(mlpModel({ inputShape: [2, 5], hidden: [37, 9] }), 1);
    expect(maxRelError(r.gpu, r.cpu)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(r.gpuLoss, r.cpuLoss)).toBeLessThanOrEqual(1e-4);
    // The step really moved the parameters.
    expect(maxRelError(r.cpu, r.init)).toBeGreaterThan(1e-3);
  });

  it('three steps recorded into one submit match three CPU steps', async () => {
    const r = await stepBoth(mlpModel({ inputShape: [2, 5], hidden: [16] }), 3);
    expect(maxRelError(r.gpu, r.cpu)).toBeLessThanOrEqual(1e-4);
  });
});

describe('whole DeepChrome and VAE steps agree on GPU and CPU', () => {
  it('two DeepChrome steps (conv, max-pool, dropout, dense) give the same parameters', async () => {
    const model = deepChromeModel({ bins: 13, marks: 5, convChannels: 6, kernelSize: 4, pool: 3, hidden: [7, 5] });
    const r = await stepBoth(model, 2);
    expect(maxRelError(r.gpu, r.cpu)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(r.cpu, r.init)).toBeGreaterThan(1e-3);
  });

  it.each(['logvar', 'softplus'] as const)('two VAE steps (encoder, sampler, decoder, ELBO; sigma from %s) give the same parameters and latents', async (sigma) => {
    const model = vaeModel({ bins: 7, marks: 5, latent: 3, channels: [4, 6], kernelSize: 3 });
    const genes = 20;
    const batch = 8;
    const features = randomArray(genes * 35, 21, -1, 1);
    const vp = buildVaePlan(model, { genes, batch, encodeBatch: 6, trainOrderLength: 16, beta: 0.1, sigma, optimizer: { lr: 1e-2 }, seed: 9 });
    const init = model.store.initialValues(4);
    const cpu = new CpuExecutor(vp.plan);
    const gpu = await GpuExecutor.create(await getGpu(), vp.plan);
    try {
      for (const e of [cpu, gpu]) {
        initialiseVae(e, vp, features, init);
        e.write(V.trainOrder, Uint32Array.from({ length: 16 }, (_, i) => (i * 3) % genes));
        e.write(V.trainCursor, [0]);
        e.write(V.reportLoss, [0, 0, 0]);
      }
      cpu.run(2, 'train');
      await gpu.run(2, 'train');
      const cpuParams = cpu.read(PARAMS);
      expect(maxRelError(await gpu.read(PARAMS), cpuParams)).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(cpuParams, init)).toBeGreaterThan(1e-3);
      expect(maxRelError(await gpu.read(V.reportLoss), cpu.read(V.reportLoss))).toBeLessThanOrEqual(1e-4);
      const latentsCpu = await encodeAll(cpu, vp);
      const latentsGpu = await encodeAll(gpu, vp);
      expect(latentsCpu.length).toBe(genes * 3);
      expect(maxRelError(latentsGpu, latentsCpu)).toBeLessThanOrEqual(1e-4);
    } finally {
      gpu.destroy();
    }
  });
});
