import type { Shape } from '../kernels/kernel.ts';
import { elementCount, formatShape } from '../kernels/kernel.ts';
import type { BuildContext, Layer } from './layer.ts';

/** A new per-sample shape over the same storage (flatten, unflatten): a plan
 * view, so it costs no dispatch either way. */
export class Reshape implements Layer {
  constructor(
    readonly name: string,
    readonly inputShape: Shape,
    readonly outputShape: Shape,
  ) {
    if (elementCount(inputShape) !== elementCount(outputShape)) {
      throw new Error(`${name}: cannot reshape ${formatShape(inputShape)} to ${formatShape(outputShape)}`);
    }
  }

  forward(ctx: BuildContext, input: string): string {
    return ctx.plan.view(`${ctx.prefix}${this.name}.out`, input, 0, [ctx.batch, ...this.outputShape]);
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    if (!needInputGrad) return undefined;
    return ctx.plan.view(`${ctx.prefix}${this.name}.dx`, dOutput, 0, [ctx.batch, ...this.inputShape]);
  }
}
