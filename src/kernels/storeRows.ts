import { storeRows } from '../cpu/storeRows.ts';
import { type FloatArray, type Kernel, f32Slot, grid1d, requirePositiveInts, u32Slot, uniformBlock } from './kernel.ts';

const WG = 256;

export interface StoreRowsSizes {
  readonly batch: number;
  readonly rowSize: number;
  /** Rows of dest; a batch running past it is cut (the padded last batch). */
  readonly capacity: number;
}

/** dest [capacity, rowSize] rows cursor·batch … cursor·batch + batch − 1 = src [batch, rowSize];
 * cursor [1] (u32) is read on the GPU, so many batches can be recorded in one submit. */
export function storeRowsKernel(s: StoreRowsSizes): Kernel {
  requirePositiveInts('store_rows', { batch: s.batch, rowSize: s.rowSize, capacity: s.capacity });
  const n = s.batch * s.rowSize;
  return {
    name: 'store_rows',
    slots: {
      src: f32Slot([s.batch, s.rowSize], 'read'),
      cursor: u32Slot([1], 'read'),
      dest: f32Slot([s.capacity, s.rowSize], 'read_write'),
    },
    cpu: (t) => storeRows(s.batch, s.rowSize, s.capacity, t.src as FloatArray, t.cursor as Uint32Array, t.dest as FloatArray),
    gpu: () => [
      {
        shader: 'store_rows',
        entryPoint: 'store_rows',
        constants: { WG },
        bindings: ['src', 'cursor', 'dest'],
        uniforms: uniformBlock([
          ['u32', s.batch],
          ['u32', s.rowSize],
          ['u32', s.capacity],
        ]),
        workgroups: grid1d(n, WG),
      },
    ],
  };
}
