import { counterIncrementKernel } from '../kernels/counter.ts';
import { elementCount } from '../kernels/kernel.ts';
import { gatherRowsKernel } from '../kernels/gather.ts';
import { storeRowsKernel } from '../kernels/storeRows.ts';
import { type BuildContext, backwardAll, checkChain, forwardAll } from '../nn/layer.ts';
import type { Model } from '../nn/model.ts';
import { GRADS, PARAMS } from '../nn/parameters.ts';
import type { Executor } from '../plan/executor.ts';
import { Plan } from '../plan/plan.ts';
import { runInSlices } from './runInSlices.ts';

// A vector–Jacobian product through a model's layers, as one plan segment
// "explain": a batch of input rows goes forward as prediction does (dropout
// the identity), the seed rows go in as dL/d(output), and the layers'
// backward runs down to the input. The rows and seeds of many batches are
// uploaded at once and the cursor walks them on the device, so a run of any
// number of rows is one submit (run(batches, 'explain')), as predict's is.
// With a seed of 1 on a one-output model the result is d(logit)/d(input);
// on a VAE encoder's mean (explain.ts), the seed is the classifier's gradient
// with respect to that mean. Parameter gradients are computed by the same
// backward calls and land in the store's gradient buffer, which nothing reads.

export const EXPLAIN_SEGMENT = 'explain';

const E = {
  rows: 'explain.rows',
  seeds: 'explain.seeds',
  order: 'explain.order',
  cursor: 'explain.cursor',
  step: 'explain.step',
  outputs: 'explain.outputs',
  inputGrads: 'explain.inputGrads',
} as const;

/** A host array a plan tensor can be read into: float64 where the CPU executor runs in float64. */
export type Values = Float32Array | Float64Array;

export interface InputGradients {
  /** The model's outputs [rows, outWidth]. */
  readonly outputs: Values;
  /** Σ_o seed[r, o] · d output[r, o] / d input[r, i], [rows, inWidth]. */
  readonly inputGrads: Values;
}

/** Rows one run of the plan takes at most: enough for a few thousand genes' integrated-gradient steps, small
 * enough that the uploaded rows and the gradients stay well inside a storage binding (128 MiB by default). */
const MAX_CHUNK_ELEMENTS = 1 << 22;

export class InputGradientPlan {
  readonly plan: Plan;
  readonly inWidth: number;
  readonly outWidth: number;
  /** Rows one run takes: whole batches. */
  readonly capacity: number;
  readonly batch: number;

  constructor(
    readonly model: Model,
    rows: number,
    seed = 0,
  ) {
    checkChain(model.layers);
    const last = model.layers[model.layers.length - 1];
    if (!last) throw new Error('explain: a model with no layers');
    this.inWidth = elementCount(model.inputShape);
    this.outWidth = elementCount(last.outputShape);
    const widest = Math.max(this.inWidth, this.outWidth);
    this.batch = Math.max(1, Math.min(256, rows));
    const maxRows = Math.max(this.batch, Math.floor(MAX_CHUNK_ELEMENTS / widest / this.batch) * this.batch);
    this.capacity = Math.min(Math.ceil(rows / this.batch) * this.batch, maxRows);
    const plan = new Plan();
    this.plan = plan;
    model.store.declare(plan);
    plan.tensor(E.rows, [this.capacity, this.inWidth]);
    plan.tensor(E.seeds, [this.capacity, this.outWidth]);
    plan.tensor(E.order, [this.capacity], 'u32');
    plan.tensor(E.cursor, [1], 'u32');
    plan.tensor(E.step, [1], 'u32');
    plan.tensor(E.outputs, [this.capacity, this.outWidth]);
    plan.tensor(E.inputGrads, [this.capacity, this.inWidth]);
    plan.segment(EXPLAIN_SEGMENT);
    const ctx: BuildContext = { plan, batch: this.batch, training: false, prefix: 'explain/', step: E.step, seed, saved: new Map() };
    const gather = (source: string, width: number, name: string): string => {
      const out = plan.tensor(`explain/${name}`, [this.batch, width]);
      plan.call(gatherRowsKernel({ rows: this.capacity, rowSize: width, batch: this.batch, indexLength: this.capacity }), {
        source,
        order: E.order,
        cursor: E.cursor,
        out,
      });
      return out;
    };
    const xFlat = gather(E.rows, this.inWidth, 'x');
    const x = model.inputShape.length === 1 ? xFlat : plan.view('explain/x.shaped', xFlat, 0, [this.batch, ...model.inputShape]);
    const seedRows = gather(E.seeds, this.outWidth, 'seed');
    const y = forwardAll(ctx, model.layers, x);
    const store = (src: string, width: number, dest: string): void => {
      plan.call(storeRowsKernel({ batch: this.batch, rowSize: width, capacity: this.capacity }), { src, cursor: E.cursor, dest });
    };
    store(plan.view('explain/y.flat', y, 0, [this.batch, this.outWidth]), this.outWidth, E.outputs);
    const dy = plan.view('explain/seed.shaped', seedRows, 0, [this.batch, ...last.outputShape]);
    const dx = backwardAll(ctx, model.layers, dy, true) as string;
    store(plan.view('explain/dx.flat', dx, 0, [this.batch, this.inWidth]), this.inWidth, E.inputGrads);
    plan.call(counterIncrementKernel(), { step: E.cursor });
  }

