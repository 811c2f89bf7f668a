import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { gatherRowsKernel } from './gather.ts';

export const gatherFamily: KernelFamily = {
  name: 'gather',
  checks: (): KernelCheck[] => [
    {
      kernel: gatherRowsKernel({ rows: 37, rowSize: 500, batch: 64, indexLength: 37 }),
      inputs: { source: uniform(37 * 500, 20), order: Array.from({ length: 37 }, (_, i) => (i * 5) % 37), cursor: [3] },
      tolerance: 0,
    },
  ],
};
