import { AttentionPool } from '../nn/attentionPool.ts';
import { BiLstm } from '../nn/biLstm.ts';
import { Dense } from '../nn/dense.ts';
import type { Layer } from '../nn/layer.ts';
import type { Model } from '../nn/model.ts';
import { type Init, ParameterStore } from '../nn/parameters.ts';
import { Reshape } from '../nn/reshape.ts';

export interface AttentiveChromeConfig {
  readonly bins: number;
  readonly marks: number;
  /** Hidden units per direction of the bin-level and the mark-level LSTM. */
  readonly hidden: readonly [number, number];
}

/** The public code's defaults (QData/AttentiveChrome, v2PyTorch): 32 units per direction over the bins, and half
 * that, 16, over the marks (its `bin_rnn_size // 2` for the mark level), so the gene's vector has 32 values. */
export const ATTENTIVE_CHROME_HIDDEN: readonly [number, number] = [32, 16];

/** Its train.py draws every parameter from U(-0.1, 0.1). */
const INIT: Init = { kind: 'range', bound: 0.1 };

/**
 * AttentiveChrome (Singh, Lanchantin, Sekhon, Qi, NeurIPS 2017), as its public PyTorch code builds it:
 * - per mark, its own BiLSTM over the bins (input 1 a bin) and its own bin-level attention (scores h_t · context,
 *   softmax over the bins) pooling the outputs into one vector per mark;
 * - a BiLSTM over the marks' vectors and a mark-level attention pooling them into one vector per gene;
 * - a linear layer to the logit.
 * No dropout: the public code passes its dropout 0.5 to one-layer nn.LSTMs, where PyTorch applies none.
 * The window [bins, marks] is read in place as [bins, marks, 1]: the kernels index the per-mark sequences, no permute.
 */
export function attentiveChromeModel(config: AttentiveChromeConfig): Model {
  const store = new ParameterStore();
  const { bins, marks } = config;
  const [binHidden, markHidden] = config.hidden;
  const binWidth = 2 * binHidden;
  const markWidth = 2 * markHidden;
  const layers: Layer[] = [
    new BiLstm(store, 'binLstm', { length: bins, groups: marks, input: 1, hidden: binHidden }, INIT, [bins, marks]),
    new AttentionPool(store, 'binAttention', { length: bins, groups: marks, width: binWidth }, INIT),
    // [marks, 2H] per gene is the mark-level LSTM's [T = marks, G = 1, I = 2H] as it lies.
    new BiLstm(store, 'markLstm', { length: marks, groups: 1, input: binWidth, hidden: markHidden }, INIT, [marks, binWidth]),
    new AttentionPool(store, 'markAttention', { length: marks, groups: 1, width: markWidth }, INIT),
    new Reshape('flatten', [1, markWidth], [markWidth]),
    new Dense(store, 'out', markWidth, 1, { kind: 'none' }, INIT),
  ];
  return { store, layers, inputShape: [bins, marks] };
}
