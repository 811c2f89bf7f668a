import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/lstm.wgsl: a bidirectional LSTM over many short
// sequences, each group of sequences with its own weights (AttentiveChrome
// runs one LSTM per histone mark). One loop iteration per GPU workgroup or
// invocation, in the same order, so the twin reads like the shader.
//
// Layout (row r = (b·T + t)·G + g, the channels-last window's own order, so
// no permute is needed between [batch, bins, marks] and the sequences):
//   x      [B, T, G, I]        input at each step
//   weight [G, 2, I + H, 4H]   per group and direction: W_ih stacked on W_hh,
//                              columns the gates i, f, g, o (PyTorch's order)
//   bias   [G, 2, 4H]          b_ih + b_hh in one
//   hs     [B, T, G, 2H]       h_t, forward direction then backward
//   cs     [B, T, G, 2H]       c_t, kept for the backward pass
//   acts   [B, T, G, 2, 4H]    the gates after their nonlinearity, kept too
//   dz     [B, T, G, 2, 4H]    the gradient of the gates before it

export interface LstmSizes {
  readonly batch: number;
  /** Steps of every sequence. */
  readonly length: number;
  /** Sequences per batch element, each group with its own weights. */
  readonly groups: number;
  readonly input: number;
  readonly hidden: number;
}

/** tanh with its argument clamped to ±15, where it is ±1 in f32 already: some GPU tanh return NaN for large |x|. */
export function tanhClamped(x: number): number {
  return Math.tanh(Math.min(15, Math.max(-15, x)));
}

