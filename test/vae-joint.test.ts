import { describe, expect, it } from 'vitest';
import type { SigmaParam } from '../src/cpu/reparam.ts';
import { jointModel } from '../src/models/vaeJoint.ts';
import { vaeModel } from '../src/models/vae.ts';
import { GRADS, PARAMS } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import type { Executor } from '../src/plan/executor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { T } from '../src/train/classifierPlan.ts';
import { JOINT_ELBO, buildJointPlan, jointEpochOrder } from '../src/train/jointPlan.ts';
import { initialise } from '../src/train/trainClassifier.ts';
import { seededRandom } from '../src/util/random.ts';
import { getGpu, maxRelError, parameterGradientPoints, randomArray } from './helpers.ts';

// vae-joint's train step: one gather of labeled + unlabeled rows, the ELBO
// over all of them (weighted by λ), BCE on the labeled ones through the head,
// both gradients meeting in dMu before one encoder backward, one Adam step.

const VAE = { bins: 7, marks: 5, latent: 3, channels: [4, 6] as const, kernelSize: 3 };
const GENES = 30;
const LABELED = Uint32Array.from({ length: 10 }, (_, i) => i);
const UNLABELED = Uint32Array.from({ length: 24 }, (_, i) => i);
const SIZES = { batch: 4, unlabeledBatch: 5, steps: 3 };
const LAMBDA = 2.5;

function tinyJoint(sigma: SigmaParam, jointWeight = LAMBDA) {
  const jm = jointModel(VAE, [5]);
  const cp = buildJointPlan(jm, {
    genes: GENES,
    batch: SIZES.batch,
    predictBatch: 8,
    trainOrderLength: SIZES.steps * (SIZES.batch + SIZES.unlabeledBatch),
    optimizer: { lr: 1e-2 },
    seed: 3,
    unlabeledBatch: SIZES.unlabeledBatch,
    beta: 0.5,
    sigma,
    jointWeight,
  });
  const features = randomArray(GENES * 35, 21, -1, 1);
  const labels = Array.from({ length: GENES }, (_, g) => ((features[g * 35] as number) > 0 ? 1 : 0));
  const data = { features, labels, split: { train: LABELED, valid: Uint32Array.of(24, 25), test: Uint32Array.of(26, 27) } };
  const order = jointEpochOrder(LABELED, UNLABELED, SIZES, seededRandom(1));
  return { jm, cp, data, order, init: jm.store.initialValues(4) };
}

function startEpoch(e: Executor, order: Uint32Array): void {
  e.write(T.trainOrder, order);
  e.write(T.trainCursor, [0]);
  e.write(T.reportLoss, [0]);
  e.write(JOINT_ELBO, [0, 0, 0]);
}

describe('the vae-joint step is the same plan on GPU and CPU', () => {
  it.each(['logvar', 'softplus'] as const)('three steps (sigma from %s) give the same BCE, ELBO and parameters', async (sigma) => {
    const { cp, data, order, init } = tinyJoint(sigma);
    const cpu = new CpuExecutor(cp.plan);
    const gpu = await GpuExecutor.create(await getGpu(), cp.plan);
    try {
      for (const e of [cpu, gpu]) {
        initialise(e, cp, data, init);
        startEpoch(e, order);
      }
      cpu.run(SIZES.steps, 'train');
      await gpu.run(SIZES.steps, 'train');
      const [cpuParams, gpuParams] = [cpu.read(PARAMS), await gpu.read(PARAMS)];
      expect(maxRelError(gpuParams, cpuParams)).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(await gpu.read(T.reportLoss), cpu.read(T.reportLoss))).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(await gpu.read(JOINT_ELBO), cpu.read(JOINT_ELBO))).toBeLessThanOrEqual(1e-4);
      // Three BCE means near ln 2 for a fresh head, and a positive ELBO.
      expect(cpu.read(T.reportLoss)[0] as number).toBeGreaterThan(3 * 0.3);
      expect(cpu.read(JOINT_ELBO)[0] as number).toBeGreaterThan(0);
      expect(maxRelError(cpuParams, init)).toBeGreaterThan(1e-3);
    } finally {
      gpu.destroy();
    }
  });
});

