import { describe, expect, it } from 'vitest';
import { m2Spec } from '../src/models/modelSpec.ts';
import { type M2Model, m2Model } from '../src/models/vaeM2.ts';
import { GRADS, PARAMS } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import type { Executor } from '../src/plan/executor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { T } from '../src/train/classifierPlan.ts';
import { type M2Plan, buildM2Plan, m2EpochOrders, m2Weights } from '../src/train/m2Plan.ts';
import { initialise } from '../src/train/trainClassifier.ts';
import { getGpu, maxRelError, randomArray } from './helpers.ts';

// vae-m2's whole training step as one plan: the same on both executors, its
// gradient (every parameter: decoder, heads, classifier head, trunk) the
// derivative of its loss, and blind to the labels of the unlabeled genes.

const GENES = 40;
const BINS = 7;
const MARKS = 5;
const labeledGenes = Uint32Array.from({ length: 9 }, (_, i) => i);
const unlabeledGenes = Uint32Array.from({ length: 21 }, (_, i) => 9 + i);

function tinyM2(): { model: M2Model; mp: M2Plan } {
  const spec = m2Spec(BINS, MARKS, 3);
  if (spec.architecture !== 'vae-m2') throw new Error('not m2');
  const model = m2Model({ ...spec, channels: [4, 6], kernelSize: 3, hidden: [5] });
  const B = 4;
  const U = 8;
  const steps = Math.ceil(unlabeledGenes.length / U);
  const weights = m2Weights({ labeledGenes: 9, unlabeledGenes: 21, labeledBatch: B, unlabeledBatch: U, features: BINS * MARKS, beta: 0.05 });
  const mp = buildM2Plan(model, {
    genes: GENES,
    batch: B,
    predictBatch: 16,
    trainOrderLength: steps * B,
    optimizer: { lr: 1e-2 },
    seed: 3,
    unlabeledBatch: U,
    steps,
    weights,
  });
  return { model, mp };
}

const features = randomArray(GENES * BINS * MARKS, 17, -1, 1);
const realLabels = Array.from({ length: GENES }, (_, g) => ((features[g * BINS * MARKS] as number) > 0 ? 1 : 0));
const split = { train: labeledGenes, valid: Uint32Array.from({ length: 10 }, (_, i) => 30 + i), test: Uint32Array.from({ length: 10 }, (_, i) => 30 + i) };

function start(e: Executor, mp: M2Plan, params: ArrayLike<number>, labels: ArrayLike<number>): void {
  initialise(e, mp, { features, labels, split }, Float32Array.from(params));
  // In full precision where the executor keeps it (the float64 gradient check perturbs below f32's resolution).
  e.write(PARAMS, params);
  const labeledOrder = Uint32Array.from({ length: mp.config.trainOrderLength }, (_, i) => labeledGenes[(i * 5) % labeledGenes.length] as number);
  e.write(T.trainOrder, labeledOrder);
  m2EpochOrders(mp, unlabeledGenes, 7)(e, 1, labeledOrder);
  e.write(T.trainCursor, [0]);
  e.write(T.reportLoss, [0]);
}