/** The same split as shaders/lib/activation_fn.wgsl's sigmoid_f32, so no exp overflows. */
function sigmoidStable(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const row = (s: LstmSizes, b: number, t: number, g: number): number => (b * s.length + t) * s.groups + g;
/** The step processed k-th by direction d: forward walks t = 0..T-1, backward t = T-1..0. */
const timeOf = (s: LstmSizes, d: number, k: number): number => (d === 0 ? k : s.length - 1 - k);

/** Where the weights of group g, direction d begin: [W_ih; W_hh] is (I + H) rows of 4H. */
const weightBase = (s: LstmSizes, g: number, d: number): number => (g * 2 + d) * (s.input + s.hidden) * 4 * s.hidden;

/** The forward and backward grids: workgroup (sequence b·G + g, direction d). */
function forEachSequence(s: LstmSizes, body: (b: number, g: number, d: number) => void): void {
  for (let seq = 0; seq < s.batch * s.groups; seq++) {
    for (let d = 0; d < 2; d++) body(Math.floor(seq / s.groups), seq % s.groups, d);
  }
}

/** One workgroup per (sequence, direction): h and c start at 0 and run over the sequence. */
export function lstmForward(
  s: LstmSizes,
  x: FloatArray,
  weight: FloatArray,
  bias: FloatArray,
  hs: FloatArray,
  cs: FloatArray,
  acts: FloatArray,
): void {
  const { hidden: H, input: I } = s;
  const gates = 4 * H;
  forEachSequence(s, (b, g, d) => {
    const wBase = weightBase(s, g, d);
    const bBase = (g * 2 + d) * gates;
    const h = new Float64Array(H);
    const c = new Float64Array(H);
    const gate = new Float64Array(gates);
    for (let k = 0; k < s.length; k++) {
      const r = row(s, b, timeOf(s, d, k), g);
      // Phase 1, one invocation per gate column j.
      for (let j = 0; j < gates; j++) {
        let z = bias[bBase + j] as number;
        for (let i = 0; i < I; i++) z += (x[r * I + i] as number) * (weight[wBase + i * gates + j] as number);
        for (let i = 0; i < H; i++) z += (h[i] as number) * (weight[wBase + (I + i) * gates + j] as number);
        const a = j >= 2 * H && j < 3 * H ? tanhClamped(z) : sigmoidStable(z);
        gate[j] = a;
        acts[(r * 2 + d) * gates + j] = a;
      }
      // Phase 2, one invocation per unit u.
      for (let u = 0; u < H; u++) {
        const cNew = (gate[H + u] as number) * (c[u] as number) + (gate[u] as number) * (gate[2 * H + u] as number);
        const hNew = (gate[3 * H + u] as number) * tanhClamped(cNew);
        c[u] = cNew;
        h[u] = hNew;
        cs[r * 2 * H + d * H + u] = cNew;
        hs[r * 2 * H + d * H + u] = hNew;
      }
    }
  });
}

/** Backpropagation through time, one workgroup per (sequence, direction) in reverse step order: dhs (the loss's
 * gradient with respect to hs) in, the gates' pre-activation gradients dz out. */
export function lstmBackward(
  s: LstmSizes,
  dhs: FloatArray,
  weight: FloatArray,
  cs: FloatArray,
  acts: FloatArray,
  dz: FloatArray,
): void {
  const { hidden: H, input: I } = s;
  const gates = 4 * H;
  forEachSequence(s, (b, g, d) => {
    const wBase = weightBase(s, g, d);
    // dh from step k + 1 through W_hh, and dc from step k + 1 through the forget gate.
    const dhRec = new Float64Array(H);
    const dcNext = new Float64Array(H);
    const dzStep = new Float64Array(gates);
    for (let k = s.length - 1; k >= 0; k--) {
      const r = row(s, b, timeOf(s, d, k), g);
      const a = (r * 2 + d) * gates;
      // Phase 1, one invocation per unit u.
      for (let u = 0; u < H; u++) {
        const ai = acts[a + u] as number;
        const af = acts[a + H + u] as number;
        const ag = acts[a + 2 * H + u] as number;
        const ao = acts[a + 3 * H + u] as number;
        const tc = tanhClamped(cs[r * 2 * H + d * H + u] as number);
        const cPrev = k > 0 ? (cs[row(s, b, timeOf(s, d, k - 1), g) * 2 * H + d * H + u] as number) : 0;
        const dh = (dhs[r * 2 * H + d * H + u] as number) + (dhRec[u] as number);
        const dc = (dcNext[u] as number) + dh * ao * (1 - tc * tc);
        dzStep[u] = dc * ag * ai * (1 - ai);
        dzStep[H + u] = dc * cPrev * af * (1 - af);
        dzStep[2 * H + u] = dc * ai * (1 - ag * ag);
        dzStep[3 * H + u] = dh * tc * ao * (1 - ao);
        dcNext[u] = dc * af;
        for (let q = 0; q < 4; q++) dz[a + q * H + u] = dzStep[q * H + u] as number;
      }
      // Phase 2, one invocation per unit u: dh_{k-1} = W_hh[u, :] · dz, as the shader sums it: four running
      // sums over the columns j ≡ 0, 1, 2, 3 (mod 4), added in that order at the end.
      for (let u = 0; u < H; u++) {
        const lane = [0, 0, 0, 0];
        for (let j = 0; j < gates; j++) lane[j % 4] = (lane[j % 4] as number) + (dzStep[j] as number) * (weight[wBase + (I + u) * gates + j] as number);
        dhRec[u] = (lane[0] as number) + (lane[1] as number) + (lane[2] as number) + (lane[3] as number);
      }
    }
  });
}

/** dweight and dbias: one invocation per element, summing over batch and steps the step's input
 * [x_t; h_prev; 1] times dz. h_prev is read back from hs (0 before a direction's first step). */
export function lstmWeightGrad(
  s: LstmSizes,
  x: FloatArray,
  hs: FloatArray,
  dz: FloatArray,
  dweight: FloatArray,
  dbias: FloatArray,
): void {
  const { hidden: H, input: I, groups: G, length: T } = s;
  const gates = 4 * H;
  const rows = I + H + 1;
  const total = G * 2 * rows * gates;
  for (let e = 0; e < total; e++) {
    const j = e % gates;
    const rr = Math.floor(e / gates) % rows;
    const gd = Math.floor(e / (gates * rows));
    const d = gd % 2;
    const g = Math.floor(gd / 2);
    let sum = 0;
    for (let b = 0; b < s.batch; b++) {
      for (let t = 0; t < T; t++) {
        const r = row(s, b, t, g);
        let u = 1;
        if (rr < I) {
          u = x[r * I + rr] as number;
        } else if (rr < I + H) {
          const tp = d === 0 ? t - 1 : t + 1;
          u = tp < 0 || tp >= T ? 0 : (hs[row(s, b, tp, g) * 2 * H + d * H + (rr - I)] as number);
        }
        sum += u * (dz[(r * 2 + d) * gates + j] as number);
      }
    }
    if (rr < I + H) dweight[(gd * (I + H) + rr) * gates + j] = sum;
    else dbias[gd * gates + j] = sum;
  }
}

/** dx [B, T, G, I]: both directions' dz through W_ih, one invocation per element. */
export function lstmInputGrad(s: LstmSizes, dz: FloatArray, weight: FloatArray, dx: FloatArray): void {
  const { hidden: H, input: I, groups: G } = s;
  const gates = 4 * H;
  const total = s.batch * s.length * G * I;
  for (let e = 0; e < total; e++) {
    const i = e % I;
    const r = Math.floor(e / I);
    const g = r % G;
    let sum = 0;
    for (let d = 0; d < 2; d++) {
      const wBase = weightBase(s, g, d) + i * gates;
      for (let j = 0; j < gates; j++) sum += (dz[(r * 2 + d) * gates + j] as number) * (weight[wBase + j] as number);
    }
    dx[e] = sum;
  }
}