  /** Puts the model's parameters on the device (once per executor). */
  initialise(exec: Executor, params: ArrayLike<number>): void {
    exec.write(PARAMS, params);
    exec.write(GRADS, new Float32Array(this.model.store.total));
    exec.write(E.step, [0]);
    exec.write(E.order, Uint32Array.from({ length: this.capacity }, (_, i) => i));
  }

  /** The outputs and seeded input gradients of `rows` [n, inWidth], `seeds` [n, outWidth] (undefined: ones), in
   * runs of `capacity` rows, each one submit. */
  async run(exec: Executor, rows: ArrayLike<number>, seeds?: ArrayLike<number>): Promise<InputGradients> {
    const n = rows.length / this.inWidth;
    if (!Number.isInteger(n)) throw new Error(`explain: ${rows.length} values are not whole rows of ${this.inWidth}`);
    if (seeds !== undefined && seeds.length !== n * this.outWidth) throw new Error(`explain: ${seeds.length} seeds for ${n} rows of ${this.outWidth} outputs`);
    const precise = rows instanceof Float64Array;
    const make = (size: number): Values => (precise ? new Float64Array(size) : new Float32Array(size));
    const outputs = make(n * this.outWidth);
    const inputGrads = make(n * this.inWidth);
    const chunkRows = make(this.capacity * this.inWidth);
    const chunkSeeds = make(this.capacity * this.outWidth);
    for (let start = 0; start < n; start += this.capacity) {
      const count = Math.min(this.capacity, n - start);
      chunkRows.fill(0);
      chunkRows.set(slice(rows, start * this.inWidth, (start + count) * this.inWidth));
      if (seeds === undefined) chunkSeeds.fill(1);
      else {
        chunkSeeds.fill(0);
        chunkSeeds.set(slice(seeds, start * this.outWidth, (start + count) * this.outWidth));
      }
      exec.write(E.rows, chunkRows);
      exec.write(E.seeds, chunkSeeds);
      exec.write(E.cursor, [0]);
      // In slices on the CPU, so that a long run leaves the event loop (Ctrl-C) a turn between them.
      await runInSlices(exec, Math.ceil(count / this.batch), EXPLAIN_SEGMENT);
      const [y, dx] = [await exec.read(E.outputs), await exec.read(E.inputGrads)];
      outputs.set(y.subarray(0, count * this.outWidth), start * this.outWidth);
      inputGrads.set(dx.subarray(0, count * this.inWidth), start * this.inWidth);
    }
    return { outputs, inputGrads };
  }
}

function slice(a: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as Float32Array).subarray(from, to) : Array.prototype.slice.call(a, from, to);
}
