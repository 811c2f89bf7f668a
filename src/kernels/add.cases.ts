import { uniformArray as uniform } from '../util/random.ts';
import { addKernel } from './add.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

// A single f32 addition rounds the same way everywhere: exact agreement.
export const addFamily: KernelFamily = {
  name: 'add',
  checks: (): KernelCheck[] => [1, 37, 129, 70_001].map((n) => ({ kernel: addKernel([n]), inputs: { a: uniform(n, 1), b: uniform(n, 2) }, tolerance: 0 })),
};
