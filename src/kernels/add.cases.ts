import { uniformArray as uniform } from '../util/random.ts';
import { addKernel } from './add.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

// A single f32 addition rounds the same way everywhere: exact agreement. One
// size, past any workgroup multiple, so the self-check names add once.
export const addFamily: KernelFamily = {
  name: 'add',
  checks: (): KernelCheck[] => [{ kernel: addKernel([70_001]), inputs: { a: uniform(70_001, 1), b: uniform(70_001, 2) }, tolerance: 0 }],
};
