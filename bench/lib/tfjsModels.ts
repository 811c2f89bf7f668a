import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import type { BenchData } from './benchData.ts';
import type { BenchModel } from './ourTraining.ts';
import { ATTENTIVE_CHROME_HIDDEN } from '../../src/models/attentiveChrome.ts';
import { ATTENTIVE_CLIP, ATTENTIVE_LR, LEARNING_RATE, VAE_BETA, VAE_LATENT } from './ourTraining.ts';
import type { TfjsWebgpu } from './tfjsWebgpu.ts';

// The bench models in TensorFlow.js layers, trained the idiomatic TF.js way on
// its WebGPU backend: the whole data set uploaded once, per epoch one upload
// of the shuffled order, per step a gather of the minibatch on the GPU and
// optimizer.minimize() (autodiff + Adam), losses summed on the GPU and read
// once per epoch. Same layers, sizes, activations, losses and optimizer as
// src/models; initialisation is TF.js's own (it does not change the work).

export interface TfjsTrainer {
  readonly batch: number;
  readonly stepsPerEpoch: number;
  readonly parameters: number;
  /** One epoch over `order`; returns the mean loss (one host read). */
  epoch(order: Uint32Array): Promise<number>;
  /** One training step on the first batch of the order last given (nothing read back). */
  step(): void;
  dispose(): void;
}

type Tensor = TfCore.Tensor;

interface Net {
  /** Layers and models whose trainable weights are the net's (each built: its weights exist). */
  readonly modules: readonly TfLayers.layers.Layer[];
  /** Trainable variables outside any layer (attention contexts). */
  readonly extra?: readonly TfCore.Variable[];
  /** The training loss of one minibatch x [B, bins, marks], y [B, 1]. */
  loss(x: Tensor, y: Tensor): TfCore.Scalar;
  readonly lr: number;
  /** Gradients longer than this (L2 norm over every variable) are scaled down to it before Adam. */
  readonly clip?: number;
}

function classifierNet(tfjs: TfjsWebgpu, model: 'mlp' | 'deepchrome', bins: number, marks: number): Net {
  const L = tfjs.layers.layers;
  const layers: TfLayers.layers.Layer[] =
    model === 'mlp'
      ? [
          L.flatten({ inputShape: [bins, marks] }),
          L.dense({ units: 256, activation: 'relu' }),
          L.dense({ units: 128, activation: 'relu' }),
          L.dense({ units: 1 }),
        ]
      : [
          L.conv1d({ inputShape: [bins, marks], filters: 50, kernelSize: 10, padding: 'valid', activation: 'relu' }),
          L.maxPooling1d({ poolSize: 5, strides: 5, padding: 'valid' }),
          L.flatten(),
          L.dropout({ rate: 0.5 }),
          L.dense({ units: 625, activation: 'relu' }),
          L.dense({ units: 125, activation: 'relu' }),
          L.dense({ units: 1 }),
        ];
  const net = tfjs.layers.sequential({ layers });
  return {
    modules: [net],
    loss: (x, y) => tfjs.tf.losses.sigmoidCrossEntropy(y, net.apply(x, { training: true }) as Tensor) as TfCore.Scalar,
    lr: LEARNING_RATE,
  };
}

/**
 * AttentiveChrome (src/models/attentiveChrome.ts) from tfjs-layers LSTMs: per mark its own bidirectional LSTM over
 * the bins (5 layers, so 5 sets of weights, as ours) and bin attention, a bidirectional LSTM over the 5 marks' vectors
 * and mark attention, a dense logit. tfjs-layers has no attention pooling layer: scores h_t · context, their softmax
 * over the steps and the weighted sum are tf ops on a context variable per mark (and one for the marks). A TF.js LSTM
 * has one bias per gate, as ours (PyTorch's has two), so the parameter counts match. U(±0.1) init, no dropout, as ours.
 */
