import type { Activation } from '../core/activation.ts';
import {
  type ConvTranspose1dParams,
  convTranspose1dBackwardBiasKernel,
  convTranspose1dBackwardInputKernel,
  convTranspose1dBackwardWeightKernel,
  convTranspose1dForwardKernel,
} from '../kernels/conv1d.ts';
import { ConvLayer } from './convLayer.ts';
import type { ParameterStore } from './parameters.ts';

/** PyTorch's ConvTranspose1d (stride 1, integer padding), channels-last, fused bias and
 * activation: x [B, L, Cin] → y [B, L + K − 1 − 2·padding, Cout], weight [K, Cout, Cin].
 * The VAE's decoder. */
export class ConvTranspose1d extends ConvLayer<ConvTranspose1dParams> {
  constructor(
    store: ParameterStore,
    name: string,
    length: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    padding: number,
    activation: Activation = { kind: 'none' },
  ) {
    const outLength = length + kernelSize - 1 - 2 * padding;
    if (outLength < 1) throw new Error(`${name}: output length ${outLength} < 1`);
    super(
      store,
      name,
      {
        inputShape: [length, inChannels],
        outputShape: [outLength, outChannels],
        weightShape: [kernelSize, outChannels, inChannels],
        // PyTorch computes ConvTranspose1d's fan-in from weight.size(1) · K = Cout · K.
        fanIn: outChannels * kernelSize,
      },
      activation,
      {
        forward: convTranspose1dForwardKernel,
        backwardInput: convTranspose1dBackwardInputKernel,
        backwardWeight: convTranspose1dBackwardWeightKernel,
        backwardBias: convTranspose1dBackwardBiasKernel,
      },
      (batch) => ({ batch, length, inChannels, outChannels, kernelSize, padding, bias: true, activation }),
    );
  }
}
