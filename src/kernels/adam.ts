import { type AdamOptions, adamHyper, adamStep } from '../cpu/adam.ts';
import { type FloatArray, type Kernel, f32Slot, grid1d, requirePositiveInts, u32Slot, uniformBlock } from './kernel.ts';

export type { AdamOptions };

const WG = 256;
/** Keeps every u32 index in the shader (plus one grid's overhang) from wrapping. */
const MAX_ELEMENTS = 2 ** 31;

function requireInRange(kernel: string, what: string, value: number, ok: boolean, range: string): void {
  if (!Number.isFinite(value) || !ok) throw new Error(`${kernel}: ${what} must be a finite number ${range}, got ${value}`);
}

/**
 * One Adam (or, with `decoupled`, AdamW) step over a flat buffer, PyTorch's
 * formulas. Slots: params [n] (updated), grads [n], m [n] and v [n] (moment
 * estimates, updated; start them at 0), step [1] u32: the 1-based step t used
 * for bias correction, read on the GPU (bump it with counterIncrementKernel
 * before this kernel; t = 0 would divide by zero).
 */
export function adamKernel(o: AdamOptions): Kernel {
  const name = `${o.decoupled ? 'adamw' : 'adam'}[n=${o.n}]`;
  requirePositiveInts(name, { n: o.n });
  const vec4 = o.n % 4 === 0;
  requireInRange(name, 'lr', o.lr, o.lr > 0, 'in (0, inf)');
  requireInRange(name, 'beta1', o.beta1, o.beta1 >= 0 && o.beta1 < 1, 'in [0, 1)');
  requireInRange(name, 'beta2', o.beta2, o.beta2 >= 0 && o.beta2 < 1, 'in [0, 1)');
  requireInRange(name, 'eps', o.eps, o.eps > 0, 'in (0, inf)');
  requireInRange(name, 'weightDecay', o.weightDecay, o.weightDecay >= 0, 'in [0, inf)');
  if (typeof o.decoupled !== 'boolean') throw new Error(`${name}: decoupled must be a boolean, got ${String(o.decoupled)}`);
  if (o.n > MAX_ELEMENTS) throw new Error(`${name}: n = ${o.n} is more than 2^31 elements`);
  const hyper = adamHyper(o);
  const shape = [o.n];
  return {
    name,
    slots: {
      params: f32Slot(shape, 'read_write'),
      grads: f32Slot(shape, 'read'),
      m: f32Slot(shape, 'read_write'),
      v: f32Slot(shape, 'read_write'),
      step: u32Slot([1], 'read'),
    },
    cpu: (t) =>
      adamStep(
        hyper,
        o.decoupled,
        t.params as FloatArray,
        t.grads as FloatArray,
        t.m as FloatArray,
        t.v as FloatArray,
        t.step as Uint32Array,
        o.stepOffset ?? 0,
      ),
    // Four parameters per invocation when they come in fours (the flat store's views are 64-aligned, so training always does).
    gpu: () => [
      {
        shader: 'adam',
        entryPoint: 'adam',
        defines: { DECOUPLED: o.decoupled, VEC4: vec4 },
        constants: { WG, STEP_OFFSET: o.stepOffset ?? 0 },
        bindings: ['params', 'grads', 'm', 'v', 'step'],
        uniforms: uniformBlock([
          ['u32', hyper.n],
          ['f32', hyper.lr],
          ['f32', hyper.beta1],
          ['f32', hyper.beta2],
          ['f32', hyper.oneMinusBeta1],
          ['f32', hyper.oneMinusBeta2],
          ['f32', hyper.logBeta1],
          ['f32', hyper.logBeta2],
          ['f32', hyper.eps],
          ['f32', hyper.weightDecay],
          ['f32', hyper.decay],
        ]),
        workgroups: grid1d(vec4 ? o.n / 4 : o.n, WG),
      },
    ],
  };
}
