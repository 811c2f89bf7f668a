import type { Activation } from '../cpu/activation.ts';
import { activationBackwardKernel } from '../kernels/activation.ts';
import { bindMatmulGradient, matmulBackwardKernels, matmulKernel } from '../kernels/matmul.ts';
import { sumRowsKernel } from '../kernels/reduce.ts';
import type { Shape } from '../kernels/kernel.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';
import type { Parameter, ParameterStore } from './parameters.ts';

/** y = act(x·W + b), x [batch, in], W [in, out]: one fused matmul forward;
 * backward is the activation's backward, two matmuls and a column sum. */
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
  ) {
    this.inputShape = [inFeatures];
    this.outputShape = [outFeatures];
    this.weight = store.add(`${name}.weight`, [inFeatures, outFeatures], { kind: 'uniform', fanIn: inFeatures });
    this.bias = store.add(`${name}.bias`, [outFeatures], { kind: 'uniform', fanIn: inFeatures });
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

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    const { x, y } = savedOf(ctx, this.name) as { x: string; y: string };
    const B = ctx.batch;
    let dz = dOutput;
    if (this.activation.kind !== 'none') {
      dz = activationTensor(ctx, this.name, 'dz', this.outputShape);
      ctx.plan.call(activationBackwardKernel(this.activation, [B, this.outFeatures]), { y, dy: dOutput, dx: dz });
    }
    const grads = matmulBackwardKernels({ M: B, N: this.outFeatures, K: this.inFeatures });
    const forward = { A: x, B: this.weight.value, dC: dz };
    ctx.plan.call(grads.dB.kernel, bindMatmulGradient(grads.dB, forward, this.weight.grad));
    ctx.plan.call(sumRowsKernel({ rows: B, cols: this.outFeatures }), { x: dz, out: this.bias.grad });
    if (!needInputGrad) return undefined;
    const dx = activationTensor(ctx, this.name, 'dx', this.inputShape);
    ctx.plan.call(grads.dA.kernel, bindMatmulGradient(grads.dA, forward, dx));
    return dx;
  }
}
