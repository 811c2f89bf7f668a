import { counterIncrement } from '../cpu/counter.ts';
import { type Kernel, u32Slot } from './kernel.ts';

/** step [1] (u32) += 1, one invocation: bumps Adam's step (or an RNG counter)
 * inside a plan; with `alsoCursor`, cursor [1] += 1 in the same dispatch (the
 * end of a training step advances both). */
export function counterIncrementKernel(alsoCursor = false): Kernel {
  return {
    name: alsoCursor ? 'counter.increment[step,cursor]' : 'counter.increment',
    slots: alsoCursor ? { step: u32Slot([1], 'read_write'), cursor: u32Slot([1], 'read_write') } : { step: u32Slot([1], 'read_write') },
    cpu: (t) => {
      counterIncrement(t.step as Uint32Array);
      if (alsoCursor) counterIncrement(t.cursor as Uint32Array);
    },
    gpu: () => [
      {
        shader: 'counter',
        entryPoint: 'increment',
        defines: { ALSO_CURSOR: alsoCursor },
        bindings: alsoCursor ? ['step', 'cursor'] : ['step'],
        workgroups: [1, 1, 1],
      },
    ],
  };
}
