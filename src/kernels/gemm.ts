import { type GemmShape, type GemmVariant, type GpuTarget } from './gpuTarget.ts';
import { type GpuDispatch, MAX_WORKGROUPS_PER_DIM, type TensorSpec, grid1d, uniformBlock } from './kernel.ts';

// The one GEMM core every matmul and conv1d path runs on (shaders/gemm/), and
// the one place that turns a GEMM's sizes and a variant into dispatches. A
// family (matmul.wgsl, conv1d.wgsl) contributes its operand loads and its
// epilogue; the variant decides how the output is walked. Which variant runs
// is the device's business: kernels ask a GpuTarget, which the GPU executor
// fills from the autotuner's measurements, a forced choice, or the heuristic.

/** Without measurements: large register blocks where the output has room for
 * them, an in-workgroup depth reduction where the output is too small to
 * occupy a GPU but the depth is long. Deterministic, so a run without timing
 * is reproducible. */
export function heuristicGemmVariant(s: GemmShape): GemmVariant {
  if (s.M * s.N <= 4096 && s.K >= 2048) return 'reduce4x4';
  const tallRows = s.M >= 32;
  const wideCols = s.N >= 32;
  if (tallRows && wideCols) return 'register8x8';
  if (tallRows) return 'register8x4';
  if (wideCols) return 'register4x8';
  return 'register4x4';
}

export const HEURISTIC_TARGET: GpuTarget = { gemmVariant: (_key, shape) => heuristicGemmVariant(shape) };

/** Every call gets `variant` (tests and benches forcing one). */
export function forcedTarget(variant: GemmVariant): GpuTarget {
  return { gemmVariant: () => variant };
}

/** A family's half of a GEMM dispatch: its shader file, flags and constants,
 * the bindings it declares (the core adds `partials` last for split-K), and
 * its uniform block given the split length and count (the core reads M, N, K,
 * split_len, splits as the block's first five u32s). */
export interface GemmFrontend {
  readonly shader: string;
  readonly defines: Readonly<Record<string, boolean>>;
  readonly constants: Readonly<Record<string, number>>;
  readonly bindings: readonly string[];
  uniforms(splitLen: number, splits: number): ArrayBuffer;
}

/** The Params head every GEMM family's uniform block starts with. */
export function gemmParams(
  s: GemmShape,
  splitLen: number,
  splits: number,
  rest: readonly (readonly ['u32' | 'f32' | 'i32', number])[],
): ArrayBuffer {
  return uniformBlock([['u32', s.M], ['u32', s.N], ['u32', s.K], ['u32', splitLen], ['u32', splits], ...rest]);
}

const PARTIALS = 'gemm.partials';
const REGISTER_WG = 8;
const SPLIT_TARGET_WORKGROUPS = 256;
const MAX_SPLITS = 64;
const MIN_SPLIT_DEPTH = 64;

interface RegisterBlock {
  readonly rows: 4 | 8;
  readonly cols: 4 | 8;
}

function registerBlock(v: GemmVariant): RegisterBlock | undefined {
  switch (v) {
    case 'register4x4':
    case 'splitk4x4':
      return { rows: 4, cols: 4 };
    case 'register8x4':
      return { rows: 8, cols: 4 };
    case 'register4x8':
      return { rows: 4, cols: 8 };
    case 'register8x8':
      return { rows: 8, cols: 8 };
    case 'tiled64':
    case 'reduce4x4':
      return undefined;
  }
}

function requireGroups(name: string, what: string, groups: number): number {
  if (groups > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${name}: ${what} need ${groups} workgroups, more than the ${MAX_WORKGROUPS_PER_DIM} a dispatch allows`);
  }
  return groups;
}

/** How split-K divides the depth: enough splits to give a small output a few
 * hundred workgroups, none shallower than MIN_SPLIT_DEPTH, lengths a multiple of 4. */
export function splitPlan(s: GemmShape): { readonly splitLen: number; readonly splits: number } {
  const tiles = Math.ceil(s.M / (4 * REGISTER_WG)) * Math.ceil(s.N / (4 * REGISTER_WG));
  const wanted = Math.max(1, Math.min(MAX_SPLITS, Math.floor(s.K / MIN_SPLIT_DEPTH), Math.ceil(SPLIT_TARGET_WORKGROUPS / tiles)));
  const splitLen = Math.ceil(s.K / wanted / 4) * 4;
  return { splitLen, splits: Math.ceil(s.K / splitLen) };
}

/** The scratch a variant needs (split-K's partial sums). */
export function gemmScratch(s: GemmShape, variant: GemmVariant): Record<string, TensorSpec> {
  if (variant !== 'splitk4x4') return {};
  const { splits } = splitPlan(s);
  return splits > 1 ? { [PARTIALS]: { shape: [splits, s.M, s.N], dtype: 'f32' } } : {};
}

/** The dispatches of one GEMM in the given variant. */
export function gemmDispatches(name: string, s: GemmShape, variant: GemmVariant, f: GemmFrontend): GpuDispatch[] {
  const flags = (extra: Record<string, boolean>): Record<string, boolean> => ({
    ...f.defines,
    GEMM_TILED: false,
    GEMM_REDUCE: false,
    GEMM_SUM_SPLITS: false,
    SPLIT_K: false,
    ROWS8: false,
    COLS8: false,
    ...extra,
  });
  // The two one-dispatch cores that need no splits: a workgroup per tile of `side` x `side` outputs.
  const whole = (entryPoint: string, flag: string, side: number): GpuDispatch[] => [
    {
      shader: f.shader,
      entryPoint,
      defines: flags({ [flag]: true }),
      constants: f.constants,
      bindings: f.bindings,
      uniforms: f.uniforms(s.K, 1),
      workgroups: [requireGroups(name, `${s.N} columns`, Math.ceil(s.N / side)), requireGroups(name, `${s.M} rows`, Math.ceil(s.M / side)), 1],
    },
  ];
  if (variant === 'tiled64') return whole('gemm_tiled', 'GEMM_TILED', 64);
  if (variant === 'reduce4x4') return whole('gemm_reduce', 'GEMM_REDUCE', 4);
  const block = registerBlock(variant) as RegisterBlock;
  const { splitLen, splits } = variant === 'splitk4x4' ? splitPlan(s) : { splitLen: s.K, splits: 1 };
  const split = splits > 1;
  const groupsX = requireGroups(name, `${s.N} columns`, Math.ceil(s.N / (block.cols * REGISTER_WG)));
  const groupsY = requireGroups(name, `${s.M} rows`, Math.ceil(s.M / (block.rows * REGISTER_WG)));
  const uniforms = f.uniforms(splitLen, splits);
  const main: GpuDispatch = {
    shader: f.shader,
    entryPoint: 'gemm_register',
    defines: flags({ SPLIT_K: split, ROWS8: block.rows === 8, COLS8: block.cols === 8 }),
    constants: { ...f.constants, WG_X: REGISTER_WG, WG_Y: REGISTER_WG },
    bindings: split ? [...f.bindings, PARTIALS] : f.bindings,
    uniforms,
    workgroups: [groupsX, groupsY, requireGroups(name, `${splits} splits`, splits)],
  };
  if (!split) return [main];
  return [
    main,
    {
      shader: f.shader,
      entryPoint: 'gemm_sum_splits',
      defines: flags({ SPLIT_K: true, GEMM_SUM_SPLITS: true }),
      constants: { ...f.constants, SUM_WG: 64 },
      bindings: [...f.bindings, PARTIALS],
      uniforms,
      workgroups: grid1d(s.M * s.N, 64),
    },
  ];
}
