import type { AttentionPoolSizes } from '../cpu/attentionPool.ts';
import type { Shape } from '../kernels/kernel.ts';
import { attentionPoolBackwardKernel, attentionPoolContextGradKernel, attentionPoolForwardKernel } from '../kernels/attentionPool.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';
import type { Init, Parameter, ParameterStore } from './parameters.ts';

export type AttentionPoolShape = Omit<AttentionPoolSizes, 'batch'>;

/** Softmax attention pooling over steps with a learned context vector per group: input [T, G, D], output
 * [G, D]. The weights (alpha, [G, T] per sample) are kept under `<prefix><name>.alpha`: a gene's attention map. */
export class AttentionPool implements Layer {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  private readonly context: Parameter;

  constructor(
    store: ParameterStore,
    readonly name: string,
    readonly shape: AttentionPoolShape,
    init: Init,
  ) {
    this.inputShape = [shape.length, shape.groups, shape.width];
    this.outputShape = [shape.groups, shape.width];
    this.context = store.add(`${name}.context`, [shape.groups, shape.width], init);
  }

  private sizes(ctx: BuildContext): AttentionPoolSizes {
    return { ...this.shape, batch: ctx.batch };
  }

  forward(ctx: BuildContext, input: string): string {
    const pooled = activationTensor(ctx, this.name, 'out', this.outputShape);
    const alpha = activationTensor(ctx, this.name, 'alpha', [this.shape.groups, this.shape.length]);
    ctx.plan.call(attentionPoolForwardKernel(this.sizes(ctx)), { h: input, context: this.context.value, pooled, alpha });
    ctx.saved.set(this.name, { h: input, alpha });
    return pooled;
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    const s = this.sizes(ctx);
    const { h, alpha } = savedOf(ctx, this.name) as { h: string; alpha: string };
    const dh = activationTensor(ctx, this.name, 'dx', this.inputShape);
    const dscore = activationTensor(ctx, this.name, 'dscore', [s.groups, s.length]);
    // The context's gradient needs dscore, so the backward kernel runs whether or not dh is wanted.
    ctx.plan.call(attentionPoolBackwardKernel(s), { dpooled: dOutput, h, context: this.context.value, alpha, dh, dscore });
    ctx.plan.call(attentionPoolContextGradKernel(s), { h, dscore, dcontext: this.context.grad });
    return needInputGrad ? dh : undefined;
  }
}
