import type * as TfCore from '@tensorflow/tfjs-core';
import type { Activation } from '../../src/core/activation.ts';
import type { Conv1dParams } from '../../src/kernels/conv1d.ts';
import type { AdamBenchOp } from '../../src/kernels/adam.cases.ts';
import type { Conv1dBenchOp } from '../../src/kernels/conv1d.cases.ts';
import type { ElboBenchOp } from '../../src/kernels/elbo.cases.ts';
import { KERNEL_FAMILIES, type KernelBenchOp } from '../../src/kernels/families.ts';
import type { BenchInputs, KernelBenchCase } from '../../src/kernels/family.ts';
import type { MatmulBenchOp } from '../../src/kernels/matmul.cases.ts';
import { vaeModel } from '../../src/models/vae.ts';
import { singleKernelPlan } from '../../src/plan/singleKernel.ts';
import type { Plan } from '../../src/plan/plan.ts';
import type { Tf } from './tfjsWebgpu.ts';

// The operations bench/kernels.ts times, each twice: as our kernel in a
// one-call plan, and as the same computation in TensorFlow.js (what its
// WebGPU backend runs for that step of training: fused matmul/conv where TF.js
// has them, autodiff for the ELBO's gradients, its Adam optimizer). Which
// operations, their sizes and napkin math are the families' own bench cases
// (src/kernels/<family>.cases.ts, listed in src/kernels/families.ts); what is
// here is TF.js's twin of each kind of operation.

export type Inputs = BenchInputs;

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

