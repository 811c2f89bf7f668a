import { dropThreshold, dropoutBackward, dropoutForward, keepScale, requireDropRate } from '../cpu/dropout.ts';
import { requireSeed } from '../core/checks.ts';
import { type FloatArray, type Kernel, f32Slot, grid1d, requirePositiveInts, u32Slot, uniformBlock } from './kernel.ts';
import { MAX_RANDOM_ELEMENTS } from './rng.ts';

const WG = 256;

export interface DropoutParams {
  readonly n: number;
  /** Probability of dropping an element, in [0, 1). */
  readonly p: number;
  /** Give each dropout layer its own seed: equal seeds draw equal masks. */
  readonly seed: number;
}

/**
 * y = x·mask/(1 - p). Slots: x [n], step [1] (u32, read on the GPU), mask
 * [n] (u32 0/1, written, kept for the backward pass), y [n] (written). The
 * mask bits are the same on GPU and CPU.
 */
export function dropoutForwardKernel(p: DropoutParams): Kernel {
  const name = `dropout.forward(p=${p.p})`;
  requirePositiveInts(name, { n: p.n });
  requireDropRate(name, p.p);
  requireSeed(name, p.seed);
  if (p.n > MAX_RANDOM_ELEMENTS) throw new Error(`${name}: n must be at most 2^30, got ${p.n}`);
  const { n, seed } = p;
  const threshold = dropThreshold(p.p);
  const scale = keepScale(p.p);
  return {
    name,
    slots: {
      x: f32Slot([n], 'read'),
      step: u32Slot([1], 'read'),
      mask: u32Slot([n], 'read_write'),
      y: f32Slot([n], 'read_write'),
    },
    cpu: (t) =>
      dropoutForward(
        seed,
        threshold,
        scale,
        (t.step as Uint32Array)[0] as number,
        t.x as FloatArray,
        t.mask as Uint32Array,
        t.y as FloatArray,
      ),
    gpu: () => [
      {
        shader: 'dropout',
        entryPoint: 'forward',
        defines: { FORWARD: true },
        constants: { WG },
        bindings: ['x', 'step', 'mask', 'y'],
        uniforms: uniformBlock([
          ['u32', n],
          ['u32', seed],
          ['u32', threshold],
          ['f32', scale],
        ]),
        workgroups: grid1d(Math.ceil(n / 4), WG),
      },
    ],
  };
}

/** dx = dy·mask/(1 - p). Slots: dy [n], mask [n] (u32), dx [n] (written). */
export function dropoutBackwardKernel(p: { readonly n: number; readonly p: number }): Kernel {
  const name = `dropout.backward(p=${p.p})`;
  requirePositiveInts(name, { n: p.n });
  requireDropRate(name, p.p);
  const { n } = p;
  const scale = keepScale(p.p);
  return {
    name,
    slots: { dy: f32Slot([n], 'read'), mask: u32Slot([n], 'read'), dx: f32Slot([n], 'read_write') },
    cpu: (t) => dropoutBackward(scale, t.dy as FloatArray, t.mask as Uint32Array, t.dx as FloatArray),
    gpu: () => [
      {
        shader: 'dropout',
        entryPoint: 'backward',
        constants: { WG },
        bindings: ['dy', 'mask', 'dx'],
        uniforms: uniformBlock([
          ['u32', n],
          ['f32', scale],
        ]),
        workgroups: grid1d(n, WG),
      },
    ],
  };
}
