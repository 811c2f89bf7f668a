import type * as TfCore from '@tensorflow/tfjs-core';
import type { Activation } from '../../src/cpu/activation.ts';
import { adamKernel } from '../../src/kernels/adam.ts';
import {
  type Conv1dParams,
  type ConvTranspose1dParams,
  conv1dBackwardInputKernel,
  conv1dBackwardWeightKernel,
  conv1dForwardKernel,
  convTranspose1dForwardKernel,
} from '../../src/kernels/conv1d.ts';
import { elboKernel } from '../../src/kernels/elbo.ts';
import type { Kernel } from '../../src/kernels/kernel.ts';
import { matmulKernel, type MatmulParams } from '../../src/kernels/matmul.ts';
import { vaeModel } from '../../src/models/vae.ts';
import { singleKernelPlan } from '../../src/plan/singleKernel.ts';
import type { Plan } from '../../src/plan/plan.ts';
import { uniformArray } from '../../src/util/random.ts';
import type { Tf } from './tfjsWebgpu.ts';

// The operations bench/kernels.ts times, each twice: as our kernel in a
// one-call plan, and as the same computation in TensorFlow.js (what its
// WebGPU backend runs for that step of training: fused matmul/conv where TF.js
// has them, autodiff for the ELBO's gradients, its Adam optimizer). Each case
// carries its napkin math: the FLOPs the maths needs and the fewest bytes it
// must move (every input read once, every output written once).

export type Inputs = Readonly<Record<string, Float32Array | Uint32Array>>;

export interface OurSide {
  readonly plan: Plan;
  readonly inputs: Inputs;
  /** The tensor compared with TF.js's result. */
  readonly output: string;
}

export interface TfjsSide {
  /** One operation; the caller wraps it in tf.tidy. */
  run(): void;
  /** Runs the operation once and reads the tensor compared with ours. */
  result(): Promise<Float32Array>;
  dispose(): void;
}

export interface KernelCase {
  readonly group: 'matmul' | 'conv1d' | 'elbo' | 'adam';
  readonly name: string;
  readonly shape: string;
  readonly flops: number;
  readonly bytes: number;
  /** Which rate says more: GFLOP/s for compute-bound work, GB/s for streaming work. */
  readonly bound: 'compute' | 'memory';
  /** The napkin math as printed. */
  readonly napkin: string;
  ours(): OurSide;
  tfjs(tf: Tf, inputs: Inputs): TfjsSide;
}

const F32 = 4;

function kernelInputs(kernel: Kernel, seed: number, skip: readonly string[] = []): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  let s = seed;
  for (const [slot, spec] of Object.entries(kernel.slots)) {
    if (skip.includes(slot) || spec.access === 'read_write' || spec.dtype !== 'f32') continue;
    out[slot] = uniformArray(spec.shape.reduce((a, b) => a * b, 1), s++);
  }
  return out;
}

function single(kernel: Kernel, output: string, seed: number): OurSide {
  return { plan: singleKernelPlan(kernel), inputs: kernelInputs(kernel, seed), output };
}

function f32(inputs: Inputs, name: string): Float32Array {
  const v = inputs[name];
  if (!(v instanceof Float32Array)) throw new Error(`kernel case: no f32 input "${name}"`);
  return v;
}

/** A TF.js side whose run() is one pure op over tensors made from the inputs. */
function pureOp(tf: Tf, tensors: readonly TfCore.Tensor[], op: () => TfCore.Tensor): TfjsSide {
  return {
    run: () => {
      op();
    },
    result: async () => {
      const t = op();
      const data = (await t.data()) as Float32Array;
      t.dispose();
      return data;
    },
    dispose: () => tf.dispose([...tensors]),
  };
}

function mega(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : `${(n / 1e3).toFixed(1)} k`;
}

// --- matmul -------------------------------------------------------------

