import type { FloatArray } from '../kernels/kernel.ts';
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
 * output it is given as `gateY` (the shader's GATE_* flags and gate_y). */
function gated(v: number, i: number, act: Activation, gateY: FloatArray | undefined): number {
  if (!gateY) return v;
  return v * activateGradFromOutput(gateY[i] as number, act.kind, act.alpha ?? 0);
}

function window(
  cv: ConvWindows,
  s: FloatArray,
  act: Activation,
  gateY: FloatArray | undefined,
  b: number,
  l: number,
  k: number,
  c: number,
): number {
  const pos = l + k + cv.shift;
  if (pos < 0 || pos >= cv.sigLen) return 0;
  const i = (b * cv.sigLen + pos) * cv.sigCh + c;
  return gated(s[i] as number, i, act, gateY);
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
  const depth = cv.ksize * cv.sigCh;
  const alpha = act.alpha ?? 0;
  for (let m = 0; m < rows; m++) {
    const b = Math.floor(m / cv.outLen);
    const l = m % cv.outLen;
    for (let n = 0; n < cv.outCh; n++) {
      let acc = 0;
      for (let r = 0; r < depth; r++) {
        const k = Math.floor(r / cv.sigCh);
        const c = r % cv.sigCh;
        acc += window(cv, s, act, signalGateY, b, l, k, c) * weightAt(cv, w, flip, k, c, n);
      }
      const v = bias ? acc + (bias[n] as number) : acc;
      out[m * cv.outCh + n] = signalGateY ? v : activate(v, act.kind, alpha);
    }
  }
}

function gradAt(
  cv: ConvWindows,
  g: FloatArray,
  act: Activation,
  gateY: FloatArray | undefined,
  b: number,
  l: number,
  n: number,
): number {
  const i = (b * cv.outLen + l) * cv.outCh + n;
  return gated(g[i] as number, i, act, gateY);
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
  const depth = cv.batch * cv.outLen;
  for (let m = 0; m < rows; m++) {
    const k = Math.floor(m / cv.sigCh);
    const c = m % cv.sigCh;
    for (let n = 0; n < cv.outCh; n++) {
      let acc = 0;
      for (let r = 0; r < depth; r++) {
        const b = Math.floor(r / cv.outLen);
        const l = r % cv.outLen;
        acc += window(cv, s, act, signalGateY, b, l, k, c) * gradAt(cv, g, act, gradGateY, b, l, n);
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
  for (let n = 0; n < cols; n++) {
    let acc = 0;
    for (let r = 0; r < rows; r++) {
      const i = r * cols + n;
      acc += gated(g[i] as number, i, act, gradGateY);
    }
    out[n] = acc;
  }
}