function attentiveNet(tfjs: TfjsWebgpu, bins: number, marks: number, hidden: readonly [number, number]): Net {
  const L = tfjs.layers.layers;
  const t = tfjs.tf;
  const init = (): ReturnType<typeof TfLayers.initializers.randomUniform> => tfjs.layers.initializers.randomUniform({ minval: -0.1, maxval: 0.1 });
  const biLstm = (units: number): TfLayers.layers.Layer =>
    L.bidirectional({
      layer: L.lstm({ units, returnSequences: true, kernelInitializer: init(), recurrentInitializer: init(), biasInitializer: init() }),
      mergeMode: 'concat',
    });
  const [binHidden, markHidden] = hidden;
  const binLstms = Array.from({ length: marks }, () => biLstm(binHidden));
  const markLstm = biLstm(markHidden);
  const out = L.dense({ units: 1, kernelInitializer: init(), biasInitializer: init() });
  const context = (width: number): TfCore.Variable => t.variable(t.randomUniform([width, 1], -0.1, 0.1));
  const binContexts = Array.from({ length: marks }, () => context(2 * binHidden));
  const markContext = context(2 * markHidden);
  /** h [B, T, D] pooled by softmax(h · context) over T: [B, D]. */
  const attend = (h: Tensor, c: TfCore.Variable): Tensor => {
    const [B, T, D] = h.shape as [number, number, number];
    const alpha = t.softmax(t.reshape(t.matMul(t.reshape(h, [B * T, D]), c), [B, T]));
    return t.sum(t.mul(h, t.expandDims(alpha, 2)), 1);
  };
  const logit = (x: Tensor, training: boolean): Tensor => {
    const perMark = binLstms.map((lstm, m) => attend(lstm.apply(t.slice(x, [0, 0, m], [-1, -1, 1]), { training }) as Tensor, binContexts[m] as TfCore.Variable));
    const h = markLstm.apply(t.stack(perMark, 1), { training }) as Tensor;
    return out.apply(attend(h, markContext)) as Tensor;
  };
  // Layers create their weights on first use: one forward pass builds them all.
  t.tidy(() => {
    logit(t.zeros([1, bins, marks]), false);
  });
  return {
    modules: [...binLstms, markLstm, out],
    extra: [...binContexts, markContext],
    loss: (x, y) => t.losses.sigmoidCrossEntropy(y, logit(x, true)) as TfCore.Scalar,
    lr: ATTENTIVE_LR,
    ...(ATTENTIVE_CLIP !== undefined ? { clip: ATTENTIVE_CLIP } : {}),
  };
}

function vaeNet(tfjs: TfjsWebgpu, bins: number, marks: number): Net {
  const L = tfjs.layers.layers;
  const t = tfjs.tf;
  const Z = VAE_LATENT;
  const flat = bins * 64;
  const leaky = (): TfLayers.layers.Layer => L.leakyReLU({ alpha: 0.5 });
  const encoder = tfjs.layers.sequential({
    layers: [
      L.conv1d({ inputShape: [bins, marks], filters: 32, kernelSize: 5, padding: 'same' }),
      leaky(),
      L.conv1d({ filters: 64, kernelSize: 5, padding: 'same' }),
      leaky(),
      L.flatten(),
    ],
  });
  const mu = tfjs.layers.sequential({ layers: [L.dense({ inputShape: [flat], units: Z })] });
  const logvar = tfjs.layers.sequential({ layers: [L.dense({ inputShape: [flat], units: Z })] });
  // tfjs-layers has no 1-d transposed conv: the decoder runs 2-d ones over [1, bins].
  const decoder = tfjs.layers.sequential({
    layers: [
      L.dense({ inputShape: [Z], units: flat }),
      leaky(),
      L.reshape({ targetShape: [1, bins, 64] }),
      L.conv2dTranspose({ filters: 64, kernelSize: [1, 5], padding: 'same' }),
      leaky(),
      L.conv2dTranspose({ filters: 32, kernelSize: [1, 5], padding: 'same' }),
      leaky(),
      L.conv2dTranspose({ filters: marks, kernelSize: [1, 1], padding: 'same', activation: 'tanh' }),
      L.reshape({ targetShape: [bins, marks] }),
    ],
  });
  return {
    modules: [encoder, mu, logvar, decoder],
    loss: (x) => {
      const B = x.shape[0] as number;
      const h = encoder.apply(x, { training: true }) as Tensor;
      const m = mu.apply(h) as Tensor;
      const v = logvar.apply(h) as Tensor;
      const eps = t.randomNormal([B, Z]);
      const z = t.add(m, t.mul(t.exp(t.mul(0.5, v)), eps));
      const recon = decoder.apply(z) as Tensor;
      const mse = t.mean(t.square(t.sub(recon, x)));
      const kl = t.div(t.sum(t.mul(-0.5, t.sub(t.add(1, v), t.add(t.square(m), t.exp(v))))), B);
      return t.add(mse, t.mul(VAE_BETA, kl)) as TfCore.Scalar;
    },
    lr: LEARNING_RATE,
  };
}

