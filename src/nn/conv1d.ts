import type { Activation } from '../cpu/activation.ts';
import {
  type Conv1dPadding,
  type Conv1dParams,
  conv1dBackwardBiasKernel,
  conv1dBackwardInputKernel,
  conv1dBackwardWeightKernel,
  conv1dForwardKernel,
} from '../kernels/conv1d.ts';
import type { Shape } from '../kernels/kernel.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';
import type { Parameter, ParameterStore } from './parameters.ts';

/** Channels-last conv1d, stride 1, fused bias and activation: x [B, L, Cin] → y [B, Lout, Cout].
 * The backward kernels fold the activation's derivative in (they read y). */
export class Conv1d implements Layer {
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
    readonly padding: Conv1dPadding,
    readonly activation: Activation = { kind: 'none' },
  ) {
    const outLength = padding === 'same' ? length : length - kernelSize + 1;
    if (outLength < 1) throw new Error(`${name}: a 'valid' conv of kernel ${kernelSize} needs length >= ${kernelSize}, got ${length}`);
    this.inputShape = [length, inChannels];
    this.outputShape = [outLength, outChannels];
    const fanIn = inChannels * kernelSize;
    this.weight = store.add(`${name}.weight`, [kernelSize, inChannels, outChannels], { kind: 'uniform', fanIn });
    this.bias = store.add(`${name}.bias`, [outChannels], { kind: 'uniform', fanIn });
  }

  private params(batch: number): Conv1dParams {
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
    ctx.plan.call(conv1dForwardKernel(this.params(ctx.batch)), { x: input, w: this.weight.value, bias: this.bias.value, y });
    ctx.saved.set(this.name, { x: input, y });
    return y;
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    const { x, y } = savedOf(ctx, this.name) as { x: string; y: string };
    const p = this.params(ctx.batch);
    const withY: Record<string, string> = this.activation.kind === 'none' ? {} : { y };
    ctx.plan.call(conv1dBackwardWeightKernel(p), { x, dy: dOutput, ...withY, dw: this.weight.grad });
    ctx.plan.call(conv1dBackwardBiasKernel(p), { dy: dOutput, ...withY, db: this.bias.grad });
    if (!needInputGrad) return undefined;
    const dx = activationTensor(ctx, this.name, 'dx', this.inputShape);
    ctx.plan.call(conv1dBackwardInputKernel(p), { dy: dOutput, w: this.weight.value, ...withY, dx });
    return dx;
  }
}
