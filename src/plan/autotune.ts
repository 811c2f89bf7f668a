import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomically } from '../util/atomicFile.ts';
import type { Gpu } from '../gpu/device.ts';
import { shaderSource } from '../gpu/shaders.ts';
import { heuristicGemmVariant } from '../kernels/gemm.ts';
import { GEMM_VARIANTS, type GemmShape, type GemmVariant, type GpuTarget, isGemmVariant } from '../kernels/gpuTarget.ts';
import type { Kernel } from '../kernels/kernel.ts';
import { uniformArray } from '../util/random.ts';
import { GpuExecutor } from './gpuExecutor.ts';
import type { Plan } from './plan.ts';
import { singleKernelPlan } from './singleKernel.ts';
import { DEFAULT_RACE, type RaceOptions, type Spread, raceVariants } from './variantRace.ts';
import type { VariantMode } from './variantMode.ts';

// Which GEMM variant runs is decided per device by measurement: the first plan
// built on an adapter times every variant of each GEMM it holds (the kernel
// exactly as the plan calls it, on random inputs) and keeps the fastest; the
// choices go to a cache file keyed by adapter, driver and engine version, so a
// later run starts at once. A forced variant (for tests, benches and bug
// reports) or the deterministic heuristic replace the timing.

export const VARIANT_CACHE_ENV = 'SIMPLECHROME_CACHE_DIR';

export { VARIANT_ENV, type VariantMode, parseVariantMode, variantModeFrom } from './variantMode.ts';

export function defaultVariantCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[VARIANT_CACHE_ENV] || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'simplechrome');
  return join(dir, 'gemm-variants.json');
}

/** What the choices depend on: the adapter and its driver (Dawn's description
 * names the driver version), and the GEMM shaders themselves. */
export function adapterKey(gpu: Gpu): string {
  const info = gpu.adapter.info;
  const engine = createHash('sha256').update(shaderSource('matmul')).update(shaderSource('conv1d')).digest('hex').slice(0, 16);
  return [info.vendor, info.architecture, info.device, info.description, `engine ${engine}`].join(' | ');
}

interface CacheFile {
  readonly version: 1;
  readonly adapters: Record<string, Record<string, GemmVariant>>;
  /** Per adapter and problem, min/median/max ms of each leader the choice was made between: whether a choice
   * was clear or a coin toss stays on record. Older caches lack it; only `adapters` is read back. */
  readonly spreads?: Record<string, Record<string, Record<string, Spread>>>;
}

function readCache(file: string): CacheFile {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (parsed.version === 1 && typeof parsed.adapters === 'object' && parsed.adapters !== null) return parsed;
  } catch {
    // Missing or unreadable: start afresh (the cache only saves time).
  }
  return { version: 1, adapters: {} };
}

