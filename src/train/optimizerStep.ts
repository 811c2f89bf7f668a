import { adamKernel } from '../kernels/adam.ts';
import { clipGradNormKernel } from '../kernels/clipGradNorm.ts';
import { counterIncrementKernel } from '../kernels/counter.ts';
import { ADAM_M, ADAM_V, GRADS, PARAMS, type ParameterStore } from '../nn/parameters.ts';
import type { Plan } from '../plan/plan.ts';

export interface OptimizerConfig {
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly decoupled?: boolean;
  /** false: weightDecay acts on the weights only, not on the biases (an L2 penalty as statistics
   * defines it). Default true: one dispatch applies it to every parameter. */
  readonly decayBiases?: boolean;
  /** The largest L2 norm of the whole gradient (every parameter's, as torch.nn.utils.clip_grad_norm_ over
   * model.parameters()); a longer one is scaled down to it before Adam. Undefined: no clipping. */
  readonly clip?: number;
}

/** Contiguous stretches of the flat buffer (aligned, padding included) and whether weight decay applies to each. */
export function decayRanges(store: ParameterStore, decayBiases: boolean): { offset: number; size: number; decay: boolean }[] {
  const ranges: { offset: number; size: number; decay: boolean }[] = [];
  const list = store.parameters;
  list.forEach((p, i) => {
    const end = list[i + 1]?.offset ?? store.total;
    const decay = decayBiases || !p.name.endsWith('.bias');
    const last = ranges[ranges.length - 1];
    if (last && last.decay === decay) last.size = end - last.offset;
    else ranges.push({ offset: p.offset, size: end - p.offset, decay });
  });
  return ranges.length > 0 ? ranges : [{ offset: 0, size: store.total, decay: true }];
}

/** Appends the end of a training step: with `clip`, the gradient-norm clip
 * over the whole flat gradient (on the GPU, no host read); one Adam dispatch
 * over the flat buffers (its t is the step counter plus one), then one
 * dispatch that bumps the step counter (the key of the next step's random
 * draws) and advances the minibatch cursor. Defaults are PyTorch's. */
export function appendOptimizerStep(plan: Plan, store: ParameterStore, o: OptimizerConfig, step: string, cursor: string): void {
  if (o.clip !== undefined) plan.call(clipGradNormKernel({ n: store.total, maxNorm: o.clip }), { grads: GRADS });
  const weightDecay = o.weightDecay ?? 0;
  const adam = (n: number, decay: number) =>
    adamKernel({
      n,
      lr: o.lr,
      beta1: o.beta1 ?? 0.9,
      beta2: o.beta2 ?? 0.999,
      eps: o.eps ?? 1e-8,
      weightDecay: decay,
      decoupled: o.decoupled ?? false,
      stepOffset: 1,
    });
  if (weightDecay === 0 || (o.decayBiases ?? true)) {
    plan.call(adam(store.total, weightDecay), { params: PARAMS, grads: GRADS, m: ADAM_M, v: ADAM_V, step });
  } else {
    // One Adam dispatch per stretch of weights or of biases: views of the four flat buffers.
    for (const r of decayRanges(store, false)) {
      const at = (root: string) => plan.view(`${root}@${r.offset}`, root, r.offset, [r.size]);
      plan.call(adam(r.size, r.decay ? weightDecay : 0), { params: at(PARAMS), grads: at(GRADS), m: at(ADAM_M), v: at(ADAM_V), step });
    }
  }
  plan.call(counterIncrementKernel(true), { step, cursor });
}
