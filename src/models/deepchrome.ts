import { Conv1d } from '../nn/conv1d.ts';
import { Dense } from '../nn/dense.ts';
import { Dropout } from '../nn/dropout.ts';
import type { Layer } from '../nn/layer.ts';
import { MaxPool1d } from '../nn/maxPool1d.ts';
import { ParameterStore } from '../nn/parameters.ts';
import { Reshape } from '../nn/reshape.ts';
import type { Model } from '../nn/model.ts';

export interface DeepChromeConfig {
  readonly bins: number;
  readonly marks: number;
  readonly convChannels?: number;
  readonly kernelSize?: number;
  readonly pool?: number;
  readonly hidden?: readonly number[];
  readonly dropout?: number;
}

/** DeepChrome (Singh et al. 2016): conv1d 5→50 (kernel 10, valid) + ReLU, max-pool 5,
 * flatten, dropout 0.5, 625 ReLU, 125 ReLU, 1 logit. Sizes follow the bins of the data. */
export function deepChromeModel(config: DeepChromeConfig): Model {
  const store = new ParameterStore();
  const channels = config.convChannels ?? 50;
  const kernel = config.kernelSize ?? 10;
  const pool = config.pool ?? 5;
  const conv = new Conv1d(store, 'conv', config.bins, config.marks, channels, kernel, 'valid', { kind: 'relu' });
  const maxPool = new MaxPool1d('pool', conv.outputShape[0] as number, channels, pool);
  const flat = (maxPool.outputShape[0] as number) * channels;
  const layers: Layer[] = [conv, maxPool, new Reshape('flatten', maxPool.outputShape, [flat])];
  layers.push(new Dropout('dropout', [flat], config.dropout ?? 0.5, 0x0d0d));
  let width = flat;
  (config.hidden ?? [625, 125]).forEach((h, i) => {
    layers.push(new Dense(store, `fc${i + 1}`, width, h, { kind: 'relu' }));
    width = h;
  });
  layers.push(new Dense(store, 'out', width, 1));
  return { store, layers, inputShape: [config.bins, config.marks] };
}
