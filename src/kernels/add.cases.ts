import { uniformArray as uniform } from '../util/random.ts';
import { addKernel } from './add.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

// A single f32 addition rounds the same way everywhere: exact agreement. The
// awkward sizes (one element, a partial workgroup, one past a multiple) and one
// past any workgroup multiple.
const SIZES = [1, 37, 129, 70_001] as const;
export const addFamily: KernelFamily = {
  name: 'add',
  checks: (): KernelCheck[] => SIZES.map((n, i) => ({ kernel: addKernel([n]), inputs: { a: uniform(n, 1 + 2 * i), b: uniform(n, 2 + 2 * i) }, tolerance: 0 })),
};
