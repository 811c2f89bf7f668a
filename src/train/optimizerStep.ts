import { adamKernel } from '../kernels/adam.ts';
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
}

/** Appends the end of a training step: one Adam dispatch over the flat buffers
 * (its t is the step counter plus one), then one dispatch that bumps the step
 * counter (the key of the next step's random draws) and advances the minibatch
 * cursor. Defaults are PyTorch's. */
export function appendOptimizerStep(plan: Plan, store: ParameterStore, o: OptimizerConfig, step: string, cursor: string): void {
  plan.call(
    adamKernel({
      n: store.total,
      lr: o.lr,
      beta1: o.beta1 ?? 0.9,
      beta2: o.beta2 ?? 0.999,
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? 0,
      decoupled: o.decoupled ?? false,
      stepOffset: 1,
    }),
    { params: PARAMS, grads: GRADS, m: ADAM_M, v: ADAM_V, step },
  );
  plan.call(counterIncrementKernel(true), { step, cursor });
}
