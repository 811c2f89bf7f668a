import type { Shape } from '../core/tensor.ts';
import type { Layer } from './layer.ts';
import type { ParameterStore } from './parameters.ts';

/** A classifier: layers over one flat parameter store, from a per-gene input to one logit. */
export interface Model {
  readonly store: ParameterStore;
  readonly layers: readonly Layer[];
  /** Per-gene input shape, e.g. [bins, marks]; the last layer outputs [1]. */
  readonly inputShape: Shape;
}

