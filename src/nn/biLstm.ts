import type { LstmSizes } from '../cpu/lstm.ts';
import type { Shape } from '../kernels/kernel.ts';
import { elementCount, formatShape } from '../kernels/kernel.ts';
import {
  lstmBackwardKernel,
  lstmBiasShape,
  lstmForwardKernel,
  lstmInputGradKernel,
  lstmWeightGradKernel,
  lstmWeightShape,
} from '../kernels/lstm.ts';
import { type BuildContext, type Layer, activationTensor, savedOf } from './layer.ts';
import type { Init, Parameter, ParameterStore } from './parameters.ts';

export type BiLstmShape = Omit<LstmSizes, 'batch'>;

/** A bidirectional LSTM over `groups` sequences per sample, each group with its own weights: input [T, G, I]
 * (any per-sample shape of as many elements in that order, e.g. the window [bins, marks] for I = 1), output
 * [T, G, 2H], the forward direction's h then the backward's. Forward is one dispatch; backward is BPTT, the
 * weight gradients, and the input gradient when asked (src/kernels/lstm.ts says why). */
export class BiLstm implements Layer {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  private readonly weight: Parameter;
  private readonly bias: Parameter;

  constructor(
    store: ParameterStore,
    readonly name: string,
    readonly shape: BiLstmShape,
    init: Init,
    inputShape?: Shape,
  ) {
    const { length, groups, input, hidden } = shape;
    this.inputShape = inputShape ?? [length, groups, input];
    if (elementCount(this.inputShape) !== length * groups * input) {
      throw new Error(`${name}: input ${formatShape(this.inputShape)} is not ${length} steps × ${groups} groups × ${input} inputs`);
    }
    this.outputShape = [length, groups, 2 * hidden];
    const sizes = { ...shape, batch: 1 };
    this.weight = store.add(`${name}.weight`, lstmWeightShape(sizes), init);
    this.bias = store.add(`${name}.bias`, lstmBiasShape(sizes), init);
  }

  private sizes(ctx: BuildContext): LstmSizes {
    return { ...this.shape, batch: ctx.batch };
  }

  forward(ctx: BuildContext, input: string): string {
    const s = this.sizes(ctx);
    const rows = [s.length, s.groups];
    const x = ctx.plan.view(`${ctx.prefix}${this.name}.x`, input, 0, [ctx.batch, ...rows, s.input]);
    const hs = activationTensor(ctx, this.name, 'hs', this.outputShape);
    const cs = activationTensor(ctx, this.name, 'cs', this.outputShape);
    const acts = activationTensor(ctx, this.name, 'acts', [...rows, 2, 4 * s.hidden]);
    ctx.plan.call(lstmForwardKernel(s), { x, weight: this.weight.value, bias: this.bias.value, hs, cs, acts });
    ctx.saved.set(this.name, { x, hs, cs, acts });
    return hs;
  }

  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined {
    const s = this.sizes(ctx);
    const { x, hs, cs, acts } = savedOf(ctx, this.name) as { x: string; hs: string; cs: string; acts: string };
    const dz = activationTensor(ctx, this.name, 'dz', [s.length, s.groups, 2, 4 * s.hidden]);
    ctx.plan.call(lstmBackwardKernel(s), { dhs: dOutput, weight: this.weight.value, cs, acts, dz });
    ctx.plan.call(lstmWeightGradKernel(s), { x, hs, dz, dweight: this.weight.grad, dbias: this.bias.grad });
    if (!needInputGrad) return undefined;
    const dx = activationTensor(ctx, this.name, 'dx', [s.length, s.groups, s.input]);
    ctx.plan.call(lstmInputGradKernel(s), { dz, weight: this.weight.value, dx });
    return ctx.plan.view(`${ctx.prefix}${this.name}.dxIn`, dx, 0, [ctx.batch, ...this.inputShape]);
  }
}
