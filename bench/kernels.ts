// Kernel benchmark: our WGSL kernels against TensorFlow.js's WebGPU backend,
// on the same adapter, in the same run.
//
//   npx tsx bench/kernels.ts [--batch 64] [--max-square N] [--reps N] [--target-ms N]
//                            [--only a,b] [--no-tfjs] [--json FILE]
//
// Cases (each family's bench cases, src/kernels/<family>.cases.ts, in the
// order of src/kernels/families.ts; TF.js's twins in bench/lib/kernelCases.ts): square matmuls 64 … 2048, the models' real
// matmul shapes, conv1d forward and backward at the models' shapes, the fused
// ELBO, Adam over the VAE's parameters. For each: the napkin math (FLOPs and
// the fewest bytes moved), then per engine the median over --reps of one
// timed batch of R back-to-back operations, R chosen so a batch lasts about
// --target-ms on our engine and used for both engines.
//   GPU time: ours from timestamps written at the start and end of one pass
//   holding the R dispatches (GpuExecutor.timedRun); TF.js's from tf.time(),
//   which times each of its kernels in its own pass with timestamp queries.
//   Wall time: submit to done on the host clock, R operations, queue drained
//   first; for TF.js this includes its per-op JavaScript (shape checks,
//   uniform and bind-group creation), for ours the recording of the pass.
// Without 'timestamp-query' only wall times are shown. Before timing, each
// case runs once on both engines from the same inputs and the outputs are
// compared (max |ours − TF.js| / max |TF.js|), so every ratio compares the
// same computation.
// On a software adapter the square matmuls stop at 512 unless --max-square is
// given (on SwiftShader 512 takes about 3 s per operation, 1024 about 20 s and
// 2048 minutes, times some twenty operations per engine).

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { acquireGpu, type Gpu } from '../src/gpu/device.ts';
import { heuristicGemmVariant } from '../src/kernels/gemm.ts';
import { GEMM_VARIANTS, type GemmVariant, type GpuTarget } from '../src/kernels/gpuTarget.ts';
import { VariantPolicy, gemmProblems } from '../src/plan/autotune.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { maxRelError } from '../src/plan/singleKernel.ts';
import { SQUARE_SIZES } from '../src/kernels/matmul.cases.ts';
import { type Inputs, type KernelCase, type OurSide, kernelCases } from './lib/kernelCases.ts';
import { Flags, describeRun, markdownTable, median, ratio, runInfo, sig } from './lib/report.ts';
import { type TfjsWebgpu, startTfjsWebgpu } from './lib/tfjsWebgpu.ts';

const SOFTWARE_MAX_SQUARE = 512;
const MAX_REPEAT = 1024;

interface Timing {
  /** Per operation, median over reps. */
  readonly gpuMs: number | undefined;
  readonly wallMs: number;
}

interface CaseResult {
  readonly group: string;
  readonly name: string;
  readonly shape: string;
  readonly napkin: string;
  readonly flops: number;
  readonly bytes: number;
  readonly bound: 'compute' | 'memory';
  readonly repeat: number;
  readonly ours: Timing;
  readonly tfjs?: Timing;
  readonly relError?: number;
  readonly tfjsError?: string;
  /** The autotuner's choice for this case's GEMM, and every variant's time. */
  readonly pick?: GemmVariant;
  readonly variants?: readonly VariantResult[];
}

function perOp(xs: readonly number[], repeat: number): number {
  return median(xs) / repeat;
}

