import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { storeRowsKernel } from './storeRows.ts';

export const storeRowsFamily: KernelFamily = {
  name: 'storeRows',
  checks: (): KernelCheck[] => [
    // dest starts as a known pattern: rows outside the batch must keep it.
    {
      kernel: storeRowsKernel({ batch: 37, rowSize: 5, capacity: 129 }),
      inputs: { src: uniform(37 * 5, 42), cursor: [3], dest: Float32Array.from({ length: 129 * 5 }, (_, i) => -i) },
      tolerance: 0,
    },
  ],
};
