import { dropoutBackwardKernel, dropoutForwardKernel } from '../kernels/dropout.ts';
import type { Shape } from '../kernels/kernel.ts';
import { elementCount } from '../kernels/kernel.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';

/** Inverted dropout with a Philox mask keyed by (seed, step, element); the identity
 * in prediction passes. `salt` keeps two dropout layers' masks independent. */
export class Dropout implements Layer {
  readonly outputShape: Shape;

  constructor(
    readonly name: string,
    readonly inputShape: Shape,
    readonly p: number,
    readonly salt: number,
  ) {
    this.outputShape = inputShape;
  }

  forward(ctx: BuildContext, input: string): string {
    if (!ctx.training || this.p === 0) return input;
    const n = ctx.batch * elementCount(this.inputShape);
    const flat = (t: string, what: string) => ctx.plan.view(`${ctx.prefix}${this.name}.${what}.flat`, t, 0, [n]);
    const y = activationTensor(ctx, this.name, 'out', this.outputShape);
    const mask = ctx.plan.tensor(`${ctx.prefix}${this.name}.mask`, [n], 'u32');
    ctx.plan.call(dropoutForwardKernel({ n, p: this.p, seed: (ctx.seed + this.salt) >>> 0 }), {
      x: flat(input, 'x'),
      step: ctx.step,
      mask,
      y: flat(y, 'y'),
    });
    ctx.saved.set(this.name, { mask });
    return y;
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    if (!needInputGrad) return undefined;
    if (!ctx.training || this.p === 0) return dOutput;
    const { mask } = savedOf(ctx, this.name) as { mask: string };
    const n = ctx.batch * elementCount(this.inputShape);
    const dx = activationTensor(ctx, this.name, 'dx', this.inputShape);
    ctx.plan.call(dropoutBackwardKernel({ n, p: this.p }), {
      dy: ctx.plan.view(`${ctx.prefix}${this.name}.dy.flat`, dOutput, 0, [n]),
      mask,
      dx: ctx.plan.view(`${ctx.prefix}${this.name}.dx.flat`, dx, 0, [n]),
    });
    return dx;
  }
}