async function timeOurs(
  gpu: Gpu,
  side: OurSide,
  reps: number,
  targetMs: number,
  target: GpuTarget,
  cutoffMs = Number.POSITIVE_INFINITY,
): Promise<{ exec: GpuExecutor; repeat: number; timing: Timing; output: Float32Array; inputs: Inputs; cut: boolean }> {
  const exec = await GpuExecutor.create(gpu, side.plan, target);
  for (const [name, data] of Object.entries(side.inputs)) exec.write(name, data);
  await exec.run(1);
  const output = (await exec.read(side.output)) as Float32Array;
  // Warm-up, then grow R until a batch lasts about targetMs. A fast kernel's
  // first probe may read 0 on a quantized GPU clock (then the wall time, an
  // overestimate, sizes the next probe).
  await exec.run(2);
  let repeat = 1;
  for (let probe = 0; probe < 8; probe++) {
    const t = await exec.timedRun(repeat);
    const ms = t.gpuMs ?? t.wallMs;
    // A variant far slower than the best one so far gets its one probe and no more.
    if (probe === 0 && ms > cutoffMs) {
      return { exec, repeat, output, inputs: side.inputs, cut: true, timing: { gpuMs: t.gpuMs, wallMs: t.wallMs } };
    }
    if (ms >= targetMs / 2 || repeat >= MAX_REPEAT) break;
    repeat = Math.min(MAX_REPEAT, Math.max(2 * repeat, Math.ceil((repeat * targetMs) / Math.max(ms, 0.01))));
  }
  const gpuMs: number[] = [];
  const wallMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = await exec.timedRun(repeat);
    wallMs.push(t.wallMs);
    if (t.gpuMs !== undefined) gpuMs.push(t.gpuMs);
  }
  return {
    exec,
    repeat,
    output,
    inputs: side.inputs,
    cut: false,
    timing: { gpuMs: gpuMs.length === reps ? perOp(gpuMs, repeat) : undefined, wallMs: perOp(wallMs, repeat) },
  };
}

interface VariantResult {
  readonly variant: GemmVariant;
  readonly ms: number | undefined;
  /** Timed once only: more than 4x slower than the best variant so far. */
  readonly cut: boolean;
  readonly relError: number;
}

/** Every variant of the case's one GEMM (`key`), forced in turn, on the same plan and inputs. */
async function timeVariantsOf(gpu: Gpu, side: OurSide, key: string, reps: number, targetMs: number, reference: Float32Array): Promise<VariantResult[]> {
  const out: VariantResult[] = [];
  let best = Number.POSITIVE_INFINITY;
  for (const variant of GEMM_VARIANTS) {
    const target: GpuTarget = { gemmVariant: (k, shape) => (k === key ? variant : heuristicGemmVariant(shape)) };
    try {
      side.plan.calls.forEach((call) => call.kernel.gpu(target));
    } catch {
      out.push({ variant, ms: undefined, cut: false, relError: Number.NaN });
      continue;
    }
    const r = await timeOurs(gpu, side, reps, targetMs, target, 4 * best);
    r.exec.destroy();
    const ms = gpu.hasTimestamps ? r.timing.gpuMs : r.timing.wallMs;
    if (!r.cut && ms !== undefined) best = Math.min(best, ms);
    out.push({ variant, ms, cut: r.cut, relError: maxRelError(r.output, reference) });
  }
  return out;
}

async function timeTfjs(t: TfjsWebgpu, c: KernelCase, inputs: Inputs, repeat: number, reps: number): Promise<{ timing: Timing; output: Float32Array }> {
  const { tf } = t;
  const side = c.tfjs(tf, inputs);
  try {
    const output = await side.result();
    const batch = (): void => {
      for (let i = 0; i < repeat; i++) tf.tidy(() => side.run());
    };
    batch();
    await t.sync();
    const wallMs: number[] = [];
    for (let r = 0; r < reps; r++) {
      await t.sync();
      const t0 = performance.now();
      batch();
      await t.sync();
      wallMs.push(performance.now() - t0);
    }
    const gpuMs: number[] = [];
    if (t.hasTimestamps) {
      for (let r = 0; r < reps; r++) {
        const info = await tf.time(batch);
        if (typeof info.kernelMs !== 'number') throw new Error(`tf.time gave no kernel time: ${JSON.stringify(info.kernelMs)}`);
        gpuMs.push(info.kernelMs);
      }
    }
    return { output, timing: { gpuMs: gpuMs.length === reps ? perOp(gpuMs, repeat) : undefined, wallMs: perOp(wallMs, repeat) } };
  } finally {
    side.dispose();
  }
}

