import { meanSquaredError } from '../cpu/mse.ts';
import { type FloatArray, type GpuDispatch, type Kernel, f32Slot, requirePositiveInts, uniformBlock } from './kernel.ts';
import { sumAllTiling, sumPartialsDispatch } from './reduce.ts';

const WG = 256;
/** Keeps `i += WG` in the shader from wrapping past 2^32. */
const MAX_ELEMENTS = 2 ** 31;

export interface MseOptions {
  readonly batch: number;
  /** Add the batch mean into loss[0] instead of overwriting it (epoch totals on the GPU). */
  readonly accumulate?: boolean;
}

/**
 * Mean squared error of a regression head. Slots: outputs [batch], targets
 * [batch], loss [1] = mean of (z - y)² over the batch (written, or added to
 * with `accumulate`), doutputs [batch] = 2·(z - y) / batch. The same slots and
 * reduction as bceWithLogitsKernel, so a plan swaps one for the other.
 */
export function meanSquaredErrorKernel(opts: MseOptions): Kernel {
  const accumulate = opts.accumulate ?? false;
  const name = `mean_squared_error${accumulate ? '[accumulate]' : ''}`;
  const { batch } = opts;
  requirePositiveInts(name, { batch });
  if (batch > MAX_ELEMENTS) throw new Error(`${name}: batch ${batch} is more than 2^31 elements`);
  const { groups, chunk } = sumAllTiling(batch);
  const scale = 1 / batch;
  const fused = (final: boolean): GpuDispatch => ({
    shader: 'mse',
    entryPoint: 'mean_squared_error',
    defines: { FINAL: final, ACCUMULATE: final && accumulate },
    constants: { WG },
    bindings: ['outputs', 'targets', 'doutputs', final ? 'loss' : 'partials'],
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
      outputs: f32Slot([batch], 'read'),
      targets: f32Slot([batch], 'read'),
      loss: f32Slot([1], 'read_write'),
      doutputs: f32Slot([batch], 'read_write'),
    },
    ...(groups > 1 ? { scratch: { partials: { shape: [groups], dtype: 'f32' as const } } } : {}),
    cpu: (t) =>
      meanSquaredError(sizes, t.outputs as FloatArray, t.targets as FloatArray, t.loss as FloatArray, t.doutputs as FloatArray),
    gpu: () =>
      groups === 1 ? [fused(true)] : [fused(false), sumPartialsDispatch('partials', 'loss', groups, scale, accumulate)],
  };
}
