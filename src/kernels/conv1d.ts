import { type Activation, activationCode } from '../core/activation.ts';
import { type ConvWindows, convBiasGrad, convGemm, convWeightGrad } from '../cpu/conv1d.ts';
import { type GemmFrontend, gemmDispatches, gemmParams, gemmScratch } from './gemm.ts';
import type { GemmShape } from './gpuTarget.ts';
import {
  type FloatArray,
  type GpuDispatch,
  type Kernel,
  MAX_WORKGROUPS_PER_DIM,
  type SlotSpec,
  type TensorSpec,
  f32Slot,
  grid1d,
  requirePositiveInts,
  uniformBlock,
} from './kernel.ts';

// Stride-1 conv1d and ConvTranspose1d over channels-last tensors, forward and
// backward. Every kernel is one of three implicit GEMMs in shaders/conv1d.wgsl
// (conv_gemm, weight_grad, bias_grad); what differs is which tensor plays the
// signal, how the weight is indexed (FLIP) and the window offset (`shift`).
// The transposed conv's forward is the conv's input gradient, and its input
// gradient is a conv forward, so the two ops share all their code.

export type Conv1dPadding = 'same' | 'valid';

export interface Conv1dParams {
  readonly batch: number;
  readonly length: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** 'same': Lout = L, zero padding left = floor((K - 1) / 2), right = K - 1 - left
   * (PyTorch's padding='same', also for even K); 'valid': Lout = L - K + 1, no padding. */
  readonly padding: Conv1dPadding;
  /** Adds bias [outChannels]. Absent means no bias. */
  readonly bias?: boolean;
  /** Fused into the forward's epilogue. The backward kernels built from the
   * same params then also read the forward output y and take dy as the
   * gradient with respect to y (after the activation); build them without
   * an activation to hand them the pre-activation gradient instead. */
  readonly activation?: Activation;
}

export interface ConvTranspose1dParams {
  readonly batch: number;
  readonly length: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** PyTorch's integer padding: Lout = L + K - 1 - 2 * padding, at least 1. */
  readonly padding: number;
  readonly bias?: boolean;
  /** As in Conv1dParams. */
  readonly activation?: Activation;
}

// --- The GEMMs, with slots named by the caller --------------------------------

function convUniforms(cv: ConvWindows, shape: GemmShape, splitLen: number, splits: number, ones = 0, onesTap = 0): ArrayBuffer {
  return gemmParams(shape, splitLen, splits, [
    ['u32', cv.batch],
    ['u32', cv.sigLen],
    ['u32', cv.sigCh],
    ['u32', cv.outLen],
    ['u32', cv.outCh],
    ['u32', cv.ksize],
    ['i32', cv.shift],
    ['u32', ones],
    ['u32', onesTap],
  ]);
}

function requireGrid(kernel: string, what: string, groups: number): number {
  if (groups > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${kernel}: ${what} need ${groups} workgroups, more than the ${MAX_WORKGROUPS_PER_DIM} a dispatch allows`);
  }
  return groups;
}

const SUM_WG = 256;

/** total = Σ_z partials[z] in order of z: the deterministic second pass of the bias reduction. */
function sumSplitsDispatch(partials: string, total: string, count: number, splits: number): GpuDispatch {
  return {
    shader: 'bias_grad',
    entryPoint: 'sum_splits',
    defines: { SUM_SPLITS: true },
    constants: { WG: SUM_WG },
    bindings: [partials, total],
    uniforms: uniformBlock([
      ['u32', count],
      ['u32', splits],
    ]),
    workgroups: grid1d(count, SUM_WG),
  };
}

interface FusedActivation {
  readonly act: Activation;
  readonly actCode: number;
  readonly alpha: number;
  /** Backward kernels gate their gradient operand with act'(y). */
  readonly gated: boolean;
}

/** The shader divides row and depth indices by sizes with lib/quotient.wgsl, exact below 2^24; a block may
 * read up to 64 rows or depths past the end. */
const QUOTIENT_LIMIT = 2 ** 24 - 64;

function requireQuotientRange(name: string, shape: GemmShape): void {
  const largest = Math.max(shape.M, shape.K);
  if (largest > QUOTIENT_LIMIT) {
    throw new Error(`${name}: its GEMM is ${shape.M} rows by ${shape.K} deep; the conv kernels index at most ${QUOTIENT_LIMIT} of either (split the batch)`);
  }
}

/** out = act(bias + windows of s times w); CONV_GEMM in shaders/conv1d.wgsl. */
function gemmKernel(
  name: string,
  slots: Readonly<Record<string, SlotSpec>>,
  cv: ConvWindows,
  flip: boolean,
  fused: FusedActivation,
  names: { readonly s: string; readonly w: string; readonly out: string; readonly bias?: string; readonly gateY?: string },
): Kernel {
  const shape: GemmShape = { M: cv.batch * cv.outLen, N: cv.outCh, K: cv.ksize * cv.sigCh };
  requireQuotientRange(name, shape);
  const { bias, gateY } = names;
  if (bias !== undefined && gateY !== undefined) throw new Error(`${name}: conv_gemm binds a bias or a gate, not both`);
  const bindings = [names.s, names.w, names.out, ...(bias !== undefined ? [bias] : []), ...(gateY !== undefined ? [gateY] : [])];
  const frontend: GemmFrontend = {
    shader: 'conv1d',
    defines: {
      WEIGHT_GRAD: false,
      FLIP: flip,
      BIAS: bias !== undefined,
      GATE_SIGNAL: gateY !== undefined,
      GATE_GRAD: false,
      BIAS_GRAD_ROW: false,
      BIAS_GRAD_COL: false,
      S_VEC4: cv.sigCh % 4 === 0,
      W_VEC4: !flip && cv.outCh % 4 === 0,
      G_VEC4: false,
    },
    constants: { ACT: fused.actCode, ALPHA: fused.alpha },
    bindings,
    uniforms: (splitLen, splits) => convUniforms(cv, shape, splitLen, splits),
  };
  const key = `${name}|B${cv.batch},L${cv.sigLen},C${cv.sigCh},Lo${cv.outLen},Co${cv.outCh},k${cv.ksize},s${cv.shift}`;
  return {
    name,
    slots,
    scratch: (target) => gemmScratch(shape, target.gemmVariant(key, shape)),
    cpu: (t) =>
      convGemm(
        cv,
        flip,
        t[names.s] as FloatArray,
        t[names.w] as FloatArray,
        bias !== undefined ? (t[bias] as FloatArray) : undefined,
        fused.act,
        gateY !== undefined ? (t[gateY] as FloatArray) : undefined,
        t[names.out] as FloatArray,
      ),
    gpu: (target) => gemmDispatches(name, shape, target.gemmVariant(key, shape), frontend),
  };
}

/** Where the bias gradient comes from in a weight-gradient GEMM: a row of ones
 * in A (the conv1d, whose windows are the input), or a column of ones in B read
 * at one tap of the windowed gradient (the transposed conv). */
type BiasGradFusion = { readonly kind: 'row' } | { readonly kind: 'col'; readonly tap: number };

/** out[k, c, n] = Σ_{b,l} windows of s times g (WEIGHT_GRAD); with `biasGrad`
 * also db, as one more row or column of the same GEMM. */
function weightGradKernel(
  name: string,
  slots: Readonly<Record<string, SlotSpec>>,
  cv: ConvWindows,
  fused: FusedActivation,
  names: {
    readonly s: string;
    readonly g: string;
    readonly out: string;
    /** The forward output y, gating the signal s or the gradient g. */
    readonly gate?: { readonly y: string; readonly on: 'signal' | 'grad' };
    readonly biasGrad?: { readonly db: string; readonly fusion: BiasGradFusion };
  },
): Kernel {
  const rows = cv.ksize * cv.sigCh;
  const { gate, biasGrad } = names;
  const fusion = biasGrad?.fusion;
  const shape: GemmShape = {
    M: fusion?.kind === 'row' ? rows + 1 : rows,
    N: fusion?.kind === 'col' ? cv.outCh + 1 : cv.outCh,
    K: cv.batch * cv.outLen,
  };
  requireQuotientRange(name, shape);
  const ones = fusion?.kind === 'row' ? rows : fusion?.kind === 'col' ? cv.outCh : 0;
  const onesTap = fusion?.kind === 'col' ? fusion.tap : 0;
  const frontend: GemmFrontend = {
    shader: 'conv1d',
    defines: {
      WEIGHT_GRAD: true,
      FLIP: false,
      BIAS: false,
      GATE_SIGNAL: gate?.on === 'signal',
      GATE_GRAD: gate?.on === 'grad',
      BIAS_GRAD_ROW: fusion?.kind === 'row',
      BIAS_GRAD_COL: fusion?.kind === 'col',
      S_VEC4: false,
      W_VEC4: false,
      G_VEC4: cv.outCh % 4 === 0,
    },
    constants: { ACT: fused.actCode, ALPHA: fused.alpha },
    bindings: [names.s, names.g, names.out, ...(gate ? [gate.y] : []), ...(biasGrad ? [biasGrad.db] : [])],
    uniforms: (splitLen, splits) => convUniforms(cv, shape, splitLen, splits, ones, onesTap),
  };
  const key = `${name}|B${cv.batch},L${cv.sigLen},C${cv.sigCh},Lo${cv.outLen},Co${cv.outCh},k${cv.ksize},s${cv.shift}`;
  // The bias gradient sums the operand that is not windowed in the row form, the windowed one in the column form.
  const biasSource = fusion?.kind === 'col' ? names.s : names.g;
  const biasGate = gate !== undefined && ((fusion?.kind === 'col') === (gate.on === 'signal')) ? gate.y : undefined;
  const biasChannels = fusion?.kind === 'col' ? cv.sigCh : cv.outCh;
  const biasRows = fusion?.kind === 'col' ? cv.batch * cv.sigLen : cv.batch * cv.outLen;
  return {
    name,
    slots,
    scratch: (target) => gemmScratch(shape, target.gemmVariant(key, shape)),
    cpu: (t) => {
      convWeightGrad(
        cv,
        t[names.s] as FloatArray,
        t[names.g] as FloatArray,
        fused.act,
        gate?.on === 'signal' ? (t[gate.y] as FloatArray) : undefined,
        gate?.on === 'grad' ? (t[gate.y] as FloatArray) : undefined,
        t[names.out] as FloatArray,
      );
      if (biasGrad) {
        convBiasGrad(
          biasRows,
          biasChannels,
          t[biasSource] as FloatArray,
          fused.act,
          biasGate !== undefined ? (t[biasGate] as FloatArray) : undefined,
          t[biasGrad.db] as FloatArray,
        );
      }
    },
    gpu: (target) => gemmDispatches(name, shape, target.gemmVariant(key, shape), frontend),
  };
}

const BIAS_WG = 256;
/** Rows one bias_grad workgroup sums: 4 per invocation. */
const BIAS_CHUNK = 4 * BIAS_WG;

/** out[n] = Σ_r g[r, n] over g [rows, cols]: per-chunk workgroup tree sums,
 * then sum_splits over the chunks, so the result is the same on every run. */
function biasGradKernel(
  name: string,
  slots: Readonly<Record<string, SlotSpec>>,
  rows: number,
  cols: number,
  fused: FusedActivation,
  names: { readonly g: string; readonly out: string; readonly gateY?: string },
): Kernel {
  const chunks = Math.ceil(rows / BIAS_CHUNK);
  requireGrid(name, `${cols} bias columns`, cols);
  requireGrid(name, `${rows} rows`, chunks);
  const scratch: Record<string, TensorSpec> = chunks > 1 ? { partials: { shape: [chunks, cols], dtype: 'f32' } } : {};
  const { gateY } = names;
  return {
    name,
    slots,
    scratch,
    cpu: (t) =>
      convBiasGrad(
        rows,
        cols,
        t[names.g] as FloatArray,
        fused.act,
        gateY !== undefined ? (t[gateY] as FloatArray) : undefined,
        t[names.out] as FloatArray,
      ),
    gpu: () => [
      {
        shader: 'bias_grad',
        entryPoint: 'bias_grad',
        defines: { BIAS_GRAD: true, GATE_GRAD: gateY !== undefined },
        constants: { ACT: fused.actCode, ALPHA: fused.alpha, WG: BIAS_WG },
        bindings: [names.g, chunks > 1 ? 'partials' : names.out, ...(gateY !== undefined ? [gateY] : [])],
        uniforms: uniformBlock([
          ['u32', rows],
          ['u32', cols],
          ['u32', BIAS_CHUNK],
        ]),
        workgroups: [cols, chunks, 1],
      },
      ...(chunks > 1 ? [sumSplitsDispatch('partials', names.out, cols, chunks)] : []),
    ],
  };
}

// --- Parameters --------------------------------------------------------------

interface ConvGeometry {
  readonly batch: number;
  readonly length: number;
  readonly outLength: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** Zero padding before position 0 of the conv's input. */
  readonly left: number;
  readonly bias: boolean;
  readonly fused: FusedActivation;
  /** Variant tag for kernel names, e.g. `same,k5,bias,relu`. */
  readonly tag: string;
}

function fusedActivation(kernel: string, activation: Activation | undefined): FusedActivation {
  const act = activation ?? { kind: 'none' };
  try {
    const { code, alpha } = activationCode(act);
    return { act, actCode: code, alpha, gated: act.kind !== 'none' };
  } catch (e) {
    throw new Error(`${kernel}: ${(e as Error).message}`);
  }
}

function actTag(act: Activation): string[] {
  if (act.kind === 'none') return [];
  return [act.kind === 'leaky_relu' ? `leaky_relu(${act.alpha})` : act.kind];
}

function conv1dGeometry(kernel: string, p: Conv1dParams): ConvGeometry {
  requirePositiveInts(kernel, {
    batch: p.batch,
    length: p.length,
    inChannels: p.inChannels,
    outChannels: p.outChannels,
    kernelSize: p.kernelSize,
  });
  if (p.padding !== 'same' && p.padding !== 'valid') {
    throw new Error(`${kernel}: padding must be 'same' or 'valid', got ${JSON.stringify(p.padding)}`);
  }
  if (p.padding === 'valid' && p.length < p.kernelSize) {
    throw new Error(`${kernel}: padding 'valid' needs length >= kernelSize, got length ${p.length} < kernelSize ${p.kernelSize}`);
  }
  const fused = fusedActivation(kernel, p.activation);
  const bias = p.bias === true;
  return {
    batch: p.batch,
    length: p.length,
    outLength: p.padding === 'same' ? p.length : p.length - p.kernelSize + 1,
    inChannels: p.inChannels,
    outChannels: p.outChannels,
    kernelSize: p.kernelSize,
    left: p.padding === 'same' ? Math.floor((p.kernelSize - 1) / 2) : 0,
    bias,
    fused,
    tag: [p.padding, `k${p.kernelSize}`, ...(bias ? ['bias'] : []), ...actTag(fused.act)].join(','),
  };
}

/** The transposed conv seen as the conv it is the adjoint of: that conv
 * reads the transposed output (length Lout, outChannels) with `padding` zeros
 * on both sides and produces the transposed input (length L, inChannels). */
interface TransposedGeometry extends ConvGeometry {
  readonly padding: number;
}

function convTranspose1dGeometry(kernel: string, p: ConvTranspose1dParams): TransposedGeometry {
  requirePositiveInts(kernel, {
    batch: p.batch,
    length: p.length,
    inChannels: p.inChannels,
    outChannels: p.outChannels,
    kernelSize: p.kernelSize,
  });
  if (!Number.isInteger(p.padding) || p.padding < 0) {
    throw new Error(`${kernel}: padding must be a non-negative integer, got ${p.padding}`);
  }
  const outLength = p.length + p.kernelSize - 1 - 2 * p.padding;
  if (outLength < 1) {
    throw new Error(
      `${kernel}: output length = length + kernelSize - 1 - 2 * padding = ` +
        `${p.length} + ${p.kernelSize} - 1 - 2 * ${p.padding} = ${outLength}, must be at least 1`,
    );
  }
  const fused = fusedActivation(kernel, p.activation);
  const bias = p.bias === true;
  return {
    batch: p.batch,
    length: p.length,
    outLength,
    inChannels: p.inChannels,
    outChannels: p.outChannels,
    kernelSize: p.kernelSize,
    left: p.padding,
    padding: p.padding,
    bias,
    fused,
    tag: [`p${p.padding}`, `k${p.kernelSize}`, ...(bias ? ['bias'] : []), ...actTag(fused.act)].join(','),
  };
}

function gateSlot(g: ConvGeometry, shape: readonly number[]): Record<string, SlotSpec> {
  return g.fused.gated ? { y: f32Slot(shape, 'read') } : {};
}

// --- conv1d ------------------------------------------------------------------

/**
 * y = act(bias + conv1d(x, w)), stride 1.
 *   x [B, L, Cin], w [K, Cin, Cout], bias [Cout] (with bias: true), y [B, Lout, Cout];
 *   y[b, l, co] = act(bias[co] + Σ_{k,ci} x[b, l + k - left, ci] · w[k, ci, co]),
 *   x outside [0, L) reading 0. (PyTorch's Conv1d weight [Cout, Cin, K] is w transposed.)
 * Implicit GEMM: rows M = B·Lout, columns N = Cout, depth K·Cin.
 * Napkin math: 2·B·Lout·Cout·K·Cin FLOPs; at least 4·(B·L·Cin + K·Cin·Cout + B·Lout·Cout)
 * bytes, x being re-read once per column tile (up to 64 columns) and w once per row tile
 * (from cache).
 * DeepChrome-sized (B 256, L 100, Cin 5, Cout 50, K 10): 128 MFLOP over 5.6 MB, about
 * 23 FLOP/byte, near the balance point of a large GPU.
 */
export function conv1dForwardKernel(p: Conv1dParams): Kernel {
  const name = 'conv1d.forward';
  const g = conv1dGeometry(name, p);
  const { batch: B, length: L, outLength: Lout, inChannels: Cin, outChannels: Cout, kernelSize: K } = g;
  const slots: Record<string, SlotSpec> = {
    x: f32Slot([B, L, Cin], 'read'),
    w: f32Slot([K, Cin, Cout], 'read'),
    ...(g.bias ? { bias: f32Slot([Cout], 'read') } : {}),
    y: f32Slot([B, Lout, Cout], 'read_write'),
  };
  const cv: ConvWindows = { batch: B, sigLen: L, sigCh: Cin, outLen: Lout, outCh: Cout, ksize: K, shift: -g.left };
  return gemmKernel(`${name}[${g.tag}]`, slots, cv, false, g.fused, {
    s: 'x',
    w: 'w',
    out: 'y',
    ...(g.bias ? { bias: 'bias' } : {}),
  });
}

/**
 * dx [B, L, Cin] = the gradient of conv1dForwardKernel(p) with respect to x, from
 * dy [B, Lout, Cout] and w [K, Cin, Cout]; with an activation also from the forward output
 * y [B, Lout, Cout], dy then being dL/dy:
 *   dx[b, i, ci] = Σ_{k,co} g[b, i - k + left, co] · w[k, ci, co],  g = dy · act'(y).
 * The same conv_gemm as the forward, reading dy's windows with w flipped in k and
 * transposed in its channels: rows B·L, columns Cin, depth K·Cout.
 * Napkin math: 2·B·L·Cin·K·Cout FLOPs over 4·(B·Lout·Cout (+ y) + K·Cin·Cout + B·L·Cin) bytes.
 */
export function conv1dBackwardInputKernel(p: Conv1dParams): Kernel {
  const name = 'conv1d.backwardInput';
  const g = conv1dGeometry(name, p);
  const { batch: B, length: L, outLength: Lout, inChannels: Cin, outChannels: Cout, kernelSize: K } = g;
  const slots: Record<string, SlotSpec> = {
    dy: f32Slot([B, Lout, Cout], 'read'),
    w: f32Slot([K, Cin, Cout], 'read'),
    ...gateSlot(g, [B, Lout, Cout]),
    dx: f32Slot([B, L, Cin], 'read_write'),
  };
  // Substituting k' = K - 1 - k makes dy's window contiguous like the forward's x.
  const cv: ConvWindows = { batch: B, sigLen: Lout, sigCh: Cout, outLen: L, outCh: Cin, ksize: K, shift: g.left - (K - 1) };
  return gemmKernel(`${name}[${g.tag}]`, slots, cv, true, g.fused, {
    s: 'dy',
    w: 'w',
    out: 'dx',
    ...(g.fused.gated ? { gateY: 'y' } : {}),
  });
}

/**
 * dw [K, Cin, Cout] = the gradient of conv1dForwardKernel(p) with respect to w, from
 * x [B, L, Cin] and dy [B, Lout, Cout] (and y with an activation, as in backward input):
 *   dw[k, ci, co] = Σ_{b,l} x[b, l + k - left, ci] · g[b, l, co],  g = dy · act'(y).
 * GEMM: rows K·Cin, columns Cout, depth B·Lout, the depth split over workgroups (partials
 * in scratch, added in a fixed order) when K·Cin x Cout alone has too few tiles.
 * Napkin math: 2·K·Cin·Cout·B·Lout FLOPs over 4·(B·L·Cin + B·Lout·Cout (+ y)) bytes read,
 * plus 8·splits·K·Cin·Cout for the partials.
 */
export function conv1dBackwardWeightKernel(p: Conv1dParams): Kernel {
  const name = 'conv1d.backwardWeight';
  const g = conv1dGeometry(name, p);
  const { batch: B, length: L, outLength: Lout, inChannels: Cin, outChannels: Cout, kernelSize: K } = g;
  const slots: Record<string, SlotSpec> = {
    x: f32Slot([B, L, Cin], 'read'),
    dy: f32Slot([B, Lout, Cout], 'read'),
    ...gateSlot(g, [B, Lout, Cout]),
    dw: f32Slot([K, Cin, Cout], 'read_write'),
    ...(g.bias ? { db: f32Slot([Cout], 'read_write') } : {}),
  };
  const cv: ConvWindows = { batch: B, sigLen: L, sigCh: Cin, outLen: Lout, outCh: Cout, ksize: K, shift: -g.left };
  return weightGradKernel(`${name}[${g.tag}]`, slots, cv, g.fused, {
    s: 'x',
    g: 'dy',
    out: 'dw',
    ...(g.fused.gated ? { gate: { y: 'y', on: 'grad' as const } } : {}),
    ...(g.bias ? { biasGrad: { db: 'db', fusion: { kind: 'row' as const } } } : {}),
  });
}

/**
 * db [Cout] = Σ_{b,l} g[b, l, :] with g = dy · act'(y) (dy [B, Lout, Cout], y only with an
 * activation): the gradient of conv1dForwardKernel(p) with respect to its bias.
 * Napkin math: B·Lout·Cout adds over 4·B·Lout·Cout (+ y) bytes; per-chunk workgroup trees,
 * then one ordered pass over the chunk partials.
 */
export function conv1dBackwardBiasKernel(p: Conv1dParams): Kernel {
  const name = 'conv1d.backwardBias';
  const g = conv1dGeometry(name, p);
  if (!g.bias) throw new Error(`${name}: the params have no bias (bias: true)`);
  const { batch: B, outLength: Lout, outChannels: Cout } = g;
  const slots: Record<string, SlotSpec> = {
    dy: f32Slot([B, Lout, Cout], 'read'),
    ...gateSlot(g, [B, Lout, Cout]),
    db: f32Slot([Cout], 'read_write'),
  };
  return biasGradKernel(`${name}[${g.tag}]`, slots, B * Lout, Cout, g.fused, {
    g: 'dy',
    out: 'db',
    ...(g.fused.gated ? { gateY: 'y' } : {}),
  });
}

// --- ConvTranspose1d ---------------------------------------------------------

/**
 * y = act(bias + convTranspose1d(x, w)), stride 1, PyTorch semantics.
 *   x [B, L, Cin], w [K, Cout, Cin], bias [Cout] (with bias: true), y [B, Lout, Cout],
 *   Lout = L + K - 1 - 2·padding;
 *   y[b, j, co] = act(bias[co] + Σ_{k,ci} x[b, j - k + padding, ci] · w[k, co, ci]),
 *   x outside [0, L) reading 0.
 * Weight layout: w[k, co, ci] = PyTorch's ConvTranspose1d weight[ci, co, k]. It is
 * exactly the weight of the conv1d [K, Cin' = Cout, Cout' = Cin] that this op is the
 * adjoint of (padding zeros on both sides, from length Lout to L), so a decoder can tie
 * it to an encoder's conv weight, and the op is that conv's backward-input kernel with a
 * bias and activation epilogue: conv_gemm with FLIP, rows B·Lout, columns Cout, depth K·Cin.
 * Napkin math: 2·B·Lout·Cout·K·Cin FLOPs over 4·(B·L·Cin + K·Cin·Cout + B·Lout·Cout) bytes.
 */
export function convTranspose1dForwardKernel(p: ConvTranspose1dParams): Kernel {
  const name = 'convTranspose1d.forward';
  const g = convTranspose1dGeometry(name, p);
  const { batch: B, length: L, outLength: Lout, inChannels: Cin, outChannels: Cout, kernelSize: K } = g;
  const slots: Record<string, SlotSpec> = {
    x: f32Slot([B, L, Cin], 'read'),
    w: f32Slot([K, Cout, Cin], 'read'),
    ...(g.bias ? { bias: f32Slot([Cout], 'read') } : {}),
    y: f32Slot([B, Lout, Cout], 'read_write'),
  };
  const cv: ConvWindows = { batch: B, sigLen: L, sigCh: Cin, outLen: Lout, outCh: Cout, ksize: K, shift: g.padding - (K - 1) };
  return gemmKernel(`${name}[${g.tag}]`, slots, cv, true, g.fused, {
    s: 'x',
    w: 'w',
    out: 'y',
    ...(g.bias ? { bias: 'bias' } : {}),
  });
}

/**
 * dx [B, L, Cin] = the gradient of convTranspose1dForwardKernel(p) with respect to x, from
 * dy [B, Lout, Cout], w [K, Cout, Cin] (and y [B, Lout, Cout] with an activation):
 *   dx[b, i, ci] = Σ_{k,co} g[b, i + k - padding, co] · w[k, co, ci],  g = dy · act'(y),
 * a conv1d forward of g (conv_gemm without FLIP): rows B·L, columns Cin, depth K·Cout.
 * Napkin math: 2·B·L·Cin·K·Cout FLOPs over 4·(B·Lout·Cout (+ y) + K·Cin·Cout + B·L·Cin) bytes.
 */
export function convTranspose1dBackwardInputKernel(p: ConvTranspose1dParams): Kernel {
  const name = 'convTranspose1d.backwardInput';
  const g = convTranspose1dGeometry(name, p);
  const { batch: B, length: L, outLength: Lout, inChannels: Cin, outChannels: Cout, kernelSize: K } = g;
  const slots: Record<string, SlotSpec> = {
    dy: f32Slot([B, Lout, Cout], 'read'),
    w: f32Slot([K, Cout, Cin], 'read'),
    ...gateSlot(g, [B, Lout, Cout]),
    dx: f32Slot([B, L, Cin], 'read_write'),
  };
  const cv: ConvWindows = { batch: B, sigLen: Lout, sigCh: Cout, outLen: L, outCh: Cin, ksize: K, shift: -g.padding };
  return gemmKernel(`${name}[${g.tag}]`, slots, cv, false, g.fused, {
    s: 'dy',
    w: 'w',
    out: 'dx',
    ...(g.fused.gated ? { gateY: 'y' } : {}),
  });
}

/** The tap k at which the windows of dy cover every output position exactly
 * once (positions l + k - padding for l in [0, L) must include all of
 * [0, Lout)): then the bias gradient is that tap's column of ones. There is
 * one exactly when Lout <= L, as for the "same"-length transposed convs of the
 * VAE; otherwise the bias needs conv*BackwardBiasKernel. */
export function transposedBiasTap(g: { readonly length: number; readonly outLength: number; readonly kernelSize: number; readonly left: number }): number | undefined {
  const tap = Math.max(0, g.outLength - g.length + g.left);
  return tap <= g.left && tap < g.kernelSize ? tap : undefined;
}

/**
 * dw [K, Cout, Cin] = the gradient of convTranspose1dForwardKernel(p) with respect to w, from
 * x [B, L, Cin] and dy [B, Lout, Cout] (and y with an activation):
 *   dw[k, co, ci] = Σ_{b,l} g[b, l + k - padding, co] · x[b, l, ci],  g = dy · act'(y):
 * the conv1d weight-gradient kernel with the roles of its two operands swapped (g is read
 * through the windows, x plays the output gradient). GEMM: rows K·Cout, columns Cin,
 * depth B·L, split as in conv1dBackwardWeightKernel.
 * Napkin math: 2·K·Cout·Cin·B·L FLOPs over 4·(B·Lout·Cout (+ y) + B·L·Cin) bytes read.
 */
export function convTranspose1dBackwardWeightKernel(p: ConvTranspose1dParams): Kernel {
  const name = 'convTranspose1d.backwardWeight';
  const g = convTranspose1dGeometry(name, p);
  const { batch: B, length: L, outLength: Lout, inChannels: Cin, outChannels: Cout, kernelSize: K } = g;
  const tap = transposedBiasTap(g);
  const slots: Record<string, SlotSpec> = {
    x: f32Slot([B, L, Cin], 'read'),
    dy: f32Slot([B, Lout, Cout], 'read'),
    ...gateSlot(g, [B, Lout, Cout]),
    dw: f32Slot([K, Cout, Cin], 'read_write'),
    ...(g.bias && tap !== undefined ? { db: f32Slot([Cout], 'read_write') } : {}),
  };
  const cv: ConvWindows = { batch: B, sigLen: Lout, sigCh: Cout, outLen: L, outCh: Cin, ksize: K, shift: -g.padding };
  return weightGradKernel(`${name}[${g.tag}]`, slots, cv, g.fused, {
    s: 'dy',
    g: 'x',
    out: 'dw',
    ...(g.fused.gated ? { gate: { y: 'y', on: 'signal' as const } } : {}),
    ...(g.bias && tap !== undefined ? { biasGrad: { db: 'db', fusion: { kind: 'col' as const, tap } } } : {}),
  });
}

/**
 * db [Cout] = Σ_{b,j} g[b, j, :] with g = dy · act'(y) (dy [B, Lout, Cout]): the gradient of
 * convTranspose1dForwardKernel(p) with respect to its bias; the same kernel as
 * conv1dBackwardBiasKernel. Napkin math: B·Lout·Cout adds over 4·B·Lout·Cout (+ y) bytes.
 */
export function convTranspose1dBackwardBiasKernel(p: ConvTranspose1dParams): Kernel {
  const name = 'convTranspose1d.backwardBias';
  const g = convTranspose1dGeometry(name, p);
  if (!g.bias) throw new Error(`${name}: the params have no bias (bias: true)`);
  const { batch: B, outLength: Lout, outChannels: Cout } = g;
  const slots: Record<string, SlotSpec> = {
    dy: f32Slot([B, Lout, Cout], 'read'),
    ...gateSlot(g, [B, Lout, Cout]),
    db: f32Slot([Cout], 'read_write'),
  };
  return biasGradKernel(`${name}[${g.tag}]`, slots, B * Lout, Cout, g.fused, {
    g: 'dy',
    out: 'db',
    ...(g.fused.gated ? { gateY: 'y' } : {}),
  });
}
