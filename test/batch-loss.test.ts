import { describe, expect, it } from 'vitest';
import { bceWithLogitsKernel } from '../src/kernels/bce.ts';
import type { BatchLossOptions } from '../src/kernels/batchLoss.ts';
import type { Kernel } from '../src/kernels/kernel.ts';
import { meanSquaredErrorKernel } from '../src/kernels/mse.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { getGpu, maxRelError, randomArray, rng } from './helpers.ts';

// What BCE and MSE share through src/kernels/batchLoss.ts, checked for each:
// accumulation over many repetitions in one submit, and refused parameters.

interface Family {
  readonly name: string;
  readonly make: (o: BatchLossOptions) => Kernel;
  readonly input: string;
  readonly gradient: string;
  /** float64 mean loss, from the definition. */
  readonly reference: (z: ArrayLike<number>, y: ArrayLike<number>) => number;
  readonly targets: (n: number, seed: number) => Float32Array;
}

const logSigmoid = (u: number): number => (u >= 0 ? -Math.log1p(Math.exp(-u)) : u - Math.log1p(Math.exp(u)));
const mean = (n: number, f: (i: number) => number): number => {
  let s = 0;
  for (let i = 0; i < n; i++) s += f(i);
  return s / n;
};

const FAMILIES: readonly Family[] = [
  {
    name: 'bce_with_logits',
    make: bceWithLogitsKernel,
    input: 'logits',
    gradient: 'dlogits',
    reference: (z, y) => mean(z.length, (i) => -((y[i] as number) * logSigmoid(z[i] as number) + (1 - (y[i] as number)) * logSigmoid(-(z[i] as number)))),
    targets: (n, seed) => {
      const r = rng(seed);
      return Float32Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
    },
  },
  {
    name: 'mean_squared_error',
    make: meanSquaredErrorKernel,
    input: 'outputs',
    gradient: 'doutputs',
    reference: (z, y) => mean(z.length, (i) => ((z[i] as number) - (y[i] as number)) ** 2),
    targets: (n, seed) => randomArray(n, seed, 0, 5),
  },
];

for (const f of FAMILIES) {
  describe(`${f.name}: shared batch-loss behaviour`, () => {
    it('sums the per-step losses of many repetitions in one submit', async () => {
      const batch = 6400;
      const plan = new Plan();
      plan.tensor('z', [batch]);
      plan.tensor('y', [batch]);
      plan.tensor('epoch_loss', [1]);
      plan.tensor('dz', [batch]);
      plan.call(f.make({ batch, accumulate: true }), { [f.input]: 'z', targets: 'y', loss: 'epoch_loss', [f.gradient]: 'dz' });
      const gpu = await GpuExecutor.create(await getGpu(), plan);
      try {
        const z = randomArray(batch, 3, -4, 4);
        const y = f.targets(batch, 4);
        gpu.write('z', z);
        gpu.write('y', y);
        gpu.write('epoch_loss', [0]);
        await gpu.run(5);
        expect(maxRelError(await gpu.read('epoch_loss'), [5 * f.reference(z, y)])).toBeLessThanOrEqual(1e-4);
      } finally {
        gpu.destroy();
      }
    });

    it('refuses a batch that is not a positive integer, naming the kernel', () => {
      expect(() => f.make({ batch: 0 })).toThrow(`${f.name}: batch must be a positive integer, got 0`);
      expect(() => f.make({ batch: 2.5, accumulate: true })).toThrow(`${f.name}[accumulate]: batch must be a positive integer, got 2.5`);
    });

    it('a plan rejects a wrong-shaped tensor, naming it and both shapes', () => {
      const plan = new Plan();
      plan.tensor('z', [64, 1]);
      plan.tensor('y', [64]);
      plan.tensor('loss', [1]);
      plan.tensor('dz', [64]);
      expect(() => plan.call(f.make({ batch: 64 }), { [f.input]: 'z', targets: 'y', loss: 'loss', [f.gradient]: 'dz' })).toThrow(
        `${f.name}: tensor "z" (slot "${f.input}") has shape [64, 1], the kernel expects [64]`,
      );
    });
  });
}
