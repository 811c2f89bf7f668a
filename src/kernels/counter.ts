import { counterIncrement } from '../cpu/counter.ts';
import { type Kernel, u32Slot } from './kernel.ts';

/** step [1] (u32) += 1, one invocation: bumps Adam's step (or an RNG counter) inside a plan. */
export function counterIncrementKernel(): Kernel {
  return {
    name: 'counter.increment',
    slots: { step: u32Slot([1], 'read_write') },
    cpu: (t) => counterIncrement(t.step as Uint32Array),
    gpu: () => [{ shader: 'counter', entryPoint: 'increment', bindings: ['step'], workgroups: [1, 1, 1] }],
  };
}
