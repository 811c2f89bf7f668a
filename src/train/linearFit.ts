import { PARAMS, GRADS } from '../nn/parameters.ts';
import type { Executor } from '../plan/executor.ts';
import type { Plan } from '../plan/plan.ts';
import { type Iterate, lbfgs } from './lbfgs.ts';
import { L, type LinearObjectivePlan, buildLinearObjectivePlan } from './linearObjectivePlan.ts';
import { type Scores, type Target, scoresFor, selectionScore } from './target.ts';
import type { SplitIndices } from './trainClassifier.ts';

// A linear model fit as the convex problem it is: mean loss (BCE with logits,
// or MSE for the expression target) + λ/2·‖w‖², the bias not penalised,
// minimised full-batch by L-BFGS on the host in float64 over the loss and
// gradient the engine computes (linearObjectivePlan.ts, on either executor).
// The penalty is chosen by validation score over a log grid, each fit
// warm-started from the one before (strong to weak, where the optimum moves
// least), the grid extended where the best lies at an edge.

export interface LinearProblem {
  /** [genes, width] row-major, already normalised: any per-gene input (the flattened window, or other features). */
  readonly features: Float32Array;
  readonly width: number;
  /** Per gene: 0/1, or log10(RPKM + 1). */
  readonly labels: ArrayLike<number>;
  /** train: the labeled training genes the objective sums over; valid: the genes that choose the penalty. */
  readonly split: Pick<SplitIndices, 'train' | 'valid'>;
  readonly target: Target;
}

export interface LinearFitOptions {
  /** On the gradient's infinity norm. The features are normalised and the loss is a mean, so the gradient is
   * O(0.1–1) at the start whatever the number of genes; 1e-5 is then about the relative accuracy the float32
   * sums of the loss and gradient over ≤ ~10^4 genes still resolve, and far below any change in a ranking. */
  readonly gradientTolerance: number;
  readonly maxIterations: number;
}

export const LINEAR_FIT_DEFAULTS: LinearFitOptions = { gradientTolerance: 1e-5, maxIterations: 500 };

/** One iterate of a fit, as a training history records it. */
export interface LinearIterate {
  readonly iteration: number;
  /** Mean loss + λ/2·‖w‖². */
  readonly objective: number;
  readonly gradientNorm: number;
  readonly valid: Scores;
  readonly seconds: number;
}

export interface LinearFit {
  readonly l2: number;
  /** The parameters in the model's flat layout (weight [width, 1], then the bias, padded as the store pads). */
  readonly params: Float32Array;
  readonly iterations: number;
  readonly evaluations: number;
  /** The objective's gradient, infinity norm, at the solution. */
  readonly gradientNorm: number;
  readonly converged: boolean;
  readonly stop: 'gradient' | 'iterations' | 'line search';
  readonly objective: number;
  readonly valid: Scores;
  readonly trace: readonly LinearIterate[];
  readonly seconds: number;
}

/** The engine side of one linear problem: its objective plan on an executor, the data uploaded once. */
export class LinearSolver {
  private readonly weightOffset: number;
  private readonly biasOffset: number;
  private readonly validLabels: number[];

  private constructor(
    readonly exec: Executor & { destroy?: () => void },
    readonly lp: LinearObjectivePlan,
    readonly problem: LinearProblem,
  ) {
    const [weight, bias] = lp.model.store.parameters;
    if (!weight || !bias) throw new Error('linear model: expected a weight and a bias');
    this.weightOffset = weight.offset;
    this.biasOffset = bias.offset;
    this.validLabels = Array.from(problem.split.valid, (g) => problem.labels[g] as number);
  }

