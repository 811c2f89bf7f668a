import { uniformArray } from '../util/random.ts';
import type { Kernel } from './kernel.ts';

// What a kernel family declares about itself, once, in src/kernels/<family>.cases.ts
// beside its factory <family>.ts: the instances that prove its GPU dispatches
// compute what its CPU twin computes, and the instances bench/kernels.ts
// times. families.ts lists every family; `--self-check`, the equivalence test
// (test/kernelFamilies.test.ts) and the kernel bench all read that one list.

/** One instance of a kernel run on both executors; every slot not in `inputs` is poisoned first. */
export interface KernelCheck {
  readonly kernel: Kernel;
  /** Inputs by slot; every other slot is poisoned (NaN, or 0xFFFFFFFF for u32). */
  readonly inputs: Readonly<Record<string, ArrayLike<number>>>;
  /** Bound on maxRelError over the kernel's written slots (0: bit for bit). */
  readonly tolerance: number;
}

/** What the bench asks of a family: the batch of the models' shapes, the largest square matmul to time, and
 * the VAE's flat parameter count (Adam's size; models/ computes it, which kernels/ cannot import). */
export interface BenchSizes {
  readonly batch: number;
  readonly maxSquare: number;
  readonly vaeParameters: number;
}

export type BenchInputs = Readonly<Record<string, Float32Array | Uint32Array>>;

/** One timed operation. Its napkin math: the FLOPs the maths needs and the fewest bytes it must move. */
export interface KernelBenchCase<Op> {
  readonly name: string;
  readonly shape: string;
  readonly flops: number;
  readonly bytes: number;
  /** Which rate says more: GFLOP/s for compute-bound work, GB/s for streaming work. */
  readonly bound: 'compute' | 'memory';
  /** The napkin math as printed. */
  readonly napkin: string;
  /** The kernel timed and its inputs. */
  build(): { readonly kernel: Kernel; readonly inputs: BenchInputs };
  /** The slot compared with another engine's result. */
  readonly output: string;
  /** The computation in words another engine can rebuild (bench/lib/kernelCases.ts: TF.js): the op and its parameters. */
  readonly op: Op;
}

export interface KernelFamily<Op = never> {
  /** The factory module's base name (src/kernels/<name>.ts); the bench's group. */
  readonly name: string;
  /** Small instances at awkward sizes (not multiples of any tile or workgroup). */
  checks(): readonly KernelCheck[];
  bench?(sizes: BenchSizes): readonly KernelBenchCase<Op>[];
}

/** Uniform random f32 for every f32 slot the kernel only reads, seeds counting up from `seed` in slot order. */
export function randomReadInputs(kernel: Kernel, seed: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  let s = seed;
  for (const [slot, spec] of Object.entries(kernel.slots)) {
    if (spec.access === 'read_write' || spec.dtype !== 'f32') continue;
    out[slot] = uniformArray(spec.shape.reduce((a, b) => a * b, 1), s++);
  }
  return out;
}

/** 1.5 G, 12.3 M, 4.0 k: the napkin's figures. */
export function mega(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : `${(n / 1e3).toFixed(1)} k`;
}

/** ' leaky(0.5)', ' relu', '' for none: a case's shape label. */
export function activationLabel(a: { readonly kind: string; readonly alpha?: number } | undefined): string {
  if (!a || a.kind === 'none') return '';
  return a.kind === 'leaky_relu' ? ` leaky(${a.alpha})` : ` ${a.kind}`;
}
