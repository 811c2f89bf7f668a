import { acquireGpu, type Gpu } from '../src/gpu/device.ts';
import type { HostArray, Kernel } from '../src/kernels/kernel.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';

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

/** mulberry32: small, seeded, good enough for test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** max |a - b| / max |b|: error relative to the reference's scale, so that
 * outputs that happen to be near zero do not dominate. */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!Number.isFinite(a) || !Number.isFinite(e)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return scale === 0 ? diff : diff / scale;
}

export interface BothResults {
  readonly gpu: Record<string, HostArray>;
  readonly cpu: Record<string, HostArray>;
}

function singleKernelPlan(kernel: Kernel): Plan {
  const plan = new Plan();
  for (const [slot, spec] of Object.entries(kernel.slots)) plan.tensor(slot, spec.shape, spec.dtype);
  plan.call(kernel, Object.fromEntries(Object.keys(kernel.slots).map((s) => [s, s])));
  return plan;
}

/** Runs one kernel on both executors with the same inputs. Every slot not
 * given in `inputs` is poisoned with NaN (u32 slots with 0xFFFFFFFF) first,
 * so an output element the kernel forgets to write cannot pass. */
export async function runBoth(
  kernel: Kernel,
  inputs: Readonly<Record<string, ArrayLike<number>>>,
): Promise<BothResults> {
  const plan = singleKernelPlan(kernel);
  const gpuExec = await GpuExecutor.create(await getGpu(), plan);
  const cpuExec = new CpuExecutor(plan);
  try {
    for (const [slot, spec] of Object.entries(kernel.slots)) {
      const size = plan.get(slot).size;
      const data = inputs[slot] ?? new Array<number>(size).fill(spec.dtype === 'u32' ? 0xffffffff : Number.NaN);
      gpuExec.write(slot, data);
      cpuExec.write(slot, data);
    }
    cpuExec.run();
    await gpuExec.run();
    const gpu: Record<string, HostArray> = {};
    const cpu: Record<string, HostArray> = {};
    for (const slot of Object.keys(kernel.slots)) {
      gpu[slot] = await gpuExec.read(slot);
      cpu[slot] = cpuExec.read(slot);
    }
    return { gpu, cpu };
  } finally {
    gpuExec.destroy();
  }
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