  static async create(problem: LinearProblem, executorFor: (plan: Plan) => Promise<Executor & { destroy?: () => void }>): Promise<LinearSolver> {
    const { features, width, labels, split, target } = problem;
    if (!Number.isInteger(width) || width < 1 || features.length !== labels.length * width) {
      throw new Error(`linear model: features hold ${features.length} values, ${labels.length} genes × width ${width} need ${labels.length * width}`);
    }
    if (split.train.length === 0 || split.valid.length === 0) throw new Error(`linear model: needs training and validation genes (train ${split.train.length}, valid ${split.valid.length})`);
    const lp = buildLinearObjectivePlan({ width, trainGenes: split.train.length, validGenes: split.valid.length, target });
    const exec = await executorFor(lp.plan);
    const rows = (genes: Uint32Array) => {
      const out = new Float32Array(genes.length * width);
      genes.forEach((g, i) => out.set(features.subarray(g * width, (g + 1) * width), i * width));
      return out;
    };
    exec.write(L.trainX, rows(split.train));
    exec.write(L.trainY, Float32Array.from(split.train, (g) => labels[g] as number));
    exec.write(L.validX, rows(split.valid));
    exec.write(L.step, [0]);
    return new LinearSolver(exec, lp, problem);
  }

  destroy(): void {
    this.exec.destroy?.();
  }

  /** Parameters: the weights then the bias, `width + 1` numbers. */
  get size(): number {
    return this.problem.width + 1;
  }

  /** θ = [w, b] in the store's flat layout (float64: a float64 CPU executor keeps every digit, the others round). */
  flat(theta: Float64Array): Float64Array {
    const out = new Float64Array(this.lp.model.store.total);
    const w = this.problem.width;
    for (let i = 0; i < w; i++) out[this.weightOffset + i] = theta[i] as number;
    out[this.biasOffset] = theta[w] as number;
    return out;
  }

  /** The penalised objective, its gradient and the validation outputs at θ. */
  async evaluate(theta: Float64Array, l2: number): Promise<{ value: number; gradient: Float64Array; extra: Float32Array }> {
    const w = this.problem.width;
    this.exec.write(PARAMS, this.flat(theta));
    await this.exec.run(1, 'evaluate');
    const loss = (await this.exec.read(L.loss))[0] as number;
    const grads = await this.exec.read(GRADS);
    const outputs = Float32Array.from(await this.exec.read(this.lp.validOutputs));
    const gradient = new Float64Array(w + 1);
    let penalty = 0;
    for (let i = 0; i < w; i++) {
      const wi = theta[i] as number;
      penalty += wi * wi;
      gradient[i] = (grads[this.weightOffset + i] as number) + l2 * wi;
    }
    gradient[w] = grads[this.biasOffset] as number;
    return { value: loss + (l2 / 2) * penalty, gradient, extra: outputs };
  }

  /** Fits at penalty `l2` from `start` (zeros by default). */
  async fit(l2: number, start: Float64Array = new Float64Array(this.size), o: LinearFitOptions = LINEAR_FIT_DEFAULTS): Promise<LinearFit & { theta: Float64Array }> {
    const t0 = performance.now();
    let last = t0;
    const trace: LinearIterate[] = [];
    const target = this.problem.target;
    const onIterate = (it: Iterate<unknown>) => {
      const now = performance.now();
      trace.push({ iteration: it.iteration, objective: it.value, gradientNorm: it.gradientNorm, valid: scoresFor(target, this.validLabels, it.extra as Float32Array), seconds: (now - last) / 1000 });
      last = now;
    };
    // The loss comes back as a float32 sum over the genes: a rise below its rounding is no rise.
    const valueNoise = (v: number) => 32 * 2 ** -24 * Math.abs(v);
    const r = await lbfgs((x) => this.evaluate(x, l2), start, { ...o, valueNoise, onIterate });
    return {
      l2,
      theta: r.x,
      params: Float32Array.from(this.flat(r.x)),
      iterations: r.iterations,
      evaluations: r.evaluations,
      gradientNorm: r.gradientNorm,
      converged: r.converged,
      stop: r.stop,
      objective: r.value,
      valid: scoresFor(target, this.validLabels, r.extra),
      trace,
      seconds: (performance.now() - t0) / 1000,
    };
  }
}

/** What the search needs of a solver (LinearSolver; a stand-in in the tests of the search itself). */
export interface PenaltyFitter {
  fit(l2: number, start: Float64Array | undefined, o: LinearFitOptions): Promise<LinearFit & { theta: Float64Array }>;
}

