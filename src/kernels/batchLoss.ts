import { type FloatArray, type GpuDispatch, type Kernel, f32Slot, requirePositiveInts, uniformBlock } from './kernel.ts';
import { sumAllTiling, sumPartialsDispatch } from './reduce.ts';

// The factory every per-element batch loss shares (BCE, MSE): slots
// `input` [batch], targets [batch], loss [1] (the batch mean, written or
// added to) and `gradient` [batch], and shaders/lib/batch_loss's reduction: one
// fused pass for a batch one workgroup covers, else partials and sum_all.

const WG = 256;
/** Keeps `i += WG` in the shader from wrapping past 2^32. */
const MAX_ELEMENTS = 2 ** 31;

export interface BatchLossOptions {
  readonly batch: number;
  /** Add the batch mean into loss[0] instead of overwriting it (epoch totals on the GPU). */
  readonly accumulate?: boolean;
}

export interface BatchLossFamily {
  /** The kernel's name, and the shader's entry point. */
  readonly entryPoint: string;
  readonly shader: string;
  /** Slot names of the per-element input and of its gradient. */
  readonly input: string;
  readonly gradient: string;
  readonly cpu: (s: { readonly batch: number; readonly accumulate: boolean }, input: FloatArray, targets: FloatArray, loss: FloatArray, gradient: FloatArray) => void;
}

export function batchLossKernel(family: BatchLossFamily, opts: BatchLossOptions): Kernel {
  const accumulate = opts.accumulate ?? false;
  const name = `${family.entryPoint}${accumulate ? '[accumulate]' : ''}`;
  const { batch } = opts;
  requirePositiveInts(name, { batch });
  if (batch > MAX_ELEMENTS) throw new Error(`${name}: batch ${batch} is more than 2^31 elements`);
  const { groups, chunk } = sumAllTiling(batch);
  const scale = 1 / batch;
  const fused = (final: boolean): GpuDispatch => ({
    shader: family.shader,
    entryPoint: family.entryPoint,
    defines: { FINAL: final, ACCUMULATE: final && accumulate },
    constants: { WG },
    bindings: [family.input, 'targets', family.gradient, final ? 'loss' : 'partials'],
    uniforms: uniformBlock([
      ['u32', batch],
      ['u32', chunk],
      ['f32', scale],
    ]),
    workgroups: [groups, 1, 1],
  });
  const sizes = { batch, accumulate };
  return {
    name,
    slots: {
      [family.input]: f32Slot([batch], 'read'),
      targets: f32Slot([batch], 'read'),
      loss: f32Slot([1], 'read_write'),
      [family.gradient]: f32Slot([batch], 'read_write'),
    },
    ...(groups > 1 ? { scratch: { partials: { shape: [groups], dtype: 'f32' as const } } } : {}),
    cpu: (t) =>
      family.cpu(sizes, t[family.input] as FloatArray, t.targets as FloatArray, t.loss as FloatArray, t[family.gradient] as FloatArray),
    gpu: () =>
      groups === 1 ? [fused(true)] : [fused(false), sumPartialsDispatch('partials', 'loss', groups, scale, accumulate)],
  };
}
