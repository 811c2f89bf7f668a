import { acquireGpu } from '../src/gpu/device.ts';
import { forcedTarget } from '../src/kernels/gemm.ts';
import * as C from '../src/kernels/conv1d.ts';
import { runOnBoth, maxRelError } from '../src/plan/singleKernel.ts';
import { uniformArray } from '../src/util/random.ts';
import { elementCount } from '../src/kernels/kernel.ts';
const gpu = await acquireGpu({ log: () => {} });
const p = { batch: 3, length: 37, inChannels: 5, outChannels: 7, kernelSize: 4, padding: 'same', bias: true, activation: { kind: 'leaky_relu', alpha: 0.1 } } as const;
const v = (process.argv[2] ?? 'register4x4') as never;
for (const [name, k] of [['fwd', C.conv1dForwardKernel(p)], ['dx', C.conv1dBackwardInputKernel(p)], ['dw', C.conv1dBackwardWeightKernel(p)]] as const) {
  const inputs: Record<string, Float32Array> = {};
  let s = 1;
  for (const [slot, spec] of Object.entries(k.slots)) if (spec.access === 'read') inputs[slot] = uniformArray(elementCount(spec.shape), s++);
  console.log(name, 'start');
  const r = await runOnBoth(gpu, k, inputs, forcedTarget(v));
  for (const slot of Object.keys(k.slots)) if (k.slots[slot]?.access === 'read_write') console.log(name, slot, maxRelError(r.gpu[slot] as Float32Array, r.cpu[slot] as Float32Array));
}