describe('vae-m2 training step', () => {
  it('three steps give the same parameters and loss on GPU and CPU', async () => {
    const { model, mp } = tinyM2();
    const init = model.store.initialValues(5);
    const cpu = new CpuExecutor(mp.plan);
    const gpu = await GpuExecutor.create(await getGpu(), mp.plan);
    try {
      for (const e of [cpu, gpu]) start(e, mp, init, realLabels);
      cpu.run(3, 'train');
      await gpu.run(3, 'train');
      const params = cpu.read(PARAMS);
      expect(maxRelError(await gpu.read(PARAMS), params)).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(await gpu.read(T.reportLoss), cpu.read(T.reportLoss))).toBeLessThanOrEqual(1e-4);
      // Every part of the model moved: decoder, q(z|x,y) heads, classifier head and the shared trunk.
      for (const p of model.store.parameters) {
        expect(maxRelError(params.subarray(p.offset, p.offset + p.size), init.subarray(p.offset, p.offset + p.size)), p.name).toBeGreaterThan(1e-4);
      }
      // Predict runs q(y|x) alone, the same on both.
      const order = Uint32Array.from({ length: GENES }, (_, g) => g);
      for (const e of [cpu, gpu]) {
        e.write(T.predictOrder, order);
        e.write(T.predictCursor, [0]);
      }
      cpu.run(Math.ceil(GENES / 16), 'predict');
      await gpu.run(Math.ceil(GENES / 16), 'predict');
      expect(maxRelError(await gpu.read(T.reportLogits), cpu.read(T.reportLogits))).toBeLessThanOrEqual(1e-4);
    } finally {
      gpu.destroy();
    }
  });

  it("never reads the unlabeled genes' labels: NaN there changes nothing", () => {
    const { model, mp } = tinyM2();
    const init = model.store.initialValues(5);
    const poisoned = realLabels.map((y, g) => (labeledGenes.includes(g) ? y : Number.NaN));
    const run = (labels: ArrayLike<number>) => {
      const e = new CpuExecutor(mp.plan);
      start(e, mp, init, labels);
      e.run(3, 'train');
      return { params: e.read(PARAMS), loss: e.read(T.reportLoss) };
    };
    const a = run(realLabels);
    const b = run(poisoned);
    expect(Number.isFinite(b.loss[0])).toBe(true);
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
  });

  it("one step's gradient of every parameter is the derivative of its loss (float64, central differences)", () => {
    const { model, mp } = tinyM2();
    const init = Float64Array.from(model.store.initialValues(5));
    const e = new CpuExecutor(mp.plan, 'f64');
    const lossAt = (params: Float64Array): number => {
      start(e, mp, params, realLabels);
      e.write(T.step, [0]);
      e.run(1, 'train');
      return e.read(T.reportLoss)[0] as number;
    };
    lossAt(init);
    const analytic = Float64Array.from(e.read(GRADS));
    const h = 1e-6;
    for (const p of model.store.parameters) {
      const picks = [0, Math.floor(p.size / 2), p.size - 1];
      const numeric: number[] = [];
      const got: number[] = [];
      for (const i of picks) {
        const at = p.offset + i;
        const up = Float64Array.from(init);
        up[at] = (init[at] as number) + h;
        const down = Float64Array.from(init);
        down[at] = (init[at] as number) - h;
        numeric.push((lossAt(up) - lossAt(down)) / (2 * h));
        got.push(analytic[at] as number);
      }
      expect(maxRelError(got, numeric), p.name).toBeLessThanOrEqual(1e-5);
    }
  });

  it("weights the step as Kingma's J^α / N: α = 0.1·N by default, labeled and unlabeled genes by their shares", () => {
    const w = m2Weights({ labeledGenes: 100, unlabeledGenes: 900, labeledBatch: 50, unlabeledBatch: 60, features: 105, beta: 0.01 });
    expect(w.labeledWeight).toBeCloseTo(100 / 1000 / 50, 15);
    expect(w.unlabeledWeight).toBeCloseTo(900 / 1000 / 60, 15);
    expect(w.classWeight).toBeCloseTo(0.1 / 50, 15);
    expect(w.reconWeight).toBeCloseTo(1 / (105 * 0.01), 12);
    expect(w.klWeight).toBe(1);
    expect(m2Weights({ labeledGenes: 100, unlabeledGenes: 900, labeledBatch: 50, unlabeledBatch: 60, features: 105, beta: 0.01, alpha: 5 }).classWeight).toBeCloseTo(5 / 1000 / 50, 15);
    expect(() => m2Weights({ labeledGenes: 1, unlabeledGenes: 1, labeledBatch: 1, unlabeledBatch: 1, features: 1, beta: 0 })).toThrow('vae-m2: --beta must be above 0 (it sets the likelihood\'s variance), got 0');
  });
});
