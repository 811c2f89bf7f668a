import { maxPool1dBackwardKernel, maxPool1dForwardKernel } from '../kernels/maxpool1d.ts';
import type { Shape } from '../kernels/kernel.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';

/** Non-overlapping max-pool over the length axis of [B, L, C]; the tail that fills no window is dropped. */
export class MaxPool1d implements Layer {
  readonly inputShape: Shape;
  readonly outputShape: Shape;

  constructor(
    readonly name: string,
    readonly length: number,
    readonly channels: number,
    readonly pool: number,
  ) {
    if (length < pool) throw new Error(`${name}: length ${length} is shorter than the pool window ${pool}`);
    this.inputShape = [length, channels];
    this.outputShape = [Math.floor(length / pool), channels];
  }

  forward(ctx: BuildContext, input: string): string {
    const sizes = { batch: ctx.batch, length: this.length, channels: this.channels, pool: this.pool };
    const y = activationTensor(ctx, this.name, 'out', this.outputShape);
    const argmax = ctx.plan.tensor(`${ctx.prefix}${this.name}.argmax`, [ctx.batch, ...this.outputShape], 'u32');
    ctx.plan.call(maxPool1dForwardKernel(sizes), { x: input, y, argmax });
    ctx.saved.set(this.name, { argmax });
    return y;
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    if (!needInputGrad) return undefined;
    const { argmax } = savedOf(ctx, this.name) as { argmax: string };
    const sizes = { batch: ctx.batch, length: this.length, channels: this.channels, pool: this.pool };
    const dx = activationTensor(ctx, this.name, 'dx', this.inputShape);
    ctx.plan.call(maxPool1dBackwardKernel(sizes), { dy: dOutput, argmax, dx });
    return dx;
  }
}