function tfActivation(a: Activation | undefined): { activation?: 'relu' | 'leakyrelu'; leakyreluAlpha?: number } {
  if (!a || a.kind === 'none') return {};
  if (a.kind === 'relu') return { activation: 'relu' };
  if (a.kind === 'leaky_relu') return { activation: 'leakyrelu', leakyreluAlpha: a.alpha ?? 0 };
  throw new Error(`kernel cases: no TF.js fused activation for ${a.kind}`);
}

function actLabel(a: Activation | undefined): string {
  if (!a || a.kind === 'none') return '';
  return a.kind === 'leaky_relu' ? ` leaky(${a.alpha})` : ` ${a.kind}`;
}

export function matmulCase(name: string, p: MatmulParams): KernelCase {
  const { M, N, K } = p;
  const flops = 2 * M * N * K;
  const bytes = F32 * (M * K + K * N + M * N + (p.bias ? N : 0));
  const layout = `${p.transA ? 'Aᵀ' : 'A'}·${p.transB ? 'Bᵀ' : 'B'}`;
  return {
    group: 'matmul',
    name,
    shape: `${M}×${K}×${N} ${layout}${p.bias ? ' +bias' : ''}${actLabel(p.activation)}`,
    flops,
    bytes,
    bound: 'compute',
    napkin: `2·M·N·K = ${mega(flops)}FLOP; 4·(MK+KN+MN) = ${mega(bytes)}B`,
    ours: () => single(matmulKernel(p), 'c', 11),
    tfjs: (tf, inputs) => {
      const a = tf.tensor2d(f32(inputs, 'a'), p.transA ? [K, M] : [M, K]);
      const b = tf.tensor2d(f32(inputs, 'b'), p.transB ? [N, K] : [K, N]);
      const bias = p.bias ? tf.tensor1d(f32(inputs, 'bias')) : undefined;
      const fusedAct = tfActivation(p.activation);
      const op = (): TfCore.Tensor =>
        bias || fusedAct.activation
          ? tf.fused.matMul({ a, b, transposeA: p.transA === true, transposeB: p.transB === true, ...(bias ? { bias } : {}), ...fusedAct })
          : tf.matMul(a, b, p.transA === true, p.transB === true);
      return pureOp(tf, bias ? [a, b, bias] : [a, b], op);
    },
  };
}

// --- conv1d ---------------------------------------------------------------

function convOut(p: Conv1dParams): number {
  return p.padding === 'same' ? p.length : p.length - p.kernelSize + 1;
}

function convLabel(p: Conv1dParams | ConvTranspose1dParams): string {
  const pad = typeof p.padding === 'number' ? `pad ${p.padding}` : p.padding;
  return `B${p.batch} L${p.length} ${p.inChannels}→${p.outChannels} k${p.kernelSize} ${pad}${actLabel(p.activation)}`;
}

/** What TF.js does with dL/dy before a conv's backward kernels: the activation's gradient, as its own ops. */
function activationGradient(tf: Tf, dy: TfCore.Tensor, y: TfCore.Tensor, a: Activation | undefined): TfCore.Tensor {
  if (!a || a.kind === 'none') return dy;
  if (a.kind === 'relu') return tf.mul(dy, tf.step(y));
  if (a.kind === 'leaky_relu') return tf.where(tf.greater(y, 0), dy, tf.mul(dy, a.alpha ?? 0));
  throw new Error(`kernel cases: no activation gradient for ${a.kind}`);
}

function tfPad(p: Conv1dParams): 'same' | 'valid' {
  return p.padding;
}

export function convForwardCase(name: string, p: Conv1dParams): KernelCase {
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
  const Lout = convOut(p);
  const flops = 2 * B * Lout * Cout * K * Cin;
  const bytes = F32 * (B * L * Cin + K * Cin * Cout + Cout + B * Lout * Cout);
  return {
    group: 'conv1d',
    name,
    shape: convLabel(p),
    flops,
    bytes,
    bound: 'compute',
    napkin: `2·B·Lout·Cout·K·Cin = ${mega(flops)}FLOP; ${mega(bytes)}B`,
    ours: () => single(conv1dForwardKernel(p), 'y', 21),
    tfjs: (tf, inputs) => {
      const x = tf.tensor4d(f32(inputs, 'x'), [B, 1, L, Cin]);
      const w = tf.tensor4d(f32(inputs, 'w'), [1, K, Cin, Cout]);
      const bias = tf.tensor1d(f32(inputs, 'bias'));
      const op = (): TfCore.Tensor =>
        tf.fused.conv2d({ x, filter: w, strides: 1, pad: tfPad(p), bias, ...tfActivation(p.activation) });
      return pureOp(tf, [x, w, bias], op);
    },
  };
}

