import type { FloatArray } from '../core/tensor.ts';
import { type Activation, activate, activateGradFromOutput } from './activation.ts';

// CPU twin of shaders/conv1d.wgsl: the same functions (window, weightAt,
// gradAt) and index maths, as plain loops over rows, columns and depth where
// the shader stages tiles through workgroup memory. Works in float32 or
// float64 storage (the finite-difference checks use 64); sums in JS numbers.

/** Mirrors `struct Conv`: output position l of batch b sees the signal
 * s [batch, sigLen, sigCh] at positions l + k + shift, k in [0, ksize);
 * positions outside [0, sigLen) read 0. The output (or, for the weight
 * gradient, the gradient operand g) is [batch, outLen, outCh]. */
export interface ConvWindows {
  readonly batch: number;
  readonly sigLen: number;
  readonly sigCh: number;
  readonly outLen: number;
  readonly outCh: number;
  readonly ksize: number;
  readonly shift: number;
}

/** `act` is the layer's activation (override ACT / ALPHA). A backward
 * kernel multiplies one operand elementwise by act'(y), y being the forward
 * output it is given as `gateY` (the shader's GATE_* flags and gate_y). The
 * shader gates each element as it stages it into workgroup memory; here each
 * operand is gated once up front, the same products without recomputing
 * act'(y) for every output it feeds. */
function gatedCopy(v: FloatArray, act: Activation, gateY: FloatArray | undefined): FloatArray {
  if (!gateY) return v;
  const out = v instanceof Float64Array ? new Float64Array(v.length) : new Float32Array(v.length);
  const alpha = act.alpha ?? 0;
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * activateGradFromOutput(gateY[i] as number, act.kind, alpha);
  return out;
}

function window(cv: ConvWindows, s: FloatArray, b: number, l: number, k: number, c: number): number {
  const pos = l + k + cv.shift;
  if (pos < 0 || pos >= cv.sigLen) return 0;
  return s[(b * cv.sigLen + pos) * cv.sigCh + c] as number;
}

/** `flip` reads w as [ksize, outCh, sigCh] reversed in k (the FLIP flag),
 * otherwise as [ksize, sigCh, outCh]. */
function weightAt(cv: ConvWindows, w: FloatArray, flip: boolean, k: number, c: number, n: number): number {
  if (flip) return w[((cv.ksize - 1 - k) * cv.outCh + n) * cv.sigCh + c] as number;
  return w[(k * cv.sigCh + c) * cv.outCh + n] as number;
}

/** out[b, l, n] = act(bias[n] + Σ_{k,c} window(b, l, k, c) · weightAt(k, c, n));
 * entry conv_gemm. With `signalGateY` the signal is gated by act'(y) and the
 * epilogue applies no activation. */
export function convGemm(
  cv: ConvWindows,
  flip: boolean,
  s: FloatArray,
  w: FloatArray,
  bias: FloatArray | undefined,
  act: Activation,
  signalGateY: FloatArray | undefined,
  out: FloatArray,
): void {
  const rows = cv.batch * cv.outLen;
  const alpha = act.alpha ?? 0;
  const sig = gatedCopy(s, act, signalGateY);
  for (let m = 0; m < rows; m++) {
    const b = Math.floor(m / cv.outLen);
    const l = m % cv.outLen;
    for (let n = 0; n < cv.outCh; n++) {
      let acc = 0;
      // Depth index r = k·sigCh + c, in the shader's order.
      for (let k = 0; k < cv.ksize; k++) {
        for (let c = 0; c < cv.sigCh; c++) acc += window(cv, sig, b, l, k, c) * weightAt(cv, w, flip, k, c, n);
      }
      const v = bias ? acc + (bias[n] as number) : acc;
      out[m * cv.outCh + n] = signalGateY ? v : activate(v, act.kind, alpha);
    }
  }
}

function gradAt(cv: ConvWindows, g: FloatArray, b: number, l: number, n: number): number {
  return g[(b * cv.outLen + l) * cv.outCh + n] as number;
}

/** out[k, c, n] = Σ_{b,l} window(b, l, k, c) · gradAt(b, l, n); entry weight_grad
 * (which splits the depth over workgroups and adds the splits in sum_splits). */
export function convWeightGrad(
  cv: ConvWindows,
  s: FloatArray,
  g: FloatArray,
  act: Activation,
  signalGateY: FloatArray | undefined,
  gradGateY: FloatArray | undefined,
  out: FloatArray,
): void {
  const rows = cv.ksize * cv.sigCh;
  const sig = gatedCopy(s, act, signalGateY);
  const grad = gatedCopy(g, act, gradGateY);
  for (let m = 0; m < rows; m++) {
    const k = Math.floor(m / cv.sigCh);
    const c = m % cv.sigCh;
    for (let n = 0; n < cv.outCh; n++) {
      let acc = 0;
      // Depth index r = b·outLen + l, in the shader's order.
      for (let b = 0; b < cv.batch; b++) {
        for (let l = 0; l < cv.outLen; l++) acc += window(cv, sig, b, l, k, c) * gradAt(cv, grad, b, l, n);
      }
      out[m * cv.outCh + n] = acc;
    }
  }
}

/** out[n] = Σ_r g[r, n] over g [rows, cols]; entry bias_grad (per-chunk tree
 * sums, then sum_splits). */
export function convBiasGrad(
  rows: number,
  cols: number,
  g: FloatArray,
  act: Activation,
  gradGateY: FloatArray | undefined,
  out: FloatArray,
): void {
  const grad = gatedCopy(g, act, gradGateY);
  for (let n = 0; n < cols; n++) {
    let acc = 0;
    for (let r = 0; r < rows; r++) acc += grad[r * cols + n] as number;
    out[n] = acc;
  }
}
