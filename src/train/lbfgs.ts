// L-BFGS (Nocedal & Wright, algorithm 7.4) with a weak-Wolfe bisection line
// search (Lewis & Overton), on the host in float64. The objective is evaluated
// elsewhere (an executor running a plan): this module only sees values and
// gradients, so it serves any smooth convex problem the engine can evaluate.

export interface Evaluation<E> {
  readonly value: number;
  readonly gradient: Float64Array;
  /** Whatever else the evaluation computed at this point (validation outputs), kept with accepted iterates. */
  readonly extra: E;
}

export interface LbfgsOptions {
  /** Stop when the gradient's infinity norm is at most this. */
  readonly gradientTolerance: number;
  readonly maxIterations: number;
  /** Curvature pairs kept. */
  readonly memory?: number;
  /** How much the value may rise and still pass the sufficient-decrease test: the noise of evaluating it (float32 sums). */
  readonly valueNoise?: (value: number) => number;
  /** After each accepted iterate (iteration 0 is the start). */
  readonly onIterate?: (it: Iterate<unknown>) => void;
}

export interface Iterate<E> {
  readonly iteration: number;
  readonly value: number;
  readonly gradientNorm: number;
  readonly extra: E;
}

export interface LbfgsResult<E> {
  readonly x: Float64Array;
  readonly value: number;
  readonly gradientNorm: number;
  /** Accepted steps taken. */
  readonly iterations: number;
  readonly evaluations: number;
  readonly converged: boolean;
  /** Why it stopped: the gradient tolerance, the iteration cap, or a line search that found no acceptable step. */
  readonly stop: 'gradient' | 'iterations' | 'line search';
  readonly extra: E;
  /** Every accepted iterate, the start first. */
  readonly trace: readonly Iterate<E>[];
}

const infNorm = (v: Float64Array): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

const C1 = 1e-4;
const C2 = 0.9;
const MAX_TRIALS = 40;

/** Minimises the function `evaluate` computes, from `x0`. */
export async function lbfgs<E>(evaluate: (x: Float64Array) => Promise<Evaluation<E>>, x0: Float64Array, o: LbfgsOptions): Promise<LbfgsResult<E>> {
  const n = x0.length;
  const memory = o.memory ?? 10;
  const noise = o.valueNoise ?? (() => 0);
  let x: Float64Array = Float64Array.from(x0);
  let cur = await evaluate(x);
  let evaluations = 1;
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const trace: Iterate<E>[] = [];
  const record = (iteration: number, e: Evaluation<E>) => {
    const it = { iteration, value: e.value, gradientNorm: infNorm(e.gradient), extra: e.extra };
    trace.push(it);
    o.onIterate?.(it);
  };
  record(0, cur);
  const finish = (iterations: number, stop: LbfgsResult<E>['stop']): LbfgsResult<E> => {
    const gradientNorm = infNorm(cur.gradient);
    return { x, value: cur.value, gradientNorm, iterations, evaluations, converged: gradientNorm <= o.gradientTolerance, stop, extra: cur.extra, trace };
  };
  for (let k = 0; ; k++) {
    if (infNorm(cur.gradient) <= o.gradientTolerance) return finish(k, 'gradient');
    if (k >= o.maxIterations) return finish(k, 'iterations');
    const d = direction(cur.gradient, s, y);
    let slope = dot(cur.gradient, d);
    if (!(slope < 0)) {
      // Lost curvature information (rounding): fall back to steepest descent once.
      s.length = 0;
      y.length = 0;
      for (let i = 0; i < n; i++) d[i] = -(cur.gradient[i] as number);
      slope = dot(cur.gradient, d);
    }
    // Without curvature pairs the direction is the raw gradient: a first step no longer than 1 in any coordinate.
    let alpha = s.length === 0 ? Math.min(1, 1 / Math.max(infNorm(d), 1e-300)) : 1;
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    let accepted: { x: Float64Array; e: Evaluation<E> } | undefined;
    for (let trial = 0; trial < MAX_TRIALS; trial++) {
      const xt = new Float64Array(n);
      for (let i = 0; i < n; i++) xt[i] = (x[i] as number) + alpha * (d[i] as number);
      const e = await evaluate(xt);
      evaluations++;
      if (!Number.isFinite(e.value) || e.value > cur.value + C1 * alpha * slope + noise(cur.value)) hi = alpha;
      else if (dot(e.gradient, d) < C2 * slope) lo = alpha;
      else {
        accepted = { x: xt, e };
        break;
      }
      alpha = Number.isFinite(hi) ? (lo + hi) / 2 : 2 * alpha;
    }
    if (!accepted) return finish(k, 'line search');
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = (accepted.x[i] as number) - (x[i] as number);
      yk[i] = (accepted.e.gradient[i] as number) - (cur.gradient[i] as number);
    }
    // The Wolfe curvature condition makes s·y > 0 in exact arithmetic; skip a pair rounding has spoilt.
    if (dot(sk, yk) > 1e-12 * Math.sqrt(dot(sk, sk) * dot(yk, yk))) {
      s.push(sk);
      y.push(yk);
      if (s.length > memory) {
        s.shift();
        y.shift();
      }
    }
    x = accepted.x;
    cur = accepted.e;
    record(k + 1, cur);
  }
}

/** The two-loop recursion: −H·g for the inverse-Hessian approximation the pairs (s, y) define. */
function direction(g: Float64Array, s: readonly Float64Array[], y: readonly Float64Array[]): Float64Array {
  const q = Float64Array.from(g);
  const m = s.length;
  const a = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    const si = s[i] as Float64Array;
    const yi = y[i] as Float64Array;
    const ai = dot(si, q) / dot(yi, si);
    a[i] = ai;
    for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) - ai * (yi[j] as number);
  }
  if (m > 0) {
    const sl = s[m - 1] as Float64Array;
    const yl = y[m - 1] as Float64Array;
    const gamma = dot(sl, yl) / dot(yl, yl);
    for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) * gamma;
  }
  for (let i = 0; i < m; i++) {
    const si = s[i] as Float64Array;
    const yi = y[i] as Float64Array;
    const b = dot(yi, q) / dot(yi, si);
    for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) + ((a[i] as number) - b) * (si[j] as number);
  }
  for (let j = 0; j < q.length; j++) q[j] = -(q[j] as number);
  return q;
}
