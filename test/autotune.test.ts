import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { heuristicGemmVariant } from '../src/kernels/gemm.ts';
import { GEMM_VARIANTS } from '../src/kernels/gpuTarget.ts';
import { matmulKernel } from '../src/kernels/matmul.ts';
import { conv1dBackwardWeightKernel } from '../src/kernels/conv1d.ts';
import { VariantPolicy, adapterKey, gemmProblems, parseVariantMode, timeVariants, variantModeFrom, worthTiming } from '../src/plan/autotune.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { singleKernelPlan } from '../src/plan/singleKernel.ts';
import { getGpu } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'sc-autotune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two GEMMs of different shapes and one repeated: the tuner must time each distinct one once. */
function twoGemmPlan(): Plan {
  const plan = new Plan();
  plan.tensor('a', [37, 20]);
  plan.tensor('b', [20, 9]);
  plan.tensor('c', [37, 9]);
  plan.tensor('c2', [37, 9]);
  plan.call(matmulKernel({ M: 37, N: 9, K: 20 }), { a: 'a', b: 'b', c: 'c' });
  plan.call(matmulKernel({ M: 37, N: 9, K: 20 }), { a: 'a', b: 'b', c: 'c2' });
  plan.tensor('x', [2, 30, 5]);
  plan.tensor('dy', [2, 30, 7]);
  plan.tensor('dw', [3, 5, 7]);
  plan.tensor('db', [7]);
  plan.call(conv1dBackwardWeightKernel({ batch: 2, length: 30, inChannels: 5, outChannels: 7, kernelSize: 3, padding: 'same', bias: true }), {
    x: 'x',
    dy: 'dy',
    dw: 'dw',
    db: 'db',
  });
  return plan;
}

/** The cache's choices per adapter; {} when nothing was kept. */
function readCacheAdapters(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  const adapters = (JSON.parse(readFileSync(file, 'utf8')) as { adapters: Record<string, Record<string, string>> }).adapters;
  return Object.fromEntries(Object.entries(adapters).filter(([, v]) => Object.keys(v).length > 0));
}

