import type { Activation } from '../core/activation.ts';
import {
  type Conv1dPadding,
  type Conv1dParams,
  conv1dBackwardBiasKernel,
  conv1dBackwardInputKernel,
  conv1dBackwardWeightKernel,
  conv1dForwardKernel,
} from '../kernels/conv1d.ts';
import { ConvLayer } from './convLayer.ts';
import type { ParameterStore } from './parameters.ts';

/** Channels-last conv1d, stride 1, fused bias and activation: x [B, L, Cin] → y [B, Lout, Cout],
 * weight [K, Cin, Cout]. */
export class Conv1d extends ConvLayer<Conv1dParams> {
  constructor(
    store: ParameterStore,
    name: string,
    length: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    padding: Conv1dPadding,
    activation: Activation = { kind: 'none' },
  ) {
    const outLength = padding === 'same' ? length : length - kernelSize + 1;
    if (outLength < 1) throw new Error(`${name}: a 'valid' conv of kernel ${kernelSize} needs length >= ${kernelSize}, got ${length}`);
    super(
      store,
      name,
      {
        inputShape: [length, inChannels],
        outputShape: [outLength, outChannels],
        weightShape: [kernelSize, inChannels, outChannels],
        fanIn: inChannels * kernelSize,
      },
      activation,
      {
        forward: conv1dForwardKernel,
        backwardInput: conv1dBackwardInputKernel,
        backwardWeight: conv1dBackwardWeightKernel,
        backwardBias: conv1dBackwardBiasKernel,
      },
      (batch) => ({ batch, length, inChannels, outChannels, kernelSize, padding, bias: true, activation }),
    );
  }
}