export function convBackwardWeightCase(name: string, p: Conv1dParams): KernelCase {
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
  const Lout = convOut(p);
  const gated = p.activation !== undefined && p.activation.kind !== 'none';
  const flops = 2 * K * Cin * Cout * B * Lout;
  const bytes = F32 * (B * L * Cin + (gated ? 2 : 1) * B * Lout * Cout + K * Cin * Cout);
  return {
    group: 'conv1d',
    name,
    shape: convLabel(p),
    flops,
    bytes,
    bound: 'compute',
    napkin: `2·K·Cin·Cout·B·Lout = ${mega(flops)}FLOP; ${mega(bytes)}B`,
    ours: () => single(conv1dBackwardWeightKernel(p), 'dw', 31),
    tfjs: (tf, inputs) => {
      const x = tf.tensor4d(f32(inputs, 'x'), [B, 1, L, Cin]);
      const dy = tf.tensor4d(f32(inputs, 'dy'), [B, 1, Lout, Cout]);
      const y = gated ? tf.tensor4d(f32(inputs, 'y'), [B, 1, Lout, Cout]) : dy;
      const op = (): TfCore.Tensor =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x, dy: activationGradient(tf, dy, y, p.activation) },
          { strides: 1, pad: tfPad(p), dataFormat: 'NHWC', filterShape: [1, K, Cin, Cout] } as unknown as TfCore.NamedAttrMap,
        );
      return pureOp(tf, gated ? [x, dy, y] : [x, dy], op);
    },
  };
}

export function convBackwardInputCase(name: string, p: Conv1dParams): KernelCase {
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
  const Lout = convOut(p);
  const gated = p.activation !== undefined && p.activation.kind !== 'none';
  const flops = 2 * B * L * Cin * K * Cout;
  const bytes = F32 * ((gated ? 2 : 1) * B * Lout * Cout + K * Cin * Cout + B * L * Cin);
  return {
    group: 'conv1d',
    name,
    shape: convLabel(p),
    flops,
    bytes,
    bound: 'compute',
    napkin: `2·B·L·Cin·K·Cout = ${mega(flops)}FLOP; ${mega(bytes)}B`,
    ours: () => single(conv1dBackwardInputKernel(p), 'dx', 41),
    tfjs: (tf, inputs) => {
      const dy = tf.tensor4d(f32(inputs, 'dy'), [B, 1, Lout, Cout]);
      const w = tf.tensor4d(f32(inputs, 'w'), [1, K, Cin, Cout]);
      const y = gated ? tf.tensor4d(f32(inputs, 'y'), [B, 1, Lout, Cout]) : dy;
      const op = (): TfCore.Tensor =>
        tf.conv2dTranspose(activationGradient(tf, dy, y, p.activation) as TfCore.Tensor4D, w, [B, 1, L, Cin], 1, tfPad(p));
      return pureOp(tf, gated ? [dy, w, y] : [dy, w], op);
    },
  };
}

