import { describe, expect, it } from 'vitest';
import { HEURISTIC_TARGET } from '../src/kernels/gemm.ts';
import { GRADS } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import type { Executor } from '../src/plan/executor.ts';
import type { Plan } from '../src/plan/plan.ts';
import { L } from '../src/train/linearObjectivePlan.ts';
import { type LinearFit, type LinearProblem, LinearSolver, type PenaltyFitter, searchPenalty } from '../src/train/linearFit.ts';
import type { Target } from '../src/train/target.ts';
import { seededRandom } from '../src/util/random.ts';
import { getGpu } from './helpers.ts';

// The convex solver of the linear models: the engine's objective and gradient, L-BFGS to the optimum, and
// the penalty search's choice of edge.

const f64 = async (plan: Plan): Promise<Executor> => new CpuExecutor(plan, 'f64');

/** genes × width standard normal features; labels from a logistic (or linear, for 'expression') model with noise. */
function synthetic(genes: number, width: number, target: Target, seed: number): LinearProblem {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const features = Float32Array.from({ length: genes * width }, normal);
  const truth = Array.from({ length: width }, (_, i) => (i % 3 === 0 ? 1 : -0.5) / Math.sqrt(width));
  const labels = Array.from({ length: genes }, (_, g) => {
    let z = 0.3;
    for (let i = 0; i < width; i++) z += (features[g * width + i] as number) * (truth[i] as number);
    return target === 'class' ? Number(random() < 1 / (1 + Math.exp(-2 * z))) : z + 0.3 * normal();
  });
  const all = Uint32Array.from({ length: genes }, (_, g) => g);
  const cut = Math.floor(genes * 0.7);
  return { features, width, labels, split: { train: all.subarray(0, cut), valid: all.subarray(cut) }, target };
}

/** Solves A x = b (A symmetric positive definite) by Gaussian elimination in float64. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i] as number]);
  for (let k = 0; k < n; k++) {
    const pk = M[k] as number[];
    for (let i = k + 1; i < n; i++) {
      const pi = M[i] as number[];
      const f = (pi[k] as number) / (pk[k] as number);
      for (let j = k; j <= n; j++) pi[j] = (pi[j] as number) - f * (pk[j] as number);
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    const pi = M[i] as number[];
    let s = pi[n] as number;
    for (let j = i + 1; j < n; j++) s -= (pi[j] as number) * (x[j] as number);
    x[i] = s / (pi[i] as number);
  }
  return x;
}

/** The training rows with a column of ones appended (the bias last, as θ = [w, b]). */
function design(p: LinearProblem): { X: number[][]; y: number[] } {
  const X = Array.from(p.split.train, (g) => [...Array.from(p.features.subarray(g * p.width, (g + 1) * p.width)), 1]);
  return { X, y: Array.from(p.split.train, (g) => p.labels[g] as number) };
}

/** Newton's method in float64 on mean BCE + λ/2·‖w‖² (bias free). */
function newtonLogistic(p: LinearProblem, l2: number): number[] {
  const { X, y } = design(p);
  const n = X.length;
  const d = p.width + 1;
  let theta = new Array<number>(d).fill(0);
  for (let it = 0; it < 50; it++) {
    const g = new Array<number>(d).fill(0);
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    X.forEach((x, r) => {
      const z = x.reduce((s, v, i) => s + v * (theta[i] as number), 0);
      const q = 1 / (1 + Math.exp(-z));
      for (let i = 0; i < d; i++) {
        g[i] = (g[i] as number) + ((q - (y[r] as number)) * (x[i] as number)) / n;
        const Hi = H[i] as number[];
        for (let j = 0; j < d; j++) Hi[j] = (Hi[j] as number) + (q * (1 - q) * (x[i] as number) * (x[j] as number)) / n;
      }
    });
    for (let i = 0; i < p.width; i++) {
      g[i] = (g[i] as number) + l2 * (theta[i] as number);
      (H[i] as number[])[i] = ((H[i] as number[])[i] as number) + l2;
    }
    const step = solve(H, g);
    theta = theta.map((t, i) => t - (step[i] as number));
    if (Math.max(...step.map(Math.abs)) < 1e-14) break;
  }
  return theta;
}

