import type { Activation } from '../core/activation.ts';
import type { Kernel, Shape } from '../kernels/kernel.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';
import type { Parameter, ParameterStore } from './parameters.ts';

/** The four kernels of a convolution-like op, all built from the same params. */
export interface ConvKernels<P> {
  readonly forward: (p: P) => Kernel;
  readonly backwardInput: (p: P) => Kernel;
  readonly backwardWeight: (p: P) => Kernel;
  readonly backwardBias: (p: P) => Kernel;
}

export interface ConvGeometry {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly weightShape: Shape;
  /** Fan-in of PyTorch's default initialisation for this op. */
  readonly fanIn: number;
}

/** A conv1d or transposed conv1d layer with fused bias and activation. The
 * backward kernels fold the activation's derivative in (they read y), and the
 * weight gradient's GEMM also yields the bias gradient, so a backward pass is
 * two calls: weight and bias gradients, and the input's. */
export class ConvLayer<P> implements Layer {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  private readonly weight: Parameter;
  private readonly bias: Parameter;

  constructor(
    store: ParameterStore,
    readonly name: string,
    geometry: ConvGeometry,
    readonly activation: Activation,
    private readonly kernels: ConvKernels<P>,
    private readonly params: (batch: number) => P,
  ) {
    this.inputShape = geometry.inputShape;
    this.outputShape = geometry.outputShape;
    this.weight = store.add(`${name}.weight`, geometry.weightShape, { kind: 'uniform', fanIn: geometry.fanIn });
    this.bias = store.add(`${name}.bias`, [geometry.outputShape[1] as number], { kind: 'uniform', fanIn: geometry.fanIn });
  }

  forward(ctx: BuildContext, input: string): string {
    const y = activationTensor(ctx, this.name, 'out', this.outputShape);
    ctx.plan.call(this.kernels.forward(this.params(ctx.batch)), { x: input, w: this.weight.value, bias: this.bias.value, y });
    ctx.saved.set(this.name, { x: input, y });
    return y;
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    const { x, y } = savedOf(ctx, this.name) as { x: string; y: string };
    const p = this.params(ctx.batch);
    const withY: Record<string, string> = this.activation.kind === 'none' ? {} : { y };
    const weightGrad = this.kernels.backwardWeight(p);
    // The bias gradient rides along in the weight gradient's GEMM where the geometry allows.
    if ('db' in weightGrad.slots) {
      ctx.plan.call(weightGrad, { x, dy: dOutput, ...withY, dw: this.weight.grad, db: this.bias.grad });
    } else {
      ctx.plan.call(weightGrad, { x, dy: dOutput, ...withY, dw: this.weight.grad });
      ctx.plan.call(this.kernels.backwardBias(p), { dy: dOutput, ...withY, db: this.bias.grad });
    }
    if (!needInputGrad) return undefined;
    const dx = activationTensor(ctx, this.name, 'dx', this.inputShape);
    ctx.plan.call(this.kernels.backwardInput(p), { dy: dOutput, w: this.weight.value, ...withY, dx });
    return dx;
  }
}
