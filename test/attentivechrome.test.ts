import { describe, expect, it } from 'vitest';
import { attentiveChromeModel } from '../src/models/attentiveChrome.ts';
import { buildClassifier } from '../src/models/modelSpec.ts';
import { classifierSpecFor } from '../src/models/registry.ts';
import { GRADS, PARAMS } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { type Model, T, buildClassifierPlan } from '../src/train/classifierPlan.ts';
import { initialise, stepsPerEpoch } from '../src/train/trainClassifier.ts';
import { getGpu, maxRelError, parameterGradientPoints, randomArray } from './helpers.ts';

// The whole AttentiveChrome network as the classifier plan trains it: its
// parameter gradients are those of the step's BCE (float64 central
// differences through gather, both BiLSTM levels, both attentions and the
// linear head), and a training step gives the same parameters on GPU and CPU.

const GENES = 24;
const TRAIN = 16;

function setup(model: Model, batch: number) {
  const features = model.inputShape.reduce((a, b) => a * b, 1);
  const x = randomArray(GENES * features, 31, 0, 3);
  const labels = Array.from({ length: GENES }, (_, g) => ((x[g * features] as number) > 1.5 ? 1 : 0));
  const idx = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
  const data = { features: x, labels, split: { train: idx(0, TRAIN), valid: idx(TRAIN, 20), test: idx(20, GENES) } };
  const trainOrderLength = stepsPerEpoch(TRAIN, batch) * batch;
  const cp = buildClassifierPlan(model, { genes: GENES, batch, predictBatch: 5, trainOrderLength, optimizer: { lr: 1e-2 }, seed: 3 });
  const order = Uint32Array.from({ length: trainOrderLength }, (_, i) => (i * 5) % TRAIN);
  return { cp, data, order, init: model.store.initialValues(7) };
}

describe('attentivechrome', () => {
  it('is the network of the public code at the data’s sizes', () => {
    const model = buildClassifier(classifierSpecFor('attentivechrome', { bins: 100, marks: 5 }));
    expect(model.layers.map((l) => `${l.name} ${l.outputShape.join('x')}`)).toEqual([
      'binLstm 100x5x64',
      'binAttention 5x64',
      'markLstm 5x1x32',
      'markAttention 1x32',
      'flatten 32',
      'out 1',
    ]);
    // Per mark: (1 + 32) × 128 × 2 weights, 128 × 2 biases, a 64-wide context; then (64 + 16) × 64 × 2 + 64 × 2,
    // a 32-wide context, and 32 + 1 for the head.
    expect(model.store.count).toBe(5 * (33 * 128 * 2 + 256 + 64) + (80 * 64 * 2 + 128 + 32) + 33);
    // Every parameter from U(-0.1, 0.1), as the public train.py draws them.
    const values = model.store.initialValues(1).slice(0, model.store.count);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.1);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.09);
  });

  it('gives the gradient of the step’s BCE in every parameter, against float64 central differences', () => {
    const model = attentiveChromeModel({ bins: 4, marks: 3, hidden: [3, 2] });
    const { cp, data, order, init } = setup(model, 4);
    const exec = new CpuExecutor(cp.plan, 'f64');
    initialise(exec, cp, data, init);
    const lossAt = (params: Float64Array): number => {
      exec.write(PARAMS, params);
      exec.write(T.trainOrder, order);
      exec.write(T.trainCursor, [0]);
      exec.write(T.reportLoss, [0]);
      exec.run(1, 'train');
      return exec.read(T.reportLoss)[0] as number;
    };
    const theta = Float64Array.from(init);
    lossAt(theta);
    const grads = Float64Array.from(exec.read(GRADS));
    // About seven elements of each parameter, evenly spread (all of a small one).
    const spread = (size: number): number[] => {
      const step = Math.max(1, Math.floor(size / 7));
      return Array.from({ length: Math.ceil(size / step) }, (_, k) => k * step);
    };
    for (const { where, numeric, analytic } of parameterGradientPoints(model.store.parameters, theta, grads, lossAt, spread)) {
      expect(Math.abs(numeric - analytic), `${where}: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(1e-8 + 1e-5 * Math.abs(numeric));
    }
  });

  it('trains the same on GPU and CPU: three steps in one submit give the same parameters and loss', async () => {
    const model = attentiveChromeModel({ bins: 9, marks: 5, hidden: [6, 3] });
    const { cp, data, order, init } = setup(model, 5);
    const cpu = new CpuExecutor(cp.plan);
    const gpu = await GpuExecutor.create(await getGpu(), cp.plan);
    try {
      for (const e of [cpu, gpu]) {
        initialise(e, cp, data, init);
        e.write(T.trainOrder, order);
        e.write(T.trainCursor, [0]);
        e.write(T.reportLoss, [0]);
      }
      cpu.run(3, 'train');
      await gpu.run(3, 'train');
      const cpuParams = cpu.read(PARAMS);
      expect(maxRelError(await gpu.read(PARAMS), cpuParams)).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(await gpu.read(T.reportLoss), cpu.read(T.reportLoss))).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(cpuParams, init)).toBeGreaterThan(1e-3);
      expect(gpu.stats.submits).toBe(1);
    } finally {
      gpu.destroy();
    }
  });
});