export function convTransposeForwardCase(name: string, p: ConvTranspose1dParams): KernelCase {
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
  const Lout = L + K - 1 - 2 * p.padding;
  if (Lout !== L) throw new Error(`${name}: the TF.js twin uses 'same' padding, which needs Lout = L (padding (K-1)/2)`);
  const flops = 2 * B * Lout * Cout * K * Cin;
  const bytes = F32 * (B * L * Cin + K * Cin * Cout + Cout + B * Lout * Cout);
  return {
    group: 'conv1d',
    name,
    shape: convLabel(p),
    flops,
    bytes,
    bound: 'compute',
    napkin: `2·B·Lout·Cout·K·Cin = ${mega(flops)}FLOP; ${mega(bytes)}B`,
    ours: () => single(convTranspose1dForwardKernel(p), 'y', 51),
    tfjs: (tf, inputs) => {
      const x = tf.tensor4d(f32(inputs, 'x'), [B, 1, L, Cin]);
      // Our [K, Cout, Cin] is TF's transposed-conv filter [1, K, outDepth, inDepth].
      const w = tf.tensor4d(f32(inputs, 'w'), [1, K, Cout, Cin]);
      const bias = tf.tensor1d(f32(inputs, 'bias'));
      const act = p.activation;
      const op = (): TfCore.Tensor => {
        const z = tf.add(tf.conv2dTranspose(x, w, [B, 1, Lout, Cout], 1, 'same'), bias);
        if (!act || act.kind === 'none') return z;
        if (act.kind === 'leaky_relu') return tf.leakyRelu(z, act.alpha);
        if (act.kind === 'relu') return tf.relu(z);
        throw new Error(`${name}: no TF.js activation for ${act.kind}`);
      };
      return pureOp(tf, [x, w, bias], op);
    },
  };
}

// --- ELBO ---------------------------------------------------------------

export function elboCase(name: string, batch: number, features: number, latent: number): KernelCase {
  const beta = 1;
  const BD = batch * features;
  const BZ = batch * latent;
  // Per reconstruction element: sub, square, add to the sum, scale for the gradient;
  // per latent element: exp, square and a handful of adds for KL and its two gradients.
  const flops = 4 * BD + 10 * BZ;
  const bytes = F32 * (3 * BD + 4 * BZ + 3);
  return {
    group: 'elbo',
    name,
    shape: `B${batch} D${features} Z${latent} (loss + dRecon, dMu, dLogvar)`,
    flops,
    bytes,
    bound: 'memory',
    napkin: `reads recon, target, mu, logvar, writes 3 gradients: 4·(3·B·D + 4·B·Z) = ${mega(bytes)}B`,
    ours: () => {
      const k = elboKernel({ batch, features, latent, beta, sigma: 'logvar' });
      return single(k, 'dRecon', 61);
    },
    tfjs: (tf, inputs) => {
      const recon = tf.tensor2d(f32(inputs, 'recon'), [batch, features]);
      const target = tf.tensor2d(f32(inputs, 'target'), [batch, features]);
      const mu = tf.tensor2d(f32(inputs, 'mu'), [batch, latent]);
      const logvar = tf.tensor2d(f32(inputs, 'logvar'), [batch, latent]);
      const lossAndGrads = tf.valueAndGrads((r: TfCore.Tensor, m: TfCore.Tensor, v: TfCore.Tensor) => {
        const mse = tf.mean(tf.square(tf.sub(r, target)));
        const kl = tf.div(tf.sum(tf.mul(-0.5, tf.sub(tf.add(1, v), tf.add(tf.square(m), tf.exp(v))))), batch);
        return tf.add(mse, tf.mul(beta, kl)) as TfCore.Scalar;
      });
      return {
        run: () => {
          lossAndGrads([recon, mu, logvar]);
        },
        result: async () => {
          const { value, grads } = lossAndGrads([recon, mu, logvar]);
          const d = (await (grads[0] as TfCore.Tensor).data()) as Float32Array;
          tf.dispose([value, ...grads]);
          return d;
        },
        dispose: () => tf.dispose([recon, target, mu, logvar]),
      };
    },
  };
}

// --- Adam -----------------------------------------------------------------

/** The VAE's flat parameter buffer at the real data's shape (padding included, as our Adam sees it). */
export function vaeParameterCount(bins = 100, marks = 5): number {
  return vaeModel({ bins, marks }).store.total;
}

