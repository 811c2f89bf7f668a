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

async function writeCache(file: string, adapter: string, choices: Readonly<Record<string, GemmVariant>>): Promise<void> {
  // Merge with what another process may have written meanwhile; the project's atomic writer leaves no temporary behind.
  const current = readCache(file);
  const merged: CacheFile = { version: 1, adapters: { ...current.adapters, [adapter]: { ...current.adapters[adapter], ...choices } } };
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
  /** Best time of one call, or undefined when the variant cannot run this shape. */
  readonly ms: number | undefined;
}

/** Times each variant of one kernel's GEMM on random inputs: a warm-up, then
 * the best of a few passes of enough repeats to last ~20 ms. A variant already
 * 4x slower than the best so far is not timed further. */
export async function timeVariants(gpu: Gpu, problem: Problem, variants: readonly GemmVariant[] = GEMM_VARIANTS): Promise<VariantTiming[]> {
  const plan = singleKernelPlan(problem.kernel);
  const out: VariantTiming[] = [];
  let best = Number.POSITIVE_INFINITY;
  // The heuristic's pick first, so slow candidates can be cut short against it.
  const first = heuristicGemmVariant(problem.shape);
  const order = [first, ...variants.filter((v) => v !== first)];
  for (const variant of order) {
    const target: GpuTarget = { gemmVariant: (key, shape) => (key === problem.key ? variant : heuristicGemmVariant(shape)) };
    try {
      problem.kernel.gpu(target);
    } catch {
      out.push({ variant, ms: undefined });
      continue;
    }
    const exec = await GpuExecutor.create(gpu, plan, target);
    try {
      let seed = 1;
      for (const [slot, spec] of Object.entries(problem.kernel.slots)) {
        const size = plan.get(slot).size;
        exec.write(slot, spec.dtype === 'u32' ? new Uint32Array(size) : uniformArray(size, seed++));
      }
      const once = await exec.timedRun(1);
      let ms = once.gpuMs ?? once.wallMs;
      if (ms <= 4 * best) {
        const repeat = Math.max(1, Math.min(64, Math.ceil(20 / Math.max(ms, 0.01))));
        for (let pass = 0; pass < 3; pass++) {
          const t = await exec.timedRun(repeat);
          ms = Math.min(ms, (t.gpuMs ?? t.wallMs) / repeat);
        }
      }
      best = Math.min(best, ms);
      out.push({ variant, ms });
    } finally {
      exec.destroy();
    }
  }
  return out;
}

export interface VariantPolicyOptions {
  readonly mode: VariantMode;
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

  constructor(
    private readonly gpu: Gpu,
    private readonly options: VariantPolicyOptions,
  ) {
    this.adapter = adapterKey(gpu);
    this.cacheFile = options.cacheFile === undefined ? defaultVariantCacheFile() : options.cacheFile;
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
      for (const [i, problem] of todo.entries()) {
        const timings = await timeVariants(this.gpu, problem);
        const ranked = timings.filter((t) => t.ms !== undefined).sort((a, b) => (a.ms as number) - (b.ms as number));
        const winner = ranked[0]?.variant ?? heuristicGemmVariant(problem.shape);
        this.choices.set(problem.key, winner);
        fresh[problem.key] = winner;
        this.options.log?.(
          `gemm: tuned ${i + 1}/${todo.length} ${problem.key}: ${winner} (` +
            ranked.map((t) => `${t.variant} ${(t.ms as number).toFixed(2)} ms`).join(', ') +
            ')',
        );
      }
      if (todo.length > 0 && this.cacheFile !== null) {
        // The cache only saves the next run the timing: a home that cannot be written (read-only on a cluster
        // node, full) must not stop a run whose choices are already made.
        try {
          await writeCache(this.cacheFile, this.adapter, fresh);
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
