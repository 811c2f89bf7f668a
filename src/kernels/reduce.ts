import { fill, sumAll, sumRows } from '../cpu/reduce.ts';
import {
  type Access,
  type DType,
  type FloatArray,
  type GpuDispatch,
  type Kernel,
  MAX_WORKGROUPS_PER_DIM,
  type TensorSpec,
  f32Slot,
  grid1d,
  requirePositiveInts,
  uniformBlock,
} from './kernel.ts';

// Sums as fixed workgroup trees (see shaders/reduce.wgsl): the same inputs
// give the same bits on every run, which atomics could not promise.

const WG = 256;
/** A workgroup should add at least this many terms per invocation before its tree... */
const MIN_TERMS_PER_LANE = 16;
/** ...and at most about this many, to keep f32 running sums short. */
const MAX_TERMS_PER_LANE = 64;
/** Enough workgroups in flight to fill a large GPU. */
const TARGET_WORKGROUPS = 512;
/** Caps the partials, so the second pass stays one workgroup (per column group). */
const MAX_CHUNKS = 1024;

const U32_MAX = 0xffffffff;
/** Keeps u32 indices and `i += WG` loops in the shaders from wrapping. */
const MAX_ELEMENTS = 2 ** 31;

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export interface SumRowsOptions {
  readonly rows: number;
  readonly cols: number;
  /** Add into `out` instead of overwriting it (gradient accumulation). */
  readonly accumulate?: boolean;
}

/** How sum_rows tiles a [rows, cols] sum; exported for the tests of the two-pass path. */
export interface SumRowsTiling {
  /** Columns per workgroup (contiguous loads) and lanes down the rows; TC * TR = 256. */
  readonly tc: number;
  readonly tr: number;
  readonly colGroups: number;
  /** Row chunks in the first pass; 1 means a single pass straight into `out`. */
  readonly chunks: number;
  readonly chunkRows: number;
}

export function sumRowsTiling(rows: number, cols: number): SumRowsTiling {
  const tc = Math.min(64, nextPowerOfTwo(cols));
  const tr = WG / tc;
  const colGroups = Math.ceil(cols / tc);
  const wanted = Math.max(Math.ceil(TARGET_WORKGROUPS / colGroups), Math.ceil(rows / (tr * MAX_TERMS_PER_LANE)));
  let chunks = Math.max(1, Math.min(wanted, Math.ceil(rows / (tr * MIN_TERMS_PER_LANE)), MAX_CHUNKS));
  const chunkRows = Math.ceil(rows / chunks);
  chunks = Math.ceil(rows / chunkRows);
  return { tc, tr, colGroups, chunks, chunkRows };
}

/** out [cols] = Σ_r x [rows, cols] (row-major), e.g. a bias gradient from dy [batch, features];
 * with `accumulate`, out += that sum. */
