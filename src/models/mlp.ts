import type { Shape } from '../kernels/kernel.ts';
import { elementCount } from '../kernels/kernel.ts';
import { Dense } from '../nn/dense.ts';
import type { Layer } from '../nn/layer.ts';
import { ParameterStore } from '../nn/parameters.ts';
import { Reshape } from '../nn/reshape.ts';
import type { Model } from '../nn/model.ts';

export interface MlpConfig {
  /** Per-gene input, e.g. [bins, marks] (flattened) or [latent]. */
  readonly inputShape: Shape;
  /** Hidden widths; the reference MLP is 256 → 128. */
  readonly hidden?: readonly number[];
}

/** flatten → (dense + ReLU)* → 1 logit, declared into `store` when one is given. */
export function mlpModel(config: MlpConfig, store = new ParameterStore()): Model {
  const F = elementCount(config.inputShape);
  const layers: Layer[] = [];
  if (config.inputShape.length > 1) layers.push(new Reshape('flatten', config.inputShape, [F]));
  let width = F;
  (config.hidden ?? [256, 128]).forEach((h, i) => {
    layers.push(new Dense(store, `fc${i + 1}`, width, h, { kind: 'relu' }));
    width = h;
  });
  layers.push(new Dense(store, 'out', width, 1));
  return { store, layers, inputShape: config.inputShape };
}