describe('the vae-joint gradient is the gradient of BCE + λ·ELBO', () => {
  it.each(['logvar', 'softplus'] as const)('against float64 central differences (sigma from %s), in encoder, decoder and head', (sigma) => {
    const { jm, cp, data, order, init } = tinyJoint(sigma);
    const exec = new CpuExecutor(cp.plan, 'f64');
    initialise(exec, cp, data, init);
    // One step from fixed parameters, the sampler's noise keyed on step 0 every time: a deterministic loss.
    const lossAt = (params: Float64Array): number => {
      exec.write(PARAMS, params);
      exec.write(T.step, [0]);
      startEpoch(exec, order);
      exec.run(1, 'train');
      return (exec.read(T.reportLoss)[0] as number) + LAMBDA * (exec.read(JOINT_ELBO)[0] as number);
    };
    const theta = Float64Array.from(init);
    lossAt(theta);
    const grads = Float64Array.from(exec.read(GRADS));
    const points = parameterGradientPoints(jm.store.parameters, theta, grads, lossAt, (size) => [0, Math.floor(size / 2), size - 1]);
    for (const { where, numeric, analytic } of points) {
      expect(Math.abs(numeric - analytic), `${where}: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(1e-6 + 1e-4 * Math.abs(numeric));
    }
    expect(points.length).toBe(3 * jm.store.parameters.length);
  });

  it('with λ = 0 the decoder gets no gradient and the encoder still gets the BCE one', () => {
    const { jm, cp, data, order, init } = tinyJoint('logvar', 0);
    const exec = new CpuExecutor(cp.plan);
    initialise(exec, cp, data, init);
    startEpoch(exec, order);
    exec.run(1, 'train');
    const grads = Array.from(exec.read(GRADS));
    const norm = (prefix: string) =>
      jm.store.parameters.filter((p) => p.name.startsWith(prefix)).reduce((s, p) => s + grads.slice(p.offset, p.offset + p.size).reduce((a, g) => a + g * g, 0), 0);
    expect(norm('dec.')).toBe(0);
    expect(norm('enc.logvar')).toBe(0);
    expect(norm('enc.conv1')).toBeGreaterThan(0);
    expect(norm('fc1')).toBeGreaterThan(0);
  });
});

describe('vae-joint parameter layout and epoch order', () => {
  it('the VAE occupies the front of the joint buffer exactly as a standalone VAE store', () => {
    const jm = jointModel(VAE, [5]);
    const alone = vaeModel(VAE);
    expect(jm.vaeTotal).toBe(alone.store.total);
    expect(jm.store.parameters.slice(0, alone.store.parameters.length).map((p) => [p.name, p.offset])).toEqual(
      alone.store.parameters.map((p) => [p.name, p.offset]),
    );
    expect(jm.store.parameters.slice(alone.store.parameters.length).map((p) => p.name)).toEqual(['fc1.weight', 'fc1.bias', 'out.weight', 'out.bias']);
    expect(jm.classifier.inputShape).toEqual([7, 5]);
  });

  it('each step takes `batch` labeled genes then `unlabeledBatch` from the pool; every labeled gene once an epoch', () => {
    const labeled = Uint32Array.from({ length: 12 }, (_, i) => 100 + i);
    const pool = Uint32Array.from({ length: 7 }, (_, i) => i);
    const order = jointEpochOrder(labeled, pool, { batch: 4, unlabeledBatch: 5, steps: 3 }, seededRandom(2));
    expect(order).toHaveLength(27);
    const l: number[] = [];
    for (let s = 0; s < 3; s++) {
      const step = Array.from(order.subarray(s * 9, (s + 1) * 9));
      expect(step.slice(0, 4).every((g) => g >= 100)).toBe(true);
      expect(step.slice(4).every((g) => g < 7)).toBe(true);
      l.push(...step.slice(0, 4));
    }
    expect(l.sort((a, b) => a - b)).toEqual(Array.from(labeled));
    // 15 unlabeled rows from a pool of 7: the shuffled pool, cycled.
    const u = Array.from({ length: 3 }, (_, s) => Array.from(order.subarray(s * 9 + 4, (s + 1) * 9))).flat();
    expect(new Set(u.slice(0, 7)).size).toBe(7);
  });

  it('refuses a training order that is not whole steps', () => {
    expect(() =>
      buildJointPlan(jointModel(VAE, [5]), {
        genes: GENES,
        batch: 4,
        predictBatch: 8,
        trainOrderLength: 20,
        optimizer: { lr: 1e-2 },
        seed: 3,
        unlabeledBatch: 5,
        beta: 0.5,
        sigma: 'logvar',
        jointWeight: 1,
      }),
    ).toThrow('vae-joint: training order of 20 is not whole steps of 9 rows');
  });
});