/** Ridge in closed form: the normal equations of mean (Xw + b − y)² + λ/2·‖w‖². */
function ridge(p: LinearProblem, l2: number): number[] {
  const { X, y } = design(p);
  const n = X.length;
  const d = p.width + 1;
  const A = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (2 / n) * X.reduce((s, x) => s + (x[i] as number) * (x[j] as number), 0) + (i === j && i < p.width ? l2 : 0)));
  const b = Array.from({ length: d }, (_, i) => (2 / n) * X.reduce((s, x, r) => s + (x[i] as number) * (y[r] as number), 0));
  return solve(A, b);
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('the linear solver', () => {
  it('converges to the float64 Newton optimum of L2 logistic regression', async () => {
    const p = synthetic(90, 6, 'class', 1);
    const solver = await LinearSolver.create(p, f64);
    for (const l2 of [0.1, 1e-3]) {
      const fit = await solver.fit(l2);
      expect(fit.converged).toBe(true);
      expect(fit.gradientNorm).toBeLessThanOrEqual(1e-5);
      expect(maxDiff(fit.theta, newtonLogistic(p, l2))).toBeLessThan(1e-4);
    }
  });

  it('fits ridge regression for the expression target (the closed-form solution)', async () => {
    const p = synthetic(80, 7, 'expression', 2);
    const solver = await LinearSolver.create(p, f64);
    for (const l2 of [0.5, 1e-4]) {
      const fit = await solver.fit(l2);
      expect(fit.converged).toBe(true);
      expect(maxDiff(fit.theta, ridge(p, l2))).toBeLessThan(1e-5);
    }
  });

  for (const target of ['class', 'expression'] as const) {
    it(`takes the gradient the plan computes, plus λ·w, which float64 finite differences agree with (${target})`, async () => {
      const p = synthetic(23, 9, target, 3);
      const solver = await LinearSolver.create(p, f64);
      const random = seededRandom(4);
      const theta = Float64Array.from({ length: solver.size }, () => random() - 0.5);
      const l2 = 0.3;
      const { gradient } = await solver.evaluate(theta, l2);
      const h = 1e-6;
      for (let i = 0; i < solver.size; i++) {
        const up = Float64Array.from(theta);
        const down = Float64Array.from(theta);
        up[i] = (up[i] as number) + h;
        down[i] = (down[i] as number) - h;
        const fd = ((await solver.evaluate(up, l2)).value - (await solver.evaluate(down, l2)).value) / (2 * h);
        expect(Math.abs(fd - (gradient[i] as number)), `parameter ${i}`).toBeLessThan(1e-7);
      }
    });
  }

  it('fits the same model on the GPU as on the CPU (37 genes, 129 features, outputs poisoned first)', async () => {
    const gpu = await getGpu();
    const p = { ...synthetic(53, 129, 'class', 5), split: { train: Uint32Array.from({ length: 37 }, (_, g) => g), valid: Uint32Array.from({ length: 16 }, (_, g) => 37 + g) } };
    const poisoned = (exec: Executor) => {
      exec.write(GRADS, new Float32Array(exec.plan.get(GRADS).size).fill(Number.NaN));
      exec.write(L.loss, [Number.NaN]);
      return exec;
    };
    const cpu = await LinearSolver.create(p, async (plan) => poisoned(new CpuExecutor(plan)));
    const onGpu = await LinearSolver.create(p, async (plan) => poisoned(await GpuExecutor.create(gpu, plan, HEURISTIC_TARGET)));
    try {
      const a = await cpu.fit(0.05);
      const b = await onGpu.fit(0.05);
      expect(a.converged && b.converged).toBe(true);
      const scale = Math.max(...Array.from(a.theta, Math.abs));
      expect(maxDiff(a.theta, b.theta) / scale).toBeLessThan(1e-3);
      expect(Math.abs(a.objective - b.objective)).toBeLessThan(1e-6);
    } finally {
      onGpu.destroy();
    }
  });
});

/** A stand-in solver whose validation score is a given function of the penalty. */
function fakeFitter(score: (l2: number) => number): PenaltyFitter & { tried: number[] } {
  const tried: number[] = [];
  return {
    tried,
    fit: async (l2) => {
      tried.push(l2);
      const fit: LinearFit = { l2, params: new Float32Array(64), iterations: 1, evaluations: 2, gradientNorm: 0, converged: true, stop: 'gradient', objective: 0, valid: { auroc: score(l2), aupr: 0, accuracy: 0, loss: 0 }, trace: [], seconds: 0 };
      return { ...fit, theta: new Float64Array(2) };
    },
  };
}

describe('the penalty search', () => {
  const grid = { values: [1e-2, 1, 1e-1], extendLow: [1e-3, 1e-4], extendHigh: [10, 100] };

  it('fits strongest first and keeps an inner best without extending the grid', async () => {
    const f = fakeFitter((l2) => -Math.abs(Math.log10(l2) + 1));
    const r = await searchPenalty(f, grid);
    expect(f.tried).toEqual([1, 1e-1, 1e-2]);
    expect(r.best.l2).toBe(1e-1);
    expect(r.penaltyAtEdge).toBeUndefined();
    expect(r.records.map((x) => x.l2)).toEqual([1, 1e-1, 1e-2]);
  });

  it('extends the grid past the weak end until the best is inside it', async () => {
    const f = fakeFitter((l2) => -Math.abs(Math.log10(l2) + 3));
    const r = await searchPenalty(f, grid);
    expect(f.tried).toEqual([1, 1e-1, 1e-2, 1e-3, 1e-4]);
    expect(r.best.l2).toBe(1e-3);
    expect(r.penaltyAtEdge).toBeUndefined();
  });

  it("reports 'low' when the weakest penalty of the extended grid is still the best", async () => {
    const r = await searchPenalty(fakeFitter((l2) => -l2), grid);
    expect(r.best.l2).toBe(1e-4);
    expect(r.penaltyAtEdge).toBe('low');
  });

  it("gives ties to the stronger penalty, and reports 'high' when that is the strongest tried", async () => {
    const f = fakeFitter(() => 0.8);
    const r = await searchPenalty(f, grid);
    expect(f.tried).toEqual([1, 1e-1, 1e-2, 10, 100]);
    expect(r.best.l2).toBe(100);
    expect(r.penaltyAtEdge).toBe('high');
    expect(r.records.map((x) => x.l2)).toEqual([100, 10, 1, 1e-1, 1e-2]);
  });
});
