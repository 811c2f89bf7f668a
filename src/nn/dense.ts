import type { Activation } from '../core/activation.ts';
import { bindMatmulGradient, matmulBackwardKernels, matmulKernel } from '../kernels/matmul.ts';
import type { Shape } from '../kernels/kernel.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';
import type { Init, Parameter, ParameterStore } from './parameters.ts';

/** y = act(x·W + b), x [batch, in], W [in, out]: one fused matmul forward;
 * backward is two matmuls (weight and bias gradients in one, the input's in
 * the other), each applying the activation's derivative as it loads dL/dy. */
export class Dense implements Layer {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  private readonly weight: Parameter;
  private readonly bias: Parameter;

  constructor(
    store: ParameterStore,
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly activation: Activation = { kind: 'none' },
    init: Init = { kind: 'uniform', fanIn: inFeatures },
  ) {
    this.inputShape = [inFeatures];
    this.outputShape = [outFeatures];
    this.weight = store.add(`${name}.weight`, [inFeatures, outFeatures], init);
    this.bias = store.add(`${name}.bias`, [outFeatures], init);
  }

  forward(ctx: BuildContext, input: string): string {
    const y = activationTensor(ctx, this.name, 'out', this.outputShape);
    ctx.plan.call(
      matmulKernel({ M: ctx.batch, N: this.outFeatures, K: this.inFeatures, bias: true, activation: this.activation }),
      { a: input, b: this.weight.value, bias: this.bias.value, c: y },
    );
    ctx.saved.set(this.name, { x: input, y });
    return y;
  }

  /** With `accumulateInto`, the input gradient is added to that tensor (a
   * layer input feeding two heads) instead of going to a new one. */
  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean, accumulateInto?: string): string | undefined {
    const { x, y } = savedOf(ctx, this.name) as { x: string; y: string };
    // dL/dy goes in as it is: both kernels gate it by act'(y) as they load it,
    // and the weight gradient's GEMM also yields the bias gradient.
    const grads = matmulBackwardKernels({
      M: ctx.batch,
      N: this.outFeatures,
      K: this.inFeatures,
      gate: this.activation,
      biasGrad: true,
      accumulateDA: accumulateInto !== undefined,
    });
    const forward = { A: x, B: this.weight.value, dC: dOutput };
    ctx.plan.call(grads.dB.kernel, bindMatmulGradient(grads.dB, forward, this.weight.grad, { gate: y, db: this.bias.grad }));
    if (!needInputGrad) return undefined;
    const dx = accumulateInto ?? activationTensor(ctx, this.name, 'dx', this.inputShape);
    ctx.plan.call(grads.dA.kernel, bindMatmulGradient(grads.dA, forward, dx, { gate: y }));
    return dx;
  }
}
