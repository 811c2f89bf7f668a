import { bceWithLogits } from '../cpu/bce.ts';
import { type FloatArray, type GpuDispatch, type Kernel, f32Slot, requirePositiveInts, uniformBlock } from './kernel.ts';
import { sumAllTiling, sumPartialsDispatch } from './reduce.ts';

const WG = 256;
/** Keeps `i += WG` in the shader from wrapping past 2^32. */
const MAX_ELEMENTS = 2 ** 31;

export interface BceOptions {
  readonly batch: number;
  /** Add the batch mean into loss[0] instead of overwriting it (epoch totals on the GPU). */
  readonly accumulate?: boolean;
}

/**
 * Binary cross-entropy with logits, stable for any |z|. Slots: logits [batch],
 * targets [batch] (0/1 as f32), loss [1] = mean over the batch (written, or
 * added to with `accumulate`), dlogits [batch] = (sigmoid(z) - y) / batch.
 */
export function bceWithLogitsKernel(opts: BceOptions): Kernel {
  const accumulate = opts.accumulate ?? false;
  const name = `bce_with_logits${accumulate ? '[accumulate]' : ''}`;
  const { batch } = opts;
  requirePositiveInts(name, { batch });
  if (batch > MAX_ELEMENTS) throw new Error(`${name}: batch ${batch} is more than 2^31 elements`);
  const { groups, chunk } = sumAllTiling(batch);
  const scale = 1 / batch;
  const fused = (final: boolean): GpuDispatch => ({
    shader: 'bce',
    entryPoint: 'bce_with_logits',
    defines: { FINAL: final, ACCUMULATE: final && accumulate },
    constants: { WG },
    bindings: ['logits', 'targets', 'dlogits', final ? 'loss' : 'partials'],
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
      logits: f32Slot([batch], 'read'),
      targets: f32Slot([batch], 'read'),
      loss: f32Slot([1], 'read_write'),
      dlogits: f32Slot([batch], 'read_write'),
    },
    ...(groups > 1 ? { scratch: { partials: { shape: [groups], dtype: 'f32' as const } } } : {}),
    cpu: (t) =>
      bceWithLogits(sizes, t.logits as FloatArray, t.targets as FloatArray, t.loss as FloatArray, t.dlogits as FloatArray),
    gpu: () =>
      groups === 1 ? [fused(true)] : [fused(false), sumPartialsDispatch('partials', 'loss', groups, scale, accumulate)],
  };
}