/** `lstmHidden`: attentivechrome's units per direction (tests use small ones); default the model's. */
export function buildTfjsTrainer(
  tfjs: TfjsWebgpu,
  model: BenchModel,
  data: BenchData,
  batch: number,
  lstmHidden: readonly [number, number] = ATTENTIVE_CHROME_HIDDEN,
): TfjsTrainer {
  const t = tfjs.tf;
  const { bins, marks } = data;
  const steps = Math.ceil(data.train.length / batch);
  const net =
    model === 'vae' ? vaeNet(tfjs, bins, marks) : model === 'attentivechrome' ? attentiveNet(tfjs, bins, marks, lstmHidden) : classifierNet(tfjs, model, bins, marks);
  const variables = [...net.modules.flatMap((m) => m.trainableWeights.map((w) => w.read() as TfCore.Variable)), ...(net.extra ?? [])];
  const parameters = variables.reduce((n, v) => n + v.size, 0);
  const optimizer = t.train.adam(net.lr, 0.9, 0.999, 1e-8);
  const { clip } = net;
  /** Adam on the loss's gradients scaled down to L2 norm `clip` when longer (torch.nn.utils.clip_grad_norm_'s rule), on the GPU. */
  const clippedStep = (f: () => TfCore.Scalar, max: number): TfCore.Scalar => {
    const { value, grads } = t.variableGrads(f, variables);
    // Summed pairwise, not by addN: one addN of every variable's square sum binds more buffers than WebGPU allows.
    const norm = t.sqrt(Object.values(grads).reduce<Tensor>((sum, g) => t.add(sum, t.sum(t.square(g))), t.scalar(0)));
    const scale = t.minimum(1, t.div(max, t.add(norm, 1e-6)));
    optimizer.applyGradients(Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, t.mul(g, scale)])));
    return value;
  };
  const X = t.tensor3d(data.features, [data.genes, bins, marks]);
  const Y = t.tensor2d(data.labels, [data.genes, 1]);
  // Until the first epoch: the first training genes, wrapped when a batch is larger than the data.
  let order: TfCore.Tensor1D = t.tensor1d(Int32Array.from({ length: batch }, (_, i) => data.train[i % data.train.length] as number), 'int32');

  const stepOn = (s: number, returnCost: boolean): TfCore.Scalar | undefined =>
    t.tidy(() => {
      const idx = t.slice(order, s * batch, batch);
      const x = t.gather(X, idx);
      const y = t.gather(Y, idx);
      if (clip !== undefined) {
        const cost = clippedStep(() => net.loss(x, y), clip);
        return returnCost ? cost : undefined;
      }
      return optimizer.minimize(() => net.loss(x, y), returnCost, variables) ?? undefined;
    }) as TfCore.Scalar | undefined;

  return {
    batch,
    stepsPerEpoch: steps,
    parameters,
    epoch: async (o) => {
      if (o.length !== steps * batch) throw new Error(`TF.js ${model}: epoch order of ${o.length}, expected ${steps * batch}`);
      order.dispose();
      order = t.tensor1d(Int32Array.from(o), 'int32');
      let sum: TfCore.Scalar = t.scalar(0);
      for (let s = 0; s < steps; s++) {
        const cost = stepOn(s, true) as TfCore.Scalar;
        const next = t.add(sum, cost) as TfCore.Scalar;
        t.dispose([sum, cost]);
        sum = next;
      }
      const total = (await sum.data())[0] as number;
      sum.dispose();
      const mean = total / steps;
      if (!Number.isFinite(mean)) throw new Error(`TF.js ${model}: training diverged (loss ${mean})`);
      return mean;
    },
    step: () => {
      stepOn(0, false);
    },
    dispose: () => {
      optimizer.dispose();
      t.dispose([X, Y, order]);
      for (const m of net.modules) m.dispose();
      t.dispose([...(net.extra ?? [])]);
    },
  };
}