async function writeCache(
  file: string,
  adapter: string,
  choices: Readonly<Record<string, GemmVariant>>,
  spreads: Readonly<Record<string, Record<string, Spread>>>,
): Promise<void> {
  // Merge with what another process may have written meanwhile; the project's atomic writer leaves no temporary behind.
  const current = readCache(file);
  const merged: CacheFile = {
    version: 1,
    adapters: { ...current.adapters, [adapter]: { ...current.adapters[adapter], ...choices } },
    spreads: { ...current.spreads, [adapter]: { ...current.spreads?.[adapter], ...spreads } },
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomically(file, `${JSON.stringify(merged, null, 1)}\n`);
}

interface Problem {
  readonly key: string;
  readonly shape: GemmShape;
  readonly kernel: Kernel;
}

/** Every GEMM a plan's kernels ask the target about. */
export function gemmProblems(plan: Plan): Problem[] {
  const found = new Map<string, Problem>();
  for (const call of plan.calls) {
    const recorder: GpuTarget = {
      gemmVariant: (key, shape) => {
        if (!found.has(key)) found.set(key, { key, shape, kernel: call.kernel });
        return heuristicGemmVariant(shape);
      },
    };
    // Scratch follows the variant gpu() asks for, so gpu() alone names every problem.
    call.kernel.gpu(recorder);
  }
  return [...found.values()];
}

export interface VariantTiming {
  readonly variant: GemmVariant;
  /** ms of one call: a leader's median over the interleaved rounds, else its one ranking pass, else its
   * probe (cut as far behind); undefined when the variant cannot run this shape. */
  readonly ms: number | undefined;
  /** Leaders only: min, median and max over the interleaved rounds. */
  readonly spread?: Spread;
}

/** reduce4x4 spends a 64-invocation workgroup on each 4×4 block of the output: past REDUCE_MAX_OUTPUTS outputs
 * it has never been near the best anywhere it was timed (SwiftShader: 1.6 s against 2.4 ms for a 1344×32 conv),
 * and its one probe alone cost seconds of tuning. */
export const REDUCE_MAX_OUTPUTS = 16384;

export function worthTiming(variant: GemmVariant, shape: GemmShape): boolean {
  return variant !== 'reduce4x4' || shape.M * shape.N <= REDUCE_MAX_OUTPUTS;
}

/** Times the variants of one kernel's GEMM on random inputs and decides between them (variantRace.ts):
 * a one-call probe each, one ~20 ms pass for those not far behind, then interleaved rounds over the leaders.
 * The result lists every variant: the leaders by median (the winner first), then the others; undefined when
 * `outOfTime` said stop before the race was decided. */
export async function timeVariants(
  gpu: Gpu,
  problem: Problem,
  variants: readonly GemmVariant[] = GEMM_VARIANTS,
  race: RaceOptions = DEFAULT_RACE,
  outOfTime?: () => boolean,
): Promise<VariantTiming[] | undefined> {
  const plan = singleKernelPlan(problem.kernel);
  // The heuristic's pick first: it is usually near the best, so the cut bites early.
  const first = heuristicGemmVariant(problem.shape);
  const order = [first, ...variants.filter((v) => v !== first && worthTiming(v, problem.shape))];
  const executors = new Map<GemmVariant, { exec: GpuExecutor; repeat: number }>();
  try {
    const result = await raceVariants(order, {
      probe: async (variant) => {
        const target: GpuTarget = { gemmVariant: (key, shape) => (key === problem.key ? variant : heuristicGemmVariant(shape)) };
        try {
          problem.kernel.gpu(target);
        } catch {
          return undefined;
        }
        const exec = await GpuExecutor.create(gpu, plan, target);
        let seed = 1;
        for (const [slot, spec] of Object.entries(problem.kernel.slots)) {
          const size = plan.get(slot).size;
          exec.write(slot, spec.dtype === 'u32' ? new Uint32Array(size) : uniformArray(size, seed++));
        }
        const once = await exec.timedRun(1);
        const ms = once.gpuMs ?? once.wallMs;
        executors.set(variant, { exec, repeat: Math.max(1, Math.min(64, Math.ceil(20 / Math.max(ms, 0.01)))) });
        return ms;
      },
      time: async (variant) => {
        const { exec, repeat } = executors.get(variant) as { exec: GpuExecutor; repeat: number };
        const t = await exec.timedRun(repeat);
        return (t.gpuMs ?? t.wallMs) / repeat;
      },
      outOfTime,
    }, race);
    if (result.abandoned) return undefined;
    const spreads = new Map(result.leaders.map((l) => [l.variant, l]));
    const timings: VariantTiming[] = result.candidates.map((c) => {
      const spread = spreads.get(c.variant);
      const ms = spread?.median ?? c.ranking ?? c.probe;
      return spread ? { variant: c.variant, ms, spread: { min: spread.min, median: spread.median, max: spread.max, n: spread.n } } : { variant: c.variant, ms };
    });
    // The leaders fastest median first (the winner leads), then the rest in the order they were probed.
    const rank = new Map(result.leaders.map((l, i) => [l.variant, i]));
    const place = (t: VariantTiming): number => rank.get(t.variant) ?? rank.size;
    return [...timings].sort((a, b) => place(a) - place(b));
  } finally {
    for (const { exec } of executors.values()) exec.destroy();
  }
}

/** "register8x4 median 109 (min 104, max 121) ms over 5, register4x8 …; one pass: tiled64 300 ms; cut: reduce4x4 ≥ 900 ms". */
export function describeTimings(timings: readonly VariantTiming[]): string {
  const f = (ms: number): string => (ms >= 10 ? ms.toFixed(1) : ms.toFixed(3));
  const leaders = timings.flatMap((t) => (t.spread ? [`${t.variant} median ${f(t.spread.median)} (min ${f(t.spread.min)}, max ${f(t.spread.max)}) ms over ${t.spread.n}`] : []));
  const rest = timings.filter((t) => !t.spread && t.ms !== undefined).map((t) => `${t.variant} ${f(t.ms as number)} ms`);
  const cannot = timings.filter((t) => t.ms === undefined).map((t) => t.variant);
  return [leaders.join(', '), rest.length > 0 ? `others: ${rest.join(', ')}` : '', cannot.length > 0 ? `cannot run: ${cannot.join(', ')}` : '']
    .filter((s) => s !== '')
    .join('; ');
}

/** How long one process may spend timing variants, in all: a first run on a software adapter (where one timing
 * can take seconds) must train, not tune for minutes. What is left untimed takes the heuristic's pick and is not
 * cached, so the next run times it within its own budget. */
export const TUNING_BUDGET_MS = { software: 20_000, hardware: 60_000 } as const;

export interface VariantPolicyOptions {
  readonly mode: VariantMode;
  /** The most milliseconds of timing this policy spends (default TUNING_BUDGET_MS for the adapter's kind). */
  readonly budgetMs?: number;
  /** The clock the budget is kept by (tests give a fake one). */
  readonly now?: () => number;
  /** Where tuned choices persist; null keeps them in memory only. */
  readonly cacheFile?: string | null;
  /** Choices that win over everything (a resumed run's recorded ones). */
  readonly pinned?: Readonly<Record<string, GemmVariant>>;
  readonly log?: (line: string) => void;
}

/** The variant policy of one process on one device: hands each plan a target,
 * tuning its GEMMs first when the mode is 'tune', and records every choice
 * given out (metrics.json and checkpoints keep them; --resume pins them). */
export class VariantPolicy {
  private readonly choices = new Map<string, GemmVariant>();
  private readonly given = new Map<string, GemmVariant>();
  private readonly adapter: string;
  private readonly cacheFile: string | null;
  private readonly budgetMs: number;
  private spentMs = 0;
  private announced = false;
  private toldSpent = false;

  constructor(
    private readonly gpu: Gpu,
    private readonly options: VariantPolicyOptions,
  ) {
    this.adapter = adapterKey(gpu);
    this.cacheFile = options.cacheFile === undefined ? defaultVariantCacheFile() : options.cacheFile;
    this.budgetMs = options.budgetMs ?? (gpu.isSoftware ? TUNING_BUDGET_MS.software : TUNING_BUDGET_MS.hardware);
    if (options.mode === 'tune' && this.cacheFile !== null) {
      for (const [k, v] of Object.entries(readCache(this.cacheFile).adapters[this.adapter] ?? {})) {
        if (isGemmVariant(v)) this.choices.set(k, v);
      }
    }
    for (const [k, v] of Object.entries(options.pinned ?? {})) this.choices.set(k, v);
  }

  get mode(): VariantMode {
    return this.options.mode;
  }

  /** Every (problem key → variant) handed to a kernel so far. */
  get used(): Record<string, GemmVariant> {
    return Object.fromEntries([...this.given].sort(([a], [b]) => a.localeCompare(b)));
  }

  async targetFor(plan: Plan): Promise<GpuTarget> {
    const { mode } = this.options;
    if (mode === 'tune') {
      const fresh: Record<string, GemmVariant> = {};
      const todo = gemmProblems(plan).filter((p) => !this.choices.has(p.key));
      const spreads: Record<string, Record<string, Spread>> = {};
      const now = this.options.now ?? (() => performance.now());
      let untimed = 0;
      for (const [i, problem] of todo.entries()) {
        // Each process times at least one product, however small its budget, so that runs make headway.
        if (this.spentMs > 0 && this.spentMs >= this.budgetMs) {
          untimed = todo.length - i;
          break;
        }
        if (!this.announced) {
          this.announced = true;
          this.options.log?.(
            `gemm: timing each matrix product's GEMM variants on ${this.gpu.adapterName}, about ${(this.budgetMs / 1000).toFixed(0)} s in all` +
              `${this.cacheFile !== null ? ` (kept in ${this.cacheFile}, so later runs on this adapter skip it)` : ''}; --gemm heuristic skips the timing`,
          );
        }
        const start = now();
        const spentBefore = this.spentMs;
        const timings = await timeVariants(this.gpu, problem, GEMM_VARIANTS, DEFAULT_RACE, () => spentBefore + now() - start >= this.budgetMs);
        if (timings === undefined) {
          this.spentMs += now() - start;
          if (spentBefore > 0) {
            untimed = todo.length - i;
            break;
          }
          // A product whose timing alone outlasts the whole budget would stop every later run at the same place:
          // it keeps the heuristic's variant, cached, so the next run moves on to the products after it.
          const winner = heuristicGemmVariant(problem.shape);
          this.choices.set(problem.key, winner);
          fresh[problem.key] = winner;
          this.options.log?.(`gemm: timing ${problem.key} alone outlasts the budget; it keeps the heuristic's ${winner}, and later runs time the others`);
          untimed = todo.length - i - 1;
          break;
        }
        // timeVariants puts the race's winner first; a variant that ran only its probe or one pass never wins over a leader.
        const won = timings[0]?.spread ? timings[0].variant : undefined;
        const winner = won ?? heuristicGemmVariant(problem.shape);
        this.choices.set(problem.key, winner);
        fresh[problem.key] = winner;
        spreads[problem.key] = Object.fromEntries(timings.flatMap((t) => (t.spread ? [[t.variant, t.spread]] : [])));
        this.options.log?.(`gemm: tuned ${i + 1}/${todo.length} ${problem.key}: ${winner} (${describeTimings(timings)})`);
        this.spentMs += now() - start;
      }
      if (untimed > 0 && !this.toldSpent) {
        this.toldSpent = true;
        this.options.log?.(
          `gemm: the timing budget (${(this.budgetMs / 1000).toFixed(0)} s) is spent; ${untimed} matrix product${untimed === 1 ? ' takes' : 's take'} the heuristic's variant this run, and a later run times ${untimed === 1 ? 'it' : 'them'}`,
        );
      }
      if (todo.length > 0 && this.cacheFile !== null) {
        // The cache only saves the next run the timing: a home that cannot be written (read-only on a cluster
        // node, full) must not stop a run whose choices are already made.
        try {
          await writeCache(this.cacheFile, this.adapter, fresh, spreads);
        } catch (e) {
          this.options.log?.(
            `gemm: could not keep the tuned variants in ${this.cacheFile} (${(e as Error).message}); this run uses them, the next run on this adapter tunes again (set ${VARIANT_CACHE_ENV} to a writable directory to keep them)`,
          );
        }
      }
    }
    return {
      gemmVariant: (key, shape) => {
        const pinned = this.options.pinned?.[key];
        const v =
          pinned ?? (mode === 'tune' ? (this.choices.get(key) ?? heuristicGemmVariant(shape)) : mode === 'heuristic' ? heuristicGemmVariant(shape) : mode);
        this.given.set(key, v);
        return v;
      },
    };
  }
}
