import { add } from '../cpu/add.ts';
import { type FloatArray, type Kernel, type Shape, elementCount, f32Slot, grid1d, uniformBlock } from './kernel.ts';

const WG = 256;

/** c = a + b over any shape. */
export function addKernel(shape: Shape): Kernel {
  const n = elementCount(shape);
  if (!Number.isInteger(n) || n < 1) throw new Error(`add: shape must have at least one element`);
  return {
    name: 'add',
    slots: { a: f32Slot(shape, 'read'), b: f32Slot(shape, 'read'), c: f32Slot(shape, 'read_write') },
    cpu: (t) => add(n, t.a as FloatArray, t.b as FloatArray, t.c as FloatArray),
    gpu: () => [
      {
        shader: 'add',
        entryPoint: 'add',
        constants: { WG },
        bindings: ['a', 'b', 'c'],
        uniforms: uniformBlock([['u32', n]]),
        workgroups: grid1d(n, WG),
      },
    ],
  };
}
