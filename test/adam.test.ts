import { describe, expect, it } from 'vitest';
import { type AdamOptions, adamKernel } from '../src/kernels/adam.ts';
import { counterIncrementKernel } from '../src/kernels/counter.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { getGpu, maxRelError, randomArray, runBoth } from './helpers.ts';

function options(n: number, decoupled: boolean, over: Partial<AdamOptions> = {}): AdamOptions {
  return { n, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled, ...over };
}

/** A plan that does one training step's optimizer work: bump t, then Adam. */
function stepPlan(o: AdamOptions): Plan {
  const plan = new Plan();
  for (const name of ['params', 'grads', 'm', 'v']) plan.tensor(name, [o.n]);
  plan.tensor('step', [1], 'u32');
  plan.call(counterIncrementKernel(), { step: 'step' });
  plan.call(adamKernel(o), { params: 'params', grads: 'grads', m: 'm', v: 'v', step: 'step' });
  return plan;
}

/**
 * PyTorch's torch.optim.Adam / AdamW single-tensor step, transcribed in
 * float64 from its documented algorithm (independently of src/cpu/adam.ts).
 */
function torchReference(o: AdamOptions, p0: ArrayLike<number>, gradsPerStep: readonly ArrayLike<number>[]): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(o.n);
  const v = new Float64Array(o.n);
  gradsPerStep.forEach((grads, k) => {
    const step = k + 1;
    for (let i = 0; i < o.n; i++) {
      let grad = grads[i] as number;
      if (o.decoupled) p[i] = (p[i] as number) * (1 - o.lr * o.weightDecay);
      else grad = grad + o.weightDecay * (p[i] as number);
      m[i] = (m[i] as number) * o.beta1 + (1 - o.beta1) * grad;
      v[i] = (v[i] as number) * o.beta2 + (1 - o.beta2) * grad * grad;
      const biasCorrection1 = 1 - o.beta1 ** step;
      const biasCorrection2 = 1 - o.beta2 ** step;
      const stepSize = o.lr / biasCorrection1;
      const denom = Math.sqrt(v[i] as number) / Math.sqrt(biasCorrection2) + o.eps;
      p[i] = (p[i] as number) - stepSize * ((m[i] as number) / denom);
    }
  });
  return p;
}

function delta(after: ArrayLike<number>, before: ArrayLike<number>): number[] {
  return Array.from(after, (a, i) => a - (before[i] as number));
}

describe('adam, GPU against CPU for one step', () => {
  for (const decoupled of [false, true]) {
    // 128 and 70_000 take the four-at-a-time path (n a multiple of 4), the others the scalar one.
    for (const n of [1, 37, 128, 129, 70_000, 70_001]) {
      it(`${decoupled ? 'AdamW' : 'Adam'} n=${n}`, async () => {
        const params = randomArray(n, n, -1, 1);
        const grads = randomArray(n, n + 1, -0.1, 0.1);
        const m = randomArray(n, n + 2, -0.05, 0.05);
        const v = randomArray(n, n + 3, 0, 0.01);
        const r = await runBoth(adamKernel(options(n, decoupled)), { params, grads, m, v, step: [7] });
        for (const slot of ['params', 'm', 'v']) {
          expect(maxRelError(r.gpu[slot] as Float32Array, r.cpu[slot] as Float32Array)).toBeLessThanOrEqual(1e-4);
        }
        // The update itself, not just params (whose scale hides it), agrees too.
        expect(maxRelError(delta(r.gpu.params as Float32Array, params), delta(r.cpu.params as Float32Array, params))).toBeLessThanOrEqual(1e-4);
        expect(Array.from(r.gpu.step as Uint32Array)).toEqual([7]);
      });
    }
  }

  it('beta1 = 0 (no momentum) and weightDecay = 0', async () => {
    const n = 129;
    const params = randomArray(n, 1);
    const grads = randomArray(n, 2);
    const o = options(n, false, { beta1: 0, weightDecay: 0 });
    const r = await runBoth(adamKernel(o), { params, grads, m: new Float32Array(n), v: new Float32Array(n), step: [1] });
    expect(maxRelError(delta(r.gpu.params as Float32Array, params), delta(r.cpu.params as Float32Array, params))).toBeLessThanOrEqual(1e-4);
    // At t = 1 from zero moments, Adam moves every parameter by lr·g/(|g| + eps): lr·sign(g).
    for (let i = 0; i < n; i++) {
      expect((r.gpu.params as Float32Array)[i]).toBeCloseTo((params[i] as number) - o.lr * Math.sign(grads[i] as number), 5);
    }
  });
});

