import type { Shape } from '../kernels/kernel.ts';
import { formatShape, sameShape } from '../kernels/kernel.ts';
import type { Plan } from '../plan/plan.ts';

// A layer appends its kernel calls to a plan. Building a model twice into
// one plan (a training step and a prediction pass) gives two sets of
// activation tensors, told apart by the context's prefix, over one set of
// parameters.

export interface BuildContext {
  readonly plan: Plan;
  readonly batch: number;
  /** False in prediction passes: dropout is the identity there. */
  readonly training: boolean;
  /** Prefix of every activation tensor of this build, e.g. "train/". */
  readonly prefix: string;
  /** u32 [1]: the step counter random layers key their draws on. */
  readonly step: string;
  /** Seed of the GPU random streams (dropout masks, VAE samples). */
  readonly seed: number;
  /** What each layer's forward kept for its backward, by layer name. */
  readonly saved: Map<string, Readonly<Record<string, string>>>;
}

export interface Layer {
  readonly name: string;
  /** Per-sample shapes (the batch dimension is the context's). */
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  /** Appends the forward calls reading `input` [batch, ...inputShape]; returns the output tensor. */
  forward(ctx: BuildContext, input: string): string;
  /** Appends the backward calls: parameter gradients, and the input gradient when asked. */
  backward(ctx: BuildContext, dOutput: string, needInputGrad: boolean): string | undefined;
}

export function activationTensor(ctx: BuildContext, layer: string, what: string, shape: Shape): string {
  return ctx.plan.tensor(`${ctx.prefix}${layer}.${what}`, [ctx.batch, ...shape]);
}

export function savedOf(ctx: BuildContext, layer: string): Readonly<Record<string, string>> {
  const s = ctx.saved.get(layer);
  if (!s) throw new Error(`${layer}: backward built before forward in "${ctx.prefix}"`);
  return s;
}

/** Checks a chain of layers fits together, naming the pair that does not. */
export function checkChain(layers: readonly Layer[]): void {
  for (let i = 1; i < layers.length; i++) {
    const prev = layers[i - 1] as Layer;
    const next = layers[i] as Layer;
    if (!sameShape(prev.outputShape, next.inputShape)) {
      throw new Error(
        `layer "${next.name}" expects input ${formatShape(next.inputShape)} but "${prev.name}" outputs ${formatShape(prev.outputShape)}`,
      );
    }
  }
}

/** Forward through every layer in order; returns the last output. */
export function forwardAll(ctx: BuildContext, layers: readonly Layer[], input: string): string {
  let x = input;
  for (const layer of layers) x = layer.forward(ctx, x);
  return x;
}

/** Backward through every layer in reverse; returns the gradient of the first input when asked. */
export function backwardAll(
  ctx: BuildContext,
  layers: readonly Layer[],
  dOutput: string,
  needInputGrad: boolean,
): string | undefined {
  let d: string | undefined = dOutput;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as Layer;
    const need = i > 0 || needInputGrad;
    d = layer.backward(ctx, d as string, need);
    if (need && d === undefined) throw new Error(`${layer.name}: gave no input gradient`);
  }
  return d;
}
