import { type Activation, activationCode } from '../core/activation.ts';
import { activationBackward, activationForward } from '../cpu/activation.ts';
import { type FloatArray, type Kernel, type Shape, elementCount, f32Slot, grid1d, uniformBlock } from './kernel.ts';

const WG = 256;

function label(act: Activation): string {
  return act.kind === 'leaky_relu' ? `leaky_relu(${act.alpha})` : act.kind;
}

/** y = act(x), elementwise over any shape. */
export function activationForwardKernel(act: Activation, shape: Shape): Kernel {
  const { code, alpha } = activationCode(act);
  const n = elementCount(shape);
  return {
    name: `activation.forward[${label(act)}]`,
    slots: { x: f32Slot(shape, 'read'), y: f32Slot(shape, 'read_write') },
    cpu: (t) => activationForward(act, t.x as FloatArray, t.y as FloatArray),
    gpu: () => [
      {
        shader: 'activation',
        entryPoint: 'forward',
        defines: { FORWARD: true },
        constants: { ACT: code, ALPHA: alpha, WG },
        bindings: ['x', 'y'],
        uniforms: uniformBlock([['u32', n]]),
        workgroups: grid1d(n, WG),
      },
    ],
  };
}

/** dx = dy * act'(x), with act' read off the forward output y. */
export function activationBackwardKernel(act: Activation, shape: Shape): Kernel {
  const { code, alpha } = activationCode(act);
  const n = elementCount(shape);
  return {
    name: `activation.backward[${label(act)}]`,
    slots: { y: f32Slot(shape, 'read'), dy: f32Slot(shape, 'read'), dx: f32Slot(shape, 'read_write') },
    cpu: (t) => activationBackward(act, t.y as FloatArray, t.dy as FloatArray, t.dx as FloatArray),
    gpu: () => [
      {
        shader: 'activation',
        entryPoint: 'backward',
        constants: { ACT: code, ALPHA: alpha, WG },
        bindings: ['y', 'dy', 'dx'],
        uniforms: uniformBlock([['u32', n]]),
        workgroups: grid1d(n, WG),
      },
    ],
  };
}