describe('the GEMM autotuner', () => {
  it('finds each distinct GEMM of a plan once, keyed by its kernel and sizes', () => {
    const problems = gemmProblems(twoGemmPlan());
    expect(problems.map((p) => p.key)).toEqual([
      'matmul|M37,N9,K20',
      'conv1d.backwardWeight[same,k3,bias]|B2,L30,C5,Lo30,Co7,k3,s-1',
    ]);
    // The fused bias gradient is one more row of the weight gradient's GEMM.
    expect(problems[1]?.shape).toEqual({ M: 16, N: 7, K: 60 });
  });

  it('does not time reduce4x4 on outputs too large for it to win', () => {
    expect(worthTiming('reduce4x4', { M: 128, N: 128, K: 4096 })).toBe(true);
    expect(worthTiming('reduce4x4', { M: 1344, N: 64, K: 320 })).toBe(false);
    expect(worthTiming('register8x8', { M: 1344, N: 64, K: 320 })).toBe(true);
  });

  it('times every variant that can run the shape, each giving a time', async () => {
    const gpu = await getGpu();
    const problem = gemmProblems(twoGemmPlan())[0];
    if (!problem) throw new Error('no problem');
    const timings = await timeVariants(gpu, problem);
    if (!timings) throw new Error('no time limit was given, yet the race was abandoned');
    expect(timings.map((t) => t.variant).sort()).toEqual([...GEMM_VARIANTS].sort());
    for (const t of timings) expect(t.ms).toBeGreaterThan(0);
  });

  it('tunes once per adapter and problem, caches the winners on disk, and a second policy reads them without timing', async () => {
    const gpu = await getGpu();
    const cacheFile = join(dir, 'variants.json');
    const logs: string[] = [];
    const first = new VariantPolicy(gpu, { mode: 'tune', cacheFile, log: (l) => logs.push(l) });
    const plan = twoGemmPlan();
    const exec = await GpuExecutor.create(gpu, plan, await first.targetFor(plan));
    exec.destroy();
    expect(logs.filter((l) => l.startsWith('gemm: tuned'))).toHaveLength(2);
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { version: number; adapters: Record<string, Record<string, string>> };
    expect(cache.version).toBe(1);
    const mine = cache.adapters[adapterKey(gpu)];
    expect(Object.keys(mine ?? {}).sort()).toEqual(Object.keys(first.used).sort());
    expect(mine).toEqual(first.used);
    for (const v of Object.values(first.used)) expect(GEMM_VARIANTS).toContain(v);
    // Each choice keeps the spread of the leaders it was made between, the winner among them.
    const spreads = (JSON.parse(readFileSync(cacheFile, 'utf8')) as { spreads: Record<string, Record<string, Record<string, { min: number; median: number; max: number; n: number }>>> })
      .spreads[adapterKey(gpu)];
    for (const [key, variant] of Object.entries(first.used)) {
      const leaders = spreads?.[key] ?? {};
      expect(Object.keys(leaders)).toContain(variant);
      for (const s of Object.values(leaders)) {
        expect(s.min).toBeLessThanOrEqual(s.median);
        expect(s.median).toBeLessThanOrEqual(s.max);
        expect(s.n).toBe(5);
      }
    }
    expect(logs.find((l) => l.startsWith('gemm: tuned 1/2'))).toMatch(/: \w+ \(\w+ median [0-9.]+ \(min [0-9.]+, max [0-9.]+\) ms over 5/);

    const again: string[] = [];
    const second = new VariantPolicy(gpu, { mode: 'tune', cacheFile, log: (l) => again.push(l) });
    await second.targetFor(twoGemmPlan());
    expect(again).toEqual([]);
    const t = await second.targetFor(twoGemmPlan());
    for (const p of gemmProblems(twoGemmPlan())) expect(t.gemmVariant(p.key, p.shape)).toBe(first.used[p.key]);
  });

  it('keeps to its timing budget: says what it does and how to skip it, gives the heuristic to what it did not time, and leaves that for a later run', async () => {
    const gpu = await getGpu();
    const cacheFile = join(dir, 'budget.json');
    // A fake clock that ticks a millisecond a reading, and on which each problem's timing ends 30 s later than it
    // began (the jump comes with its "tuned" line): a 20 s budget is spent after the first problem.
    let clock = 0;
    const now = (): number => (clock += 1);
    const logs: string[] = [];
    const tick = (into: string[]) => (l: string): void => {
      into.push(l);
      if (l.startsWith('gemm: tuned')) clock += 30_000;
    };
    const policy = new VariantPolicy(gpu, { mode: 'tune', cacheFile, budgetMs: 20_000, now, log: tick(logs) });
    const plan = twoGemmPlan();
    const [first, second] = gemmProblems(plan);
    if (!first || !second) throw new Error('two problems expected');
    const target = await policy.targetFor(plan);
    expect(logs[0]).toBe(
      `gemm: timing each matrix product's GEMM variants on ${gpu.adapterName}, about 20 s in all (kept in ${cacheFile}, so later runs on this adapter skip it); --gemm heuristic skips the timing`,
    );
    expect(logs.filter((l) => l.startsWith('gemm: tuned'))).toHaveLength(1);
    expect(logs.at(-1)).toBe("gemm: the timing budget (20 s) is spent; 1 matrix product takes the heuristic's variant this run, and a later run times it");
    expect(target.gemmVariant(second.key, second.shape)).toBe(heuristicGemmVariant(second.shape));
    const cached = (JSON.parse(readFileSync(cacheFile, 'utf8')) as { adapters: Record<string, Record<string, string>> }).adapters[adapterKey(gpu)];
    expect(Object.keys(cached ?? {})).toEqual([first.key]);
    // The same process does not time again once its budget is spent, and says nothing more.
    const before = logs.length;
    await policy.targetFor(twoGemmPlan());
    expect(logs.length).toBe(before);

    // The next run reads the first choice and times only the second, within its own budget.
    const later: string[] = [];
    const next = new VariantPolicy(gpu, { mode: 'tune', cacheFile, budgetMs: 20_000, now, log: tick(later) });
    await next.targetFor(twoGemmPlan());
    expect(later.filter((l) => l.startsWith('gemm: tuned'))).toEqual([expect.stringMatching(new RegExp(`^gemm: tuned 1/1 ${second.key.replace(/[[\]|()]/g, '\\$&')}: `))]);

    // A budget too small for even the first product: that one keeps the heuristic's variant, cached, so that the
    // next run does not stop at the same place; the others are left to later runs.
    const none: string[] = [];
    const noneFile = join(dir, 'none.json');
    const zero = new VariantPolicy(gpu, { mode: 'tune', cacheFile: noneFile, budgetMs: 0, log: (l) => none.push(l) });
    const t0 = await zero.targetFor(twoGemmPlan());
    expect(none.slice(1)).toEqual([
      `gemm: timing ${first.key} alone outlasts the budget; it keeps the heuristic's ${heuristicGemmVariant(first.shape)}, and later runs time the others`,
      "gemm: the timing budget (0 s) is spent; 1 matrix product takes the heuristic's variant this run, and a later run times it",
    ]);
    for (const p of gemmProblems(plan)) expect(t0.gemmVariant(p.key, p.shape)).toBe(heuristicGemmVariant(p.shape));
    expect(readCacheAdapters(noneFile)).toEqual({ [adapterKey(gpu)]: { [first.key]: heuristicGemmVariant(first.shape) } });
  });

  it('a cache that cannot be written is said, and the tuned choices are used all the same', async () => {
    const gpu = await getGpu();
    // A file where the cache's directory should be: mkdir fails whatever the user (root included) may write.
    const blocker = join(dir, 'not-a-directory');
    writeFileSync(blocker, 'a file of the user, kept as it is\n');
    const cacheFile = join(blocker, 'simplechrome', 'variants.json');
    const logs: string[] = [];
    const policy = new VariantPolicy(gpu, { mode: 'tune', cacheFile, log: (l) => logs.push(l) });
    const plan = twoGemmPlan();
    const target = await policy.targetFor(plan);
    expect(logs.filter((l) => l.startsWith('gemm: tuned'))).toHaveLength(2);
    const warning = logs.find((l) => l.startsWith('gemm: could not keep'));
    expect(warning).toContain(`gemm: could not keep the tuned variants in ${cacheFile} (`);
    expect(warning).toContain('this run uses them, the next run on this adapter tunes again (set SIMPLECHROME_CACHE_DIR to a writable directory to keep them)');
    for (const p of gemmProblems(plan)) expect(GEMM_VARIANTS).toContain(target.gemmVariant(p.key, p.shape));
    expect(readFileSync(blocker, 'utf8')).toBe('a file of the user, kept as it is\n');
  });

  it('a forced variant, the heuristic and pinned choices need no timing and write no cache', async () => {
    const gpu = await getGpu();
    const cacheFile = join(dir, 'never.json');
    const plan = twoGemmPlan();
    const problems = gemmProblems(plan);
    const forced = await new VariantPolicy(gpu, { mode: 'register4x8', cacheFile }).targetFor(plan);
    for (const p of problems) expect(forced.gemmVariant(p.key, p.shape)).toBe('register4x8');
    const heuristic = await new VariantPolicy(gpu, { mode: 'heuristic', cacheFile }).targetFor(plan);
    for (const p of problems) expect(heuristic.gemmVariant(p.key, p.shape)).toBe(heuristicGemmVariant(p.shape));
    const key = (problems[0] as (typeof problems)[number]).key;
    const pinned = new VariantPolicy(gpu, { mode: 'tune', cacheFile, pinned: { [key]: 'tiled64' } });
    const t = await pinned.targetFor(singleKernelPlan(matmulKernel({ M: 37, N: 9, K: 20 })));
    expect(t.gemmVariant(key, (problems[0] as (typeof problems)[number]).shape)).toBe('tiled64');
    expect(existsSync(cacheFile)).toBe(false);
  });

  it('reads the mode from the flag, then $SIMPLECHROME_GEMM, and names what is allowed when it is wrong', () => {
    expect(variantModeFrom(undefined, {})).toBe('tune');
    expect(variantModeFrom(undefined, { SIMPLECHROME_GEMM: 'register8x8' })).toBe('register8x8');
    expect(variantModeFrom('heuristic', { SIMPLECHROME_GEMM: 'register8x8' })).toBe('heuristic');
    expect(() => variantModeFrom(undefined, { SIMPLECHROME_GEMM: 'fast' })).toThrow(
      '$SIMPLECHROME_GEMM: GEMM variant must be tune, heuristic or one of register4x4, register8x4, register4x8, register8x8, tiled64, splitk4x4, reduce4x4; got "fast"',
    );
    expect(() => parseVariantMode('8x8', '--gemm')).toThrow('--gemm: GEMM variant must be tune, heuristic or one of');
  });
});
