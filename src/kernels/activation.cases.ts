import { uniformArray as uniform } from '../util/random.ts';
import { activationBackwardKernel, activationForwardKernel } from './activation.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

export const activationFamily: KernelFamily = {
  name: 'activation',
  checks: (): KernelCheck[] => [
    { kernel: activationForwardKernel({ kind: 'softplus' }, [129]), inputs: { x: uniform(129, 1, -20, 20) }, tolerance: 1e-4 },
    { kernel: activationBackwardKernel({ kind: 'leaky_relu', alpha: 0.5 }, [129]), inputs: { y: uniform(129, 2), dy: uniform(129, 3) }, tolerance: 1e-4 },
  ],
};