/** A family's bench case (name, shape, napkin math) with both engines' sides. */
export interface KernelCase extends Omit<KernelBenchCase<KernelBenchOp>, 'build' | 'output' | 'op'> {
  /** The kernel family (src/kernels/families.ts) the case belongs to. */
  readonly group: string;
  ours(): OurSide;
  tfjs(tf: Tf, inputs: Inputs): TfjsSide;
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

// --- matmul -------------------------------------------------------------

function tfActivation(a: Activation | undefined): { activation?: 'relu' | 'leakyrelu'; leakyreluAlpha?: number } {
  if (!a || a.kind === 'none') return {};
  if (a.kind === 'relu') return { activation: 'relu' };
  if (a.kind === 'leaky_relu') return { activation: 'leakyrelu', leakyreluAlpha: a.alpha ?? 0 };
  throw new Error(`kernel cases: no TF.js fused activation for ${a.kind}`);
}

function tfMatmul({ params: p }: MatmulBenchOp, tf: Tf, inputs: Inputs): TfjsSide {
  const { M, N, K } = p;
  const a = tf.tensor2d(f32(inputs, 'a'), p.transA ? [K, M] : [M, K]);
  const b = tf.tensor2d(f32(inputs, 'b'), p.transB ? [N, K] : [K, N]);
  const bias = p.bias ? tf.tensor1d(f32(inputs, 'bias')) : undefined;
  const fusedAct = tfActivation(p.activation);
  const op = (): TfCore.Tensor =>
    bias || fusedAct.activation
      ? tf.fused.matMul({ a, b, transposeA: p.transA === true, transposeB: p.transB === true, ...(bias ? { bias } : {}), ...fusedAct })
      : tf.matMul(a, b, p.transA === true, p.transB === true);
  return pureOp(tf, bias ? [a, b, bias] : [a, b], op);
}

// --- conv1d ---------------------------------------------------------------

function convOut(p: Conv1dParams): number {
  return p.padding === 'same' ? p.length : p.length - p.kernelSize + 1;
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

function tfConv(c: Conv1dBenchOp, tf: Tf, inputs: Inputs): TfjsSide {
  if (c.kind === 'convTranspose1dForward') {
    const p = c.params;
    const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
    const Lout = L + K - 1 - 2 * p.padding;
    if (Lout !== L) throw new Error(`convTranspose1dForward: the TF.js twin uses 'same' padding, which needs Lout = L (padding (K-1)/2)`);
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
      throw new Error(`convTranspose1dForward: no TF.js activation for ${act.kind}`);
    };
    return pureOp(tf, [x, w, bias], op);
  }
  const p = c.params;
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
  const Lout = convOut(p);
  const gated = p.activation !== undefined && p.activation.kind !== 'none';
  if (c.kind === 'conv1dForward') {
    const x = tf.tensor4d(f32(inputs, 'x'), [B, 1, L, Cin]);
    const w = tf.tensor4d(f32(inputs, 'w'), [1, K, Cin, Cout]);
    const bias = tf.tensor1d(f32(inputs, 'bias'));
    const op = (): TfCore.Tensor => tf.fused.conv2d({ x, filter: w, strides: 1, pad: tfPad(p), bias, ...tfActivation(p.activation) });
    return pureOp(tf, [x, w, bias], op);
  }
  if (c.kind === 'conv1dBackwardWeight') {
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
  }
  const dy = tf.tensor4d(f32(inputs, 'dy'), [B, 1, Lout, Cout]);
  const w = tf.tensor4d(f32(inputs, 'w'), [1, K, Cin, Cout]);
  const y = gated ? tf.tensor4d(f32(inputs, 'y'), [B, 1, Lout, Cout]) : dy;
  const op = (): TfCore.Tensor =>
    tf.conv2dTranspose(activationGradient(tf, dy, y, p.activation) as TfCore.Tensor4D, w, [B, 1, L, Cin], 1, tfPad(p));
  return pureOp(tf, gated ? [dy, w, y] : [dy, w], op);
}

// --- ELBO ---------------------------------------------------------------

function tfElbo({ params: p }: ElboBenchOp, tf: Tf, inputs: Inputs): TfjsSide {
  const { batch, features, latent, beta } = p;
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
}

// --- Adam -----------------------------------------------------------------

/** The VAE's flat parameter buffer at the real data's shape (padding included, as our Adam sees it). */
export function vaeParameterCount(bins = 100, marks = 5): number {
  return vaeModel({ bins, marks }).store.total;
}

function tfAdam({ params: hyper }: AdamBenchOp, tf: Tf, inputs: Inputs): TfjsSide {
  const params = tf.variable(tf.tensor1d(f32(inputs, 'params')), true, `bench.adam.params.${hyper.n}`);
  const grads = tf.tensor1d(f32(inputs, 'grads'));
  const optimizer = tf.train.adam(hyper.lr, hyper.beta1, hyper.beta2, hyper.eps);
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
}

// --- The list ---------------------------------------------------------------

function tfjsTwin(op: KernelBenchOp, tf: Tf, inputs: Inputs): TfjsSide {
  switch (op.kind) {
    case 'matmul':
      return tfMatmul(op, tf, inputs);
    case 'conv1dForward':
    case 'conv1dBackwardWeight':
    case 'conv1dBackwardInput':
    case 'convTranspose1dForward':
      return tfConv(op, tf, inputs);
    case 'elbo':
      return tfElbo(op, tf, inputs);
    case 'adam':
      return tfAdam(op, tf, inputs);
  }
}

function kernelCase(group: string, c: KernelBenchCase<KernelBenchOp>): KernelCase {
  return {
    group,
    name: c.name,
    shape: c.shape,
    flops: c.flops,
    bytes: c.bytes,
    bound: c.bound,
    napkin: c.napkin,
    ours: () => {
      const { kernel, inputs } = c.build();
      return { plan: singleKernelPlan(kernel), inputs, output: c.output };
    },
    tfjs: (tf, inputs) => tfjsTwin(c.op, tf, inputs),
  };
}

/** Every family's bench cases at batch `B`, in the families list's order; square matmuls up to `maxSquare`. */
export function kernelCases(B: number, maxSquare: number): KernelCase[] {
  const sizes = { batch: B, maxSquare, vaeParameters: vaeParameterCount() };
  return KERNEL_FAMILIES.flatMap((f) => (f.bench?.(sizes) ?? []).map((c) => kernelCase(f.name, c)));
}