function rate(c: CaseResult, ms: number | undefined): string {
  if (ms === undefined) return '—';
  const s = ms / 1000;
  return c.bound === 'compute' ? `${sig(c.flops / s / 1e9)} GFLOP/s` : `${sig(c.bytes / s / 1e9)} GB/s`;
}

function table(results: readonly CaseResult[], timestamps: boolean): string {
  const header = [
    'op',
    'shape',
    'napkin',
    'R',
    timestamps ? 'ours GPU ms' : 'ours wall ms',
    'ours rate',
    timestamps ? 'TF.js GPU ms' : 'TF.js wall ms',
    'TF.js rate',
    'TF.js time / ours',
    'ours wall ms',
    'TF.js wall ms',
    'wall: TF.js / ours',
    'max rel diff',
    'every GEMM variant, ms (* the autotuner\'s pick; ≥ cut after one probe at over 4× the best)',
  ];
  const rows = results.map((r) => {
    const ours = timestamps ? r.ours.gpuMs : r.ours.wallMs;
    const theirs = timestamps ? r.tfjs?.gpuMs : r.tfjs?.wallMs;
    return [
      r.name,
      r.shape,
      r.napkin,
      String(r.repeat),
      sig(ours),
      rate(r, ours),
      r.tfjsError ? 'failed' : sig(theirs),
      rate(r, theirs),
      ratio(theirs, ours),
      sig(r.ours.wallMs),
      sig(r.tfjs?.wallMs),
      ratio(r.tfjs?.wallMs, r.ours.wallMs),
      r.relError === undefined ? '—' : r.relError.toExponential(1),
      variantCell(r),
    ];
  });
  return markdownTable(header, rows);
}

function variantCell(r: CaseResult): string {
  if (!r.variants || r.variants.length === 0) return '—';
  return r.variants
    .map((v) => `${v.variant}${v.variant === r.pick ? '*' : ''} ${v.ms === undefined ? 'n/a' : `${v.cut ? '≥' : ''}${sig(v.ms)}`}`)
    .join('; ');
}