/** What a penalty search records per penalty tried (metrics.json). */
export interface PenaltyFitRecord {
  readonly l2: number;
  readonly validScore: number;
  readonly iterations: number;
  readonly gradientNorm: number;
  readonly converged: boolean;
  readonly stop: LinearFit['stop'];
  readonly objective: number;
  readonly seconds: number;
}

export interface PenaltySearchResult {
  /** The penalties tried, strongest first. */
  readonly records: readonly PenaltyFitRecord[];
  readonly best: LinearFit;
  /** Set when the best penalty is still the grid's weakest ('low') or strongest ('high') after extending it. */
  readonly penaltyAtEdge?: 'low' | 'high';
}

export interface PenaltyGrid {
  /** Penalties, any order (fit strongest first). */
  readonly values: readonly number[];
  /** How far the grid may grow past each end when the best lies there: the extra values, nearest first. */
  readonly extendLow: readonly number[];
  readonly extendHigh: readonly number[];
}

const recordOf = (f: LinearFit): PenaltyFitRecord => ({
  l2: f.l2,
  validScore: selectionScore(f.valid),
  iterations: f.iterations,
  gradientNorm: f.gradientNorm,
  converged: f.converged,
  stop: f.stop,
  objective: f.objective,
  seconds: f.seconds,
});

/** Fits every penalty of the grid (warm-started, strongest first) and keeps the best validation score;
 * ties go to the stronger penalty (the simpler model). Where the best is at an end of the grid, the grid
 * is extended one step at a time past it, while that keeps improving or tying. */
export async function searchPenalty(
  solver: PenaltyFitter,
  grid: PenaltyGrid,
  o: LinearFitOptions = LINEAR_FIT_DEFAULTS,
  onFit?: (f: LinearFit) => void,
): Promise<PenaltySearchResult> {
  const fits = new Map<number, LinearFit & { theta: Float64Array }>();
  let theta: Float64Array | undefined;
  const fitAt = async (l2: number) => {
    const f = await solver.fit(l2, theta, o);
    theta = f.theta;
    fits.set(l2, f);
    onFit?.(f);
  };
  for (const l2 of [...grid.values].sort((a, b) => b - a)) await fitAt(l2);
  const bestOf = () => [...fits.values()].sort((a, b) => b.l2 - a.l2).reduce((best, f) => (selectionScore(f.valid) > selectionScore(best.valid) ? f : best));
  const edge = (): 'low' | 'high' | undefined => {
    const l2s = [...fits.keys()];
    const b = bestOf().l2;
    if (l2s.length < 2) return undefined;
    if (b === Math.min(...l2s)) return 'low';
    if (b === Math.max(...l2s)) return 'high';
    return undefined;
  };
  const extend = async (side: 'low' | 'high', more: readonly number[]) => {
    // Warm start from the fit nearest the new penalties.
    theta = bestOf().theta;
    for (const l2 of more) {
      if (edge() !== side) return;
      await fitAt(l2);
    }
  };
  if (edge() === 'low') await extend('low', grid.extendLow);
  else if (edge() === 'high') await extend('high', grid.extendHigh);
  const best = bestOf();
  const atEdge = edge();
  const { theta: _, ...kept } = best;
  return {
    records: [...fits.values()].sort((a, b) => b.l2 - a.l2).map(recordOf),
    best: kept,
    ...(atEdge ? { penaltyAtEdge: atEdge } : {}),
  };
}

/** Fits and searches `problem` on a fresh executor, and releases it. */
export async function fitLinearModel(
  problem: LinearProblem,
  grid: PenaltyGrid,
  executorFor: (plan: Plan) => Promise<Executor & { destroy?: () => void }>,
  o: LinearFitOptions = LINEAR_FIT_DEFAULTS,
  onFit?: (f: LinearFit) => void,
): Promise<PenaltySearchResult> {
  const solver = await LinearSolver.create(problem, executorFor);
  try {
    return await searchPenalty(solver, grid, o, onFit);
  } finally {
    solver.destroy();
  }
}