export function adamCase(name: string, n: number): KernelCase {
  const lr = 1e-3;
  const hyper = { n, lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
  // Reads params, grads, m, v; writes params, m, v.
  const bytes = F32 * 7 * n;
  const flops = 12 * n;
  return {
    group: 'adam',
    name,
    shape: `n = ${n.toLocaleString('en-US')}`,
    flops,
    bytes,
    bound: 'memory',
    napkin: `reads p, g, m, v, writes p, m, v: 28·n = ${mega(bytes)}B`,
    ours: () => {
      const k = adamKernel(hyper);
      const inputs: Record<string, Float32Array | Uint32Array> = {
        params: uniformArray(n, 71),
        grads: uniformArray(n, 72),
        m: new Float32Array(n),
        v: new Float32Array(n),
        step: Uint32Array.of(1),
      };
      return { plan: singleKernelPlan(k), inputs, output: 'params' };
    },
    tfjs: (tf, inputs) => {
      const params = tf.variable(tf.tensor1d(f32(inputs, 'params')), true, `bench.adam.params.${n}`);
      const grads = tf.tensor1d(f32(inputs, 'grads'));
      const optimizer = tf.train.adam(lr, hyper.beta1, hyper.beta2, hyper.eps);
      const step = (): void => optimizer.applyGradients([{ name: params.name, tensor: grads }]);
      return {
        run: step,
        result: async () => {
          step();
          return (await params.data()) as Float32Array;
        },
        dispose: () => {
          optimizer.dispose();
          tf.dispose([params, grads]);
        },
      };
    },
  };
}

// --- The list ---------------------------------------------------------------

export const SQUARE_SIZES = [64, 128, 256, 512, 1024, 2048] as const;

/** Every case at batch `B`; square matmuls up to `maxSquare`. */
export function kernelCases(B: number, maxSquare: number): KernelCase[] {
  const leaky = { kind: 'leaky_relu', alpha: 0.5 } as const;
  const relu = { kind: 'relu' } as const;
  const squares = SQUARE_SIZES.filter((n) => n <= maxSquare).map((n) => matmulCase(`square ${n}`, { M: n, N: n, K: n }));
  const deepchromeConv: Conv1dParams = { batch: B, length: 100, inChannels: 5, outChannels: 50, kernelSize: 10, padding: 'valid', bias: true, activation: relu };
  const vaeConv2: Conv1dParams = { batch: B, length: 100, inChannels: 32, outChannels: 64, kernelSize: 5, padding: 'same', bias: true, activation: leaky };
  const vaeDeconv1: ConvTranspose1dParams = { batch: B, length: 100, inChannels: 64, outChannels: 64, kernelSize: 5, padding: 2, bias: true, activation: leaky };
  return [
    ...squares,
    matmulCase('mlp fc1 forward', { M: B, K: 500, N: 256, bias: true, activation: relu }),
    matmulCase('mlp fc1 dW', { M: 500, K: B, N: 256, transA: true }),
    matmulCase('deepchrome fc1 forward', { M: B, K: 900, N: 625, bias: true, activation: relu }),
    matmulCase('vae enc.mu forward', { M: B, K: 6400, N: 10, bias: true }),
    matmulCase('vae enc.mu dW', { M: 6400, K: B, N: 10, transA: true }),
    matmulCase('vae enc.mu dX', { M: B, K: 10, N: 6400, transB: true }),
    matmulCase('vae dec.fc forward', { M: B, K: 10, N: 6400, bias: true, activation: leaky }),
    convForwardCase('deepchrome conv forward', deepchromeConv),
    convBackwardWeightCase('deepchrome conv dW', deepchromeConv),
    convForwardCase('vae enc.conv2 forward', vaeConv2),
    convBackwardInputCase('vae enc.conv2 dX', vaeConv2),
    convBackwardWeightCase('vae enc.conv2 dW', vaeConv2),
    convTransposeForwardCase('vae dec.deconv1 forward', vaeDeconv1),
    elboCase('vae ELBO + gradients', B, 500, 10),
    adamCase('adam over the VAE', vaeParameterCount()),
  ];
}