async function main(): Promise<void> {
  const flags = new Flags('bench/kernels.ts', process.argv.slice(2), {
    '--batch': 'value',
    '--max-square': 'value',
    '--reps': 'value',
    '--target-ms': 'value',
    '--only': 'value',
    '--no-tfjs': 'switch',
    '--json': 'value',
    '--no-variants': 'switch',
  });
  const gpu = await acquireGpu();
  // The autotuner as run.ts uses it (its cache file included), so the pick marked is the one training gets.
  const policy = new VariantPolicy(gpu, { mode: 'tune', log: (l) => console.error(l) });
  const info = runInfo(gpu);
  const batch = flags.int('--batch', 64);
  const reps = flags.int('--reps', gpu.isSoftware ? 5 : 15);
  const targetMs = flags.int('--target-ms', gpu.isSoftware ? 50 : 25);
  const maxSquare = flags.int('--max-square', gpu.isSoftware ? SOFTWARE_MAX_SQUARE : Math.max(...SQUARE_SIZES));
  const only = flags.string('--only');
  let cases = kernelCases(batch, maxSquare);
  if (only !== undefined) {
    const wanted = only.split(',').map((s) => s.trim());
    cases = cases.filter((c) => wanted.some((w) => c.name.includes(w) || c.group === w));
    if (cases.length === 0) throw new Error(`bench/kernels.ts: --only ${only} matches no case`);
  }

  console.log('# Kernel benchmark: simplechrome vs TensorFlow.js (WebGPU backend)\n');
  console.log(describeRun(info));
  if (gpu.isSoftware && !flags.has('--max-square')) {
    console.log(`square matmuls capped at ${SOFTWARE_MAX_SQUARE} on this software adapter (--max-square 2048 to run them all)`);
  }
  let tfjs: TfjsWebgpu | undefined;
  let tfjsError: string | undefined;
  if (flags.has('--no-tfjs')) tfjsError = 'not run (--no-tfjs)';
  else {
    const started = await startTfjsWebgpu(gpu);
    if ('error' in started) tfjsError = started.error;
    else tfjs = started;
  }
  console.log(
    tfjs
      ? `TF.js ${tfjs.version}, WebGPU backend, adapter "${tfjs.adapterName}"${tfjs.hasTimestamps ? ' (timestamp-query)' : ''}`
      : `TF.js: NOT RUN: ${tfjsError}`,
  );
  console.log(`batch ${batch}; median of ${reps} batches of R operations each (R ≈ ${targetMs} ms of our engine's work)\n`);

  const results: CaseResult[] = [];
  for (const c of cases) {
    // One plan and one set of inputs per case, shared by the tuner, the pick's timing and every variant's.
    const side = c.ours();
    const target = await policy.targetFor(side.plan);
    const problems = gemmProblems(side.plan);
    const gemm = problems.length === 1 ? problems[0] : undefined;
    const pick = gemm ? target.gemmVariant(gemm.key, gemm.shape) : undefined;
    const ours = await timeOurs(gpu, side, reps, targetMs, target);
    const variants = gemm && !flags.has('--no-variants') ? await timeVariantsOf(gpu, side, gemm.key, reps, targetMs, ours.output) : [];
    let result: CaseResult = {
      group: c.group,
      name: c.name,
      shape: c.shape,
      napkin: c.napkin,
      flops: c.flops,
      bytes: c.bytes,
      bound: c.bound,
      repeat: ours.repeat,
      ours: ours.timing,
      ...(pick ? { pick } : {}),
      variants,
    };
    if (tfjs) {
      try {
        const theirs = await timeTfjs(tfjs, c, ours.inputs, ours.repeat, reps);
        result = { ...result, tfjs: theirs.timing, relError: maxRelError(ours.output, theirs.output) };
      } catch (e) {
        result = { ...result, tfjsError: e instanceof Error ? e.message : String(e) };
      }
    }
    ours.exec.destroy();
    results.push(result);
    const o = gpu.hasTimestamps ? result.ours.gpuMs : result.ours.wallMs;
    const t = gpu.hasTimestamps ? result.tfjs?.gpuMs : result.tfjs?.wallMs;
    console.log(
      `${c.name.padEnd(26)} ${c.shape.padEnd(42)} ours ${sig(o)} ms (${rate(result, o)})` +
        (result.tfjsError ? `  TF.js failed: ${result.tfjsError}` : tfjs ? `  TF.js ${sig(t)} ms (${rate(result, t)})  TF.js/ours ${ratio(t, o)}  diff ${result.relError?.toExponential(1)}` : '') +
        (variants.length > 0 ? `\n    variants: ${variantCell(result)}` : ''),
    );
  }
  const loadEnd = loadavg();
  console.log(`\n${describeRun(info, loadEnd)}\n`);
  console.log(table(results, gpu.hasTimestamps));
  console.log(
    `\n"TF.js time / ours" > 1 means ours is faster. ${gpu.hasTimestamps ? 'GPU ms: ours from one pass of R dispatches between two timestamps; TF.js from tf.time() (per-kernel passes).' : 'Times are submit-to-done wall times.'}`,
  );
  const failures = results.filter((r) => r.tfjsError);
  for (const f of failures) console.log(`TF.js failed on ${f.name}: ${f.tfjsError}`);
  const json = flags.string('--json');
  if (json !== undefined) {
    writeFileSync(json, `${JSON.stringify({ bench: 'kernels', info, loadAtEnd: loadEnd, batch, reps, targetMs, maxSquare, tfjs: tfjs ? { version: tfjs.version, adapter: tfjs.adapterName } : { error: tfjsError }, results }, null, 2)}\n`);
  }
  gpu.destroy();
  // TF.js's device and Dawn's instances would keep the event loop alive.
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
