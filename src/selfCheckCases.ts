import { activationBackwardKernel, activationForwardKernel } from './kernels/activation.ts';
import type { SelfCheckCase } from './selfCheck.ts';
import { uniformArray as uniform } from './util/random.ts';

// One small instance of every kernel family, at awkward sizes.

export function selfCheckCases(): SelfCheckCase[] {
  const n = 129;
  return [
    { kernel: activationForwardKernel({ kind: 'softplus' }, [n]), inputs: { x: uniform(n, 1, -8, 8) }, tolerance: 1e-4 },
    {
      kernel: activationBackwardKernel({ kind: 'leaky_relu', alpha: 0.5 }, [n]),
      inputs: { y: uniform(n, 2), dy: uniform(n, 3) },
      tolerance: 1e-4,
    },
  ];
}
