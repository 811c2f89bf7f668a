import { counterIncrementKernel } from './counter.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

export const counterFamily: KernelFamily = {
  name: 'counter',
  checks: (): KernelCheck[] => [
    { kernel: counterIncrementKernel(), inputs: { step: [41] }, tolerance: 0 },
    { kernel: counterIncrementKernel(true), inputs: { step: [41], cursor: [0xfffffffe] }, tolerance: 0 },
  ],
};
