import type { Activation } from '../cpu/activation.ts';
import {
  type ConvTranspose1dParams,
  convTranspose1dBackwardBiasKernel,
  convTranspose1dBackwardInputKernel,
  convTranspose1dBackwardWeightKernel,
  convTranspose1dForwardKernel,
} from '../kernels/conv1d.ts';
import type { Shape } from '../kernels/kernel.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';
import type { Parameter, ParameterStore } from './parameters.ts';

/** PyTorch's ConvTranspose1d (stride 1, integer padding), channels-last, fused bias and
 * activation: x [B, L, Cin] → y [B, L + K − 1 − 2·padding, Cout]. The VAE's decoder. */
export class ConvTranspose1d implements Layer {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  private readonly weight: Parameter;
  private readonly bias: Parameter;

  constructor(
    store: ParameterStore,
    readonly name: string,
    readonly length: number,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly padding: number,
    readonly activation: Activation = { kind: 'none' },
  ) {
    const outLength = length + kernelSize - 1 - 2 * padding;
    if (outLength < 1) throw new Error(`${name}: output length ${outLength} < 1`);
    this.inputShape = [length, inChannels];
    this.outputShape = [outLength, outChannels];
    // PyTorch computes ConvTranspose1d's fan-in from weight.size(1) · K = Cout · K.
    const fanIn = outChannels * kernelSize;
    this.weight = store.add(`${name}.weight`, [kernelSize, outChannels, inChannels], { kind: 'uniform', fanIn });
    this.bias = store.add(`${name}.bias`, [outChannels], { kind: 'uniform', fanIn });
  }

  private params(batch: number): ConvTranspose1dParams {
    return {
      batch,
      length: this.length,
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      padding: this.padding,
      bias: true,
      activation: this.activation,
    };
  }

  forward(ctx: BuildContext, input: string): string {
    const y = activationTensor(ctx, this.name, 'out', this.outputShape);
    ctx.plan.call(convTranspose1dForwardKernel(this.params(ctx.batch)), { x: input, w: this.weight.value, bias: this.bias.value, y });
    ctx.saved.set(this.name, { x: input, y });
    return y;
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    const { x, y } = savedOf(ctx, this.name) as { x: string; y: string };
    const p = this.params(ctx.batch);
    const withY: Record<string, string> = this.activation.kind === 'none' ? {} : { y };
    ctx.plan.call(convTranspose1dBackwardWeightKernel(p), { x, dy: dOutput, ...withY, dw: this.weight.grad });
    ctx.plan.call(convTranspose1dBackwardBiasKernel(p), { dy: dOutput, ...withY, db: this.bias.grad });
    if (!needInputGrad) return undefined;
    const dx = activationTensor(ctx, this.name, 'dx', this.inputShape);
    ctx.plan.call(convTranspose1dBackwardInputKernel(p), { dy: dOutput, w: this.weight.value, ...withY, dx });
    return dx;
  }
}