describe('adam against a float64 transcription of PyTorch', () => {
  for (const decoupled of [false, true]) {
    it(`${decoupled ? 'AdamW' : 'Adam'}, 3 steps with changing gradients, CPU (f64) and GPU`, async () => {
      const n = 37;
      const o = options(n, decoupled);
      const p0 = randomArray(n, 30, -1, 1);
      const grads = [randomArray(n, 31), randomArray(n, 32, -0.01, 0.01), randomArray(n, 33, -5, 5)];
      const expected = torchReference(o, p0, grads);

      const plan = stepPlan(o);
      const cpu = new CpuExecutor(plan, 'f64');
      const gpu = await GpuExecutor.create(await getGpu(), plan);
      try {
        for (const exec of [cpu, gpu]) {
          exec.write('params', p0);
          exec.write('m', new Float32Array(n));
          exec.write('v', new Float32Array(n));
          exec.write('step', [0]);
        }
        for (const g of grads) {
          cpu.write('grads', g);
          cpu.run();
          gpu.write('grads', g);
          await gpu.run();
        }
        expect(maxRelError(cpu.read('params'), expected)).toBeLessThanOrEqual(1e-12);
        const fromGpu = await gpu.read('params');
        expect(maxRelError(delta(fromGpu, p0), delta(expected, p0))).toBeLessThanOrEqual(1e-4);
        expect(Array.from(await gpu.read('step'))).toEqual([3]);
      } finally {
        gpu.destroy();
      }
    });
  }

  it('Adam and AdamW differ exactly by where the decay enters', () => {
    const n = 4;
    const p0 = [1, -1, 0.5, 2];
    const g = [[0.1, 0.2, -0.3, 0]];
    const adam = torchReference(options(n, false), p0, g);
    const adamw = torchReference(options(n, true), p0, g);
    // AdamW at t = 1: p(1 - lr·wd) - lr·sign(g); the zero gradient moves only by the decay.
    expect(adamw[3]).toBeCloseTo(2 * (1 - 1e-3), 12);
    // Adam folds wd·p into g: for the zero gradient that is a full lr step against p.
    expect(adam[3]).toBeCloseTo(2 - 1e-2, 6);
  });
});

describe('counterIncrement then adam, 5 steps in one submit', () => {
  for (const decoupled of [false, true]) {
    it(`${decoupled ? 'AdamW' : 'Adam'}: GPU run(5) against 5 CPU runs`, async () => {
      const n = 129;
      const o = options(n, decoupled);
      const plan = stepPlan(o);
      const cpu = new CpuExecutor(plan);
      const gpu = await GpuExecutor.create(await getGpu(), plan);
      try {
        const p0 = randomArray(n, 40);
        for (const exec of [cpu, gpu]) {
          exec.write('params', p0);
          exec.write('grads', randomArray(n, 41));
          exec.write('m', new Float32Array(n));
          exec.write('v', new Float32Array(n));
          exec.write('step', [0]);
        }
        await gpu.run(5);
        for (let i = 0; i < 5; i++) cpu.run();
        expect(Array.from(await gpu.read('step'))).toEqual([5]);
        expect(Array.from(cpu.read('step'))).toEqual([5]);
        const g = await gpu.read('params');
        expect(maxRelError(delta(g, p0), delta(cpu.read('params'), p0))).toBeLessThanOrEqual(1e-4);
        for (const slot of ['m', 'v']) expect(maxRelError(await gpu.read(slot), cpu.read(slot))).toBeLessThanOrEqual(1e-4);
        // Five steps, not one step repeated with t = 1: the bias corrections saw t = 1..5.
        const expected = torchReference(o, p0, new Array(5).fill(cpu.read('grads')) as Float32Array[]);
        expect(maxRelError(delta(g, p0), delta(expected, p0))).toBeLessThanOrEqual(1e-4);
        expect(gpu.stats.submits).toBe(1);
      } finally {
        gpu.destroy();
      }
    });
  }
});

describe('counterIncrement', () => {
  it('adds one per run, on both executors', async () => {
    const r = await runBoth(counterIncrementKernel(), { step: [41] });
    expect(Array.from(r.gpu.step as Uint32Array)).toEqual([42]);
    expect(Array.from(r.cpu.step as Uint32Array)).toEqual([42]);
  });
});

