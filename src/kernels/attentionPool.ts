import {
  type AttentionPoolSizes,
  attentionPoolBackward,
  attentionPoolContextGrad,
  attentionPoolForward,
  validOf,
} from '../cpu/attentionPool.ts';
import { type FloatArray, type Kernel, MAX_WORKGROUPS_PER_DIM, f32Slot, grid1d, requirePositiveInts, uniformBlock } from './kernel.ts';

// Softmax attention pooling (layouts: src/cpu/attentionPool.ts). Forward is
// one dispatch (a workgroup per sequence: scores, softmax, weighted sum);
// backward is two: dh and the scores' gradient per sequence, then the context
// vector's gradient, a sum over the batch per group that no one workgroup
// holds (one invocation per element, no atomics, the same order as the twin).

const WG = 64;

function check(kernel: string, s: AttentionPoolSizes): void {
  requirePositiveInts(kernel, { batch: s.batch, length: s.length, groups: s.groups, width: s.width, valid: validOf(s) });
  if (validOf(s) > s.length) throw new Error(`${kernel}: ${validOf(s)} valid positions in a sequence of ${s.length}`);
  if (s.batch * s.groups > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${kernel}: ${s.batch} × ${s.groups} sequences are more than ${MAX_WORKGROUPS_PER_DIM}, the workgroups a dispatch has in one dimension`);
  }
}

function params(s: AttentionPoolSizes, total: number): ArrayBuffer {
  return uniformBlock([
    ['u32', s.batch],
    ['u32', s.length],
    ['u32', s.groups],
    ['u32', s.width],
    ['u32', validOf(s)],
    ['u32', total],
  ]);
}

const label = (s: AttentionPoolSizes): string => `T=${s.length}${validOf(s) < s.length ? `(${validOf(s)} valid)` : ''},G=${s.groups},D=${s.width}`;
const hShape = (s: AttentionPoolSizes): number[] => [s.batch, s.length, s.groups, s.width];
const weightsShape = (s: AttentionPoolSizes): number[] => [s.batch, s.groups, s.length];

/** h [B, T, G, D], context [G, D] → pooled [B, G, D] and alpha [B, G, T]. */
export function attentionPoolForwardKernel(s: AttentionPoolSizes): Kernel {
  const name = `attentionPool.forward[${label(s)}]`;
  check(name, s);
  return {
    name,
    slots: {
      h: f32Slot(hShape(s), 'read'),
      context: f32Slot([s.groups, s.width], 'read'),
      pooled: f32Slot([s.batch, s.groups, s.width], 'read_write'),
      alpha: f32Slot(weightsShape(s), 'read_write'),
    },
    cpu: (t) => attentionPoolForward(s, t.h as FloatArray, t.context as FloatArray, t.pooled as FloatArray, t.alpha as FloatArray),
    gpu: () => [
      {
        shader: 'attention_pool',
        entryPoint: 'forward',
        defines: { FORWARD: true },
        constants: { WG, LEN: s.length },
        bindings: ['h', 'context', 'pooled', 'alpha'],
        uniforms: params(s, 0),
        workgroups: [s.batch * s.groups, 1, 1],
      },
    ],
  };
}

/** dpooled, h, context, alpha → dh [B, T, G, D] and dscore [B, G, T]. */
export function attentionPoolBackwardKernel(s: AttentionPoolSizes): Kernel {
  const name = `attentionPool.backward[${label(s)}]`;
  check(name, s);
  return {
    name,
    slots: {
      dpooled: f32Slot([s.batch, s.groups, s.width], 'read'),
      h: f32Slot(hShape(s), 'read'),
      context: f32Slot([s.groups, s.width], 'read'),
      alpha: f32Slot(weightsShape(s), 'read'),
      dh: f32Slot(hShape(s), 'read_write'),
      dscore: f32Slot(weightsShape(s), 'read_write'),
    },
    cpu: (t) =>
      attentionPoolBackward(s, t.dpooled as FloatArray, t.h as FloatArray, t.context as FloatArray, t.alpha as FloatArray, t.dh as FloatArray, t.dscore as FloatArray),
    gpu: () => [
      {
        shader: 'attention_pool',
        entryPoint: 'backward',
        defines: { BACKWARD: true },
        constants: { WG, LEN: s.length },
        bindings: ['dpooled', 'h', 'context', 'alpha', 'dh', 'dscore'],
        uniforms: params(s, 0),
        workgroups: [s.batch * s.groups, 1, 1],
      },
    ],
  };
}

/** h, dscore → dcontext [G, D] (written, not added to). */
export function attentionPoolContextGradKernel(s: AttentionPoolSizes): Kernel {
  const name = `attentionPool.contextGrad[${label(s)}]`;
  check(name, s);
  const total = s.groups * s.width;
  return {
    name,
    slots: {
      h: f32Slot(hShape(s), 'read'),
      dscore: f32Slot(weightsShape(s), 'read'),
      dcontext: f32Slot([s.groups, s.width], 'read_write'),
    },
    cpu: (t) => attentionPoolContextGrad(s, t.h as FloatArray, t.dscore as FloatArray, t.dcontext as FloatArray),
    gpu: () => [
      {
        shader: 'attention_pool',
        entryPoint: 'context_grad',
        constants: { WG, LEN: s.length },
        bindings: ['h', 'dscore', 'dcontext'],
        uniforms: params(s, total),
        workgroups: grid1d(total, WG),
      },
    ],
  };
}