export function sumRowsKernel(opts: SumRowsOptions): Kernel {
  const accumulate = opts.accumulate ?? false;
  const name = `reduce.sumRows${accumulate ? '[accumulate]' : ''}`;
  const { rows, cols } = opts;
  requirePositiveInts(name, { rows, cols });
  if (rows * cols > MAX_ELEMENTS) throw new Error(`${name}: ${rows} x ${cols} is more than 2^31 elements`);
  const tiling = sumRowsTiling(rows, cols);
  const { tc, tr, colGroups, chunks, chunkRows } = tiling;
  if (colGroups > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${name}: ${cols} columns need ${colGroups} workgroups, more than ${MAX_WORKGROUPS_PER_DIM}`);
  }
  const pass = (fromPartials: boolean, final: boolean, r: number, cr: number, groupsY: number): GpuDispatch => ({
    shader: 'reduce',
    entryPoint: 'sum_rows',
    defines: { SUM_ROWS: true, FROM_PARTIALS: fromPartials, ACCUMULATE: final && accumulate },
    constants: { TC: tc, TR: tr },
    bindings: [fromPartials ? 'partials' : 'x', final ? 'out' : 'partials'],
    uniforms: uniformBlock([
      ['u32', r],
      ['u32', cols],
      ['u32', cr],
    ]),
    workgroups: [colGroups, groupsY, 1],
  });
  const sizes = { rows, cols, accumulate };
  return {
    name,
    slots: { x: f32Slot([rows, cols], 'read'), out: f32Slot([cols], 'read_write') },
    ...(chunks > 1 ? { scratch: { partials: { shape: [chunks, cols], dtype: 'f32' as const } } } : {}),
    cpu: (t) => sumRows(sizes, t.x as FloatArray, t.out as FloatArray),
    gpu: () =>
      chunks === 1
        ? [pass(false, true, rows, rows, 1)]
        : [pass(false, false, rows, chunkRows, chunks), pass(true, true, chunks, chunks, 1)],
  };
}

export interface SumAllOptions {
  readonly n: number;
  /** Multiplies the sum (1/n gives a mean); default 1. */
  readonly scale?: number;
  /** Add into out[0] instead of overwriting it (e.g. a loss summed over an epoch). */
  readonly accumulate?: boolean;
  /** Sum x² instead of x: a squared L2 norm (the gradient-norm clip's). */
  readonly squares?: boolean;
}

/** How sum_all splits n elements over workgroups; shared with the BCE loss. */
export interface SumAllTiling {
  readonly groups: number;
  /** Elements per workgroup; the last one may get fewer. */
  readonly chunk: number;
}

export function sumAllTiling(n: number): SumAllTiling {
  let groups = Math.max(1, Math.min(Math.ceil(n / (WG * MIN_TERMS_PER_LANE)), MAX_CHUNKS));
  const chunk = Math.ceil(n / groups);
  groups = Math.ceil(n / chunk);
  return { groups, chunk };
}

/** The pass that folds per-workgroup partials into dst[0] (+)= scale · Σ partials. */
export function sumPartialsDispatch(
  partials: string,
  dst: string,
  count: number,
  scale: number,
  accumulate: boolean,
): GpuDispatch {
  return {
    shader: 'reduce',
    entryPoint: 'sum_all',
    defines: { SUM_ALL: true, SRC_READ_WRITE: true, FINAL: true, ACCUMULATE: accumulate },
    constants: { WG },
    bindings: [partials, dst],
    uniforms: uniformBlock([
      ['u32', count],
      ['u32', count],
      ['f32', scale],
    ]),
    workgroups: [1, 1, 1],
  };
}

/** The scratch a sum over n elements folds its partials through, when one workgroup will not do. */
export function sumAllScratch(n: number): Readonly<Record<string, TensorSpec>> {
  const { groups } = sumAllTiling(n);
  return groups > 1 ? { partials: { shape: [groups], dtype: 'f32' } } : {};
}

/** The dispatches of dst[0] (+)= scale · Σ src[i] (or src[i]²) over n elements: one pass, or a pass into the
 * scratch `partials` (sumAllScratch) and one over those. A family that needs a sum inside its own kernel appends
 * these; `srcAccess` is how its kernel declares `src` (a binding's access must match its slot's). */
export function sumAllDispatches(src: string, dst: string, opts: SumAllOptions, srcAccess: Access = 'read'): GpuDispatch[] {
  const { n } = opts;
  const scale = opts.scale ?? 1;
  const accumulate = opts.accumulate ?? false;
  const { groups, chunk } = sumAllTiling(n);
  const firstPass = (final: boolean): GpuDispatch => ({
    shader: 'reduce',
    entryPoint: 'sum_all',
    defines: {
      SUM_ALL: true,
      SRC_READ_WRITE: srcAccess === 'read_write',
      FINAL: final,
      ACCUMULATE: final && accumulate,
      SQUARES: opts.squares ?? false,
    },
    constants: { WG },
    bindings: [src, final ? dst : 'partials'],
    uniforms: uniformBlock([
      ['u32', n],
      ['u32', chunk],
      ['f32', scale],
    ]),
    workgroups: [groups, 1, 1],
  });
  return groups === 1 ? [firstPass(true)] : [firstPass(false), sumPartialsDispatch('partials', dst, groups, scale, accumulate)];
}

/** out [1] = scale · Σ x [n] (or Σ x², `squares`); with `accumulate`, out[0] += that. Two passes
 * (partials in scratch) when n is more than one workgroup should take. */
export function sumAllKernel(opts: SumAllOptions): Kernel {
  const accumulate = opts.accumulate ?? false;
  const scale = opts.scale ?? 1;
  const squares = opts.squares ?? false;
  const name = `reduce.sumAll${squares ? '[squares]' : ''}${accumulate ? '[accumulate]' : ''}`;
  const { n } = opts;
  requireSumLength(name, n);
  if (!Number.isFinite(scale)) throw new Error(`${name}: scale must be a finite number, got ${scale}`);
  const sizes = { n, scale, accumulate, squares };
  return {
    name,
    slots: { x: f32Slot([n], 'read'), out: f32Slot([1], 'read_write') },
    scratch: sumAllScratch(n),
    cpu: (t) => sumAll(sizes, t.x as FloatArray, t.out as FloatArray),
    gpu: () => sumAllDispatches('x', 'out', sizes),
  };
}

/** n must be a positive integer the shaders' u32 indices cannot wrap on. */
export function requireSumLength(name: string, n: number): void {
  requirePositiveInts(name, { n });
  if (n > MAX_ELEMENTS) throw new Error(`${name}: n = ${n} is more than 2^31 elements`);
}

export interface FillOptions {
  readonly n: number;
  readonly value: number;
  /** 'u32' resets counters (e.g. the Adam step); default 'f32'. */
  readonly dtype?: DType;
}

/** out [n] = value: resets accumulators on the GPU, inside a plan. */
export function fillKernel(opts: FillOptions): Kernel {
  const dtype = opts.dtype ?? 'f32';
  const { n, value } = opts;
  const name = `reduce.fill[${dtype}]`;
  requirePositiveInts(name, { n });
  if (n > MAX_ELEMENTS) throw new Error(`${name}: n = ${n} is more than 2^31 elements`);
  if (dtype === 'u32' && !(Number.isInteger(value) && value >= 0 && value <= U32_MAX)) {
    throw new Error(`${name}: value must be an integer in [0, ${U32_MAX}], got ${value}`);
  }
  if (dtype === 'f32' && !Number.isFinite(Math.fround(value))) {
    throw new Error(`${name}: value must be a finite f32, got ${value}`);
  }
  return {
    name,
    slots: { out: { shape: [n], dtype, access: 'read_write' } },
    cpu: (t) => fill(n, value, t.out as FloatArray | Uint32Array),
    gpu: () => [
      {
        shader: 'reduce',
        entryPoint: 'fill',
        defines: { FILL_U32: dtype === 'u32' },
        constants: { WG },
        bindings: ['out'],
        uniforms: uniformBlock([
          ['u32', n],
          [dtype, value],
        ]),
        workgroups: grid1d(n, WG),
      },
    ],
  };
}

/** out [n] = 0. */
export function zeroKernel(opts: { readonly n: number; readonly dtype?: DType }): Kernel {
  return fillKernel({ n: opts.n, value: 0, dtype: opts.dtype ?? 'f32' });
}