describe('adam with stepOffset 1, then one dispatch bumping step and cursor', () => {
  it('gives the same parameters as bumping the step first, and advances both counters', async () => {
    const n = 37;
    const o = options(n, false);
    const before = stepPlan(o);
    const after = new Plan();
    for (const [name, shape] of [['params', [n]], ['grads', [n]], ['m', [n]], ['v', [n]]] as const) after.tensor(name, shape);
    after.tensor('step', [1], 'u32');
    after.tensor('cursor', [1], 'u32');
    after.call(adamKernel({ ...o, stepOffset: 1 }), { params: 'params', grads: 'grads', m: 'm', v: 'v', step: 'step' });
    after.call(counterIncrementKernel(true), { step: 'step', cursor: 'cursor' });
    const a = await GpuExecutor.create(await getGpu(), before);
    const b = await GpuExecutor.create(await getGpu(), after);
    const c = new CpuExecutor(after);
    try {
      const p0 = randomArray(n, 50);
      const g0 = randomArray(n, 51);
      for (const exec of [a, b, c]) {
        exec.write('params', p0);
        exec.write('grads', g0);
        exec.write('m', new Float32Array(n));
        exec.write('v', new Float32Array(n));
        exec.write('step', [0]);
      }
      b.write('cursor', [7]);
      c.write('cursor', [7]);
      await a.run(3);
      await b.run(3);
      for (let i = 0; i < 3; i++) c.run();
      expect(Array.from(await b.read('params'))).toEqual(Array.from(await a.read('params')));
      expect(maxRelError(delta(c.read('params'), p0), delta(await b.read('params'), p0))).toBeLessThanOrEqual(1e-4);
      expect(Array.from(await b.read('step'))).toEqual([3]);
      expect(Array.from(await b.read('cursor'))).toEqual([10]);
      expect(Array.from(c.read('cursor'))).toEqual([10]);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

describe('adam rejects bad parameters', () => {
  const bad: readonly (readonly [Partial<AdamOptions>, string])[] = [
    [{ n: 0 }, 'adam[n=0]: n must be a positive integer, got 0'],
    [{ lr: 0 }, 'adam[n=8]: lr must be a finite number in (0, inf), got 0'],
    [{ lr: Number.NaN }, 'adam[n=8]: lr must be a finite number in (0, inf), got NaN'],
    [{ beta1: 1 }, 'adam[n=8]: beta1 must be a finite number in [0, 1), got 1'],
    [{ beta2: -0.1 }, 'adam[n=8]: beta2 must be a finite number in [0, 1), got -0.1'],
    [{ eps: 0 }, 'adam[n=8]: eps must be a finite number in (0, inf), got 0'],
    [{ eps: Number.POSITIVE_INFINITY }, 'adam[n=8]: eps must be a finite number in (0, inf), got Infinity'],
    [{ weightDecay: -1 }, 'adam[n=8]: weightDecay must be a finite number in [0, inf), got -1'],
  ];
  for (const [over, message] of bad) {
    it(message, () => {
      expect(() => adamKernel(options(8, false, over))).toThrow(message);
    });
  }

  it('names AdamW as such', () => {
    expect(() => adamKernel(options(8, true, { beta2: 1.5 }))).toThrow(
      'adamw[n=8]: beta2 must be a finite number in [0, 1), got 1.5',
    );
  });

  it('a plan rejects a wrong-shaped or wrong-typed tensor, naming it and both shapes', () => {
    const plan = new Plan();
    plan.tensor('p', [100]);
    plan.tensor('g', [101]);
    plan.tensor('m', [100]);
    plan.tensor('v', [100]);
    plan.tensor('t', [1], 'u32');
    plan.tensor('g_ok', [100]);
    plan.tensor('t_f32', [1]);
    const k = adamKernel(options(100, true));
    expect(() => plan.call(k, { params: 'p', grads: 'g', m: 'm', v: 'v', step: 't' })).toThrow(
      'adamw[n=100]: tensor "g" (slot "grads") has shape [101], the kernel expects [100]',
    );
    expect(() => plan.call(k, { params: 'p', grads: 'g_ok', m: 'm', v: 'v', step: 't_f32' })).toThrow(
      'adamw[n=100]: tensor "t_f32" (slot "step") is f32, the kernel expects u32',
    );
  });
});
