import { acquireGpu, type Gpu } from '../src/gpu/device.ts';
import type { HostArray, Kernel } from '../src/kernels/kernel.ts';
import type { GpuTarget } from '../src/kernels/gpuTarget.ts';
import { seededRandom, uniformArray } from '../src/util/random.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { type BothResults, maxRelError, runOnBoth, singleKernelPlan } from '../src/plan/singleKernel.ts';

// Shared by the kernel tests: one device per test file, seeded random inputs,
// a one-kernel plan run on both executors, error measures and a float64
// finite-difference gradient check. A GPU test never falls back to the CPU:
// with no adapter, getGpu() throws and the test fails.

let gpuPromise: Promise<Gpu> | undefined;

export function getGpu(): Promise<Gpu> {
  gpuPromise ??= acquireGpu({ log: () => {} });
  return gpuPromise;
}

/** Sizes that are not multiples of any tile or workgroup size. */
export const AWKWARD = [1, 37, 129] as const;

/** Seeded generators live in src so tests, self-check and training share them. */
export const rng = seededRandom;
export const randomArray = uniformArray;

export { maxRelError, type BothResults };

/** Runs one kernel on the test GPU and on the CPU twin; see runOnBoth. */
export async function runBoth(
  kernel: Kernel,
  inputs: Readonly<Record<string, ArrayLike<number>>>,
  target?: GpuTarget,
): Promise<BothResults> {
  return runOnBoth(await getGpu(), kernel, inputs, target);
}

/** Runs a kernel's CPU twin in float64 on the given inputs and returns every slot. */
export function runCpu64(kernel: Kernel, inputs: Readonly<Record<string, ArrayLike<number>>>): Record<string, HostArray> {
  const plan = singleKernelPlan(kernel);
  const exec = new CpuExecutor(plan, 'f64');
  for (const [slot, data] of Object.entries(inputs)) exec.write(slot, data);
  exec.run();
  const out: Record<string, HostArray> = {};
  for (const slot of Object.keys(kernel.slots)) out[slot] = exec.read(slot);
  return out;
}

/**
 * Central finite differences in float64 of the scalar L(inputs), with respect
 * to every element of `wrt` (or `maxElements` of them, evenly spread). Returns
 * the worst error of `analytic` against it, relative to the gradient's scale.
 */
export function finiteDifferenceError(
  loss: (inputs: Record<string, Float64Array>) => number,
  inputs: Readonly<Record<string, ArrayLike<number>>>,
  wrt: string,
  analytic: ArrayLike<number>,
  { h = 1e-6, maxElements = 400 }: { h?: number; maxElements?: number } = {},
): number {
  const copy: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(inputs)) copy[k] = Float64Array.from(v);
  const x = copy[wrt];
  if (!x) throw new Error(`finiteDifferenceError: no input "${wrt}"`);
  const step = Math.max(1, Math.floor(x.length / maxElements));
  const numeric: number[] = [];
  const picked: number[] = [];
  for (let i = 0; i < x.length; i += step) {
    const saved = x[i] as number;
    x[i] = saved + h;
    const up = loss(copy);
    x[i] = saved - h;
    const down = loss(copy);
    x[i] = saved;
    numeric.push((up - down) / (2 * h));
    picked.push(analytic[i] as number);
  }
  return maxRelError(picked, numeric);
}

/** Σ w_i · y_i: a scalar whose gradient with respect to y is w. */
export function dot(w: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += (w[i] as number) * (y[i] as number);
  return s;
}

/** The message `f` throws; fails the test when it throws nothing. */
export function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('did not throw');
}

/** A parameter's element, its float64 central difference of `lossAt` and the analytic gradient there. */
export interface ParameterGradientPoint {
  readonly where: string;
  readonly numeric: number;
  readonly analytic: number;
}

/** Central differences (step 1e-6) of `lossAt` over the flat parameters `theta`, at the elements `picks` chooses
 * in each parameter, beside the analytic `grads` of the same flat layout. */
export function parameterGradientPoints(
  parameters: readonly { readonly name: string; readonly offset: number; readonly size: number }[],
  theta: Float64Array,
  grads: ArrayLike<number>,
  lossAt: (params: Float64Array) => number,
  picks: (size: number) => readonly number[],
): ParameterGradientPoint[] {
  const h = 1e-6;
  const points: ParameterGradientPoint[] = [];
  for (const p of parameters) {
    for (const i of picks(p.size)) {
      const at = p.offset + i;
      const plus = Float64Array.from(theta);
      const minus = Float64Array.from(theta);
      plus[at] = (theta[at] as number) + h;
      minus[at] = (theta[at] as number) - h;
      points.push({ where: `${p.name}[${i}]`, numeric: (lossAt(plus) - lossAt(minus)) / (2 * h), analytic: grads[at] as number });
    }
  }
  return points;
}
