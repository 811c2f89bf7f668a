import { classScores } from '../src/train/target.ts';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runModel } from '../src/train/runModel.ts';
import type { RunSettings } from '../src/train/runSettings.ts';
import { LOGREG_L2_GRID, logregModel } from '../src/models/logreg.ts';
import { ADAM_M, ADAM_V, GRADS, PARAMS, type Parameter } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { appendOptimizerStep, decayRanges } from '../src/train/optimizerStep.ts';
import { runMain } from './cliHelpers.ts';
import { getGpu } from './helpers.ts';
import { settings as base, e003, quiet } from './realSample.ts';

// The logistic-regression baseline: one dense layer on the flattened window,
// its L2 penalty on the weights only, chosen by validation AUROC.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const settings: RunSettings = { ...base, model: 'logreg', epochs: 15, seed: 3 };

describe('the L2 penalty of logreg', () => {
  it('acts on the weights and leaves the bias alone (coupled: λ·w joins the gradient)', () => {
    const model = logregModel([8, 5]);
    expect(decayRanges(model.store, false).map((r) => r.decay)).toEqual([true, false]);
    expect(decayRanges(model.store, true).map((r) => r.decay)).toEqual([true]);
    const plan = new Plan();
    model.store.declare(plan);
    plan.tensor('step', [1], 'u32');
    plan.tensor('cursor', [1], 'u32');
    plan.segment('step');
    appendOptimizerStep(plan, model.store, { lr: 0.01, weightDecay: 0.5, decayBiases: false }, 'step', 'cursor');
    const exec = new CpuExecutor(plan);
    const ones = new Float32Array(model.store.total).fill(1);
    exec.write(PARAMS, ones);
    for (const t of [GRADS, ADAM_M, ADAM_V]) exec.write(t, new Float32Array(model.store.total));
    exec.run(1, 'step');
    const after = exec.read(PARAMS);
    const [weight, bias] = model.store.parameters as readonly [Parameter, Parameter];
    // With a zero loss gradient, Adam's first step moves each decayed weight by lr against sign(λ·w), and the bias not at all.
    for (let i = 0; i < weight.size; i++) expect(after[weight.offset + i]).toBeCloseTo(0.99, 6);
    expect(after[bias.offset]).toBe(1);
  });
});

describe('logreg on the real E003 sample', () => {
  it('learns on the CPU path and keeps the penalty with the best validation AUROC', async () => {
    const ds = await e003();
    const run = await runModel(ds, settings, { kind: 'cpu' }, quiet);
    expect(run.parameters).toBe(ds.bins * ds.marks.length + 1);
    expect(classScores(run.result.test, 'run').auroc).toBeGreaterThan(0.75);
    const p = run.penalty;
    // Fit strongest first; the grid is extended only where the best lies at its end.
    expect(p?.grid.slice(0, LOGREG_L2_GRID.length)).toEqual([...LOGREG_L2_GRID].sort((a, b) => b - a));
    expect(p?.validAuroc).toHaveLength(p?.grid.length ?? -1);
    expect(p?.converged).toBe(true);
    expect(p?.gradientNorm).toBeLessThanOrEqual(1e-5);
    expect(p?.fits.map((f) => f.converged)).not.toContain(false);
    const best = Math.max(...(p?.validAuroc ?? []));
    // Ties go to the stronger penalty: the first of the grid (strongest first) that reaches the best.
    const chosen = p?.grid[(p?.validAuroc ?? []).indexOf(best)];
    expect(p?.chosen).toBe(chosen);
    expect(run.result.bestEpoch).toBe(p?.iterations);
    expect(run.spec).toEqual({ architecture: 'logreg', inputShape: [ds.bins, ds.marks.length], l2: chosen });
    expect(classScores(run.result.valid, 'run').auroc).toBeCloseTo(best, 10);
  });

  it('ends on the GPU where it ends on the CPU', async () => {
    const ds = await e003();
    const cpu = await runModel(ds, settings, { kind: 'cpu' }, quiet);
    const gpu = await runModel(ds, settings, { kind: 'gpu', gpu: await getGpu() }, quiet);
    expect(gpu.penalty?.chosen).toBe(cpu.penalty?.chosen);
    const c = cpu.penalty?.validAuroc ?? [];
    const g = gpu.penalty?.validAuroc ?? [];
    expect(g).toHaveLength(c.length);
    c.forEach((a, i) => expect(Math.abs(a - (g[i] as number))).toBeLessThanOrEqual(0.01));
    expect(Math.abs(classScores(gpu.result.test, 'gpu').auroc - classScores(cpu.result.test, 'cpu').auroc)).toBeLessThanOrEqual(0.01);
  });

  it('records the search and the fit in metrics.json, and a resumed run refits to the same model', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'logreg-')), 'run');
    dirs.push(out);
    const first = await runMain(['--cpu', '--model', 'logreg', '--epochs', '2', '--quiet', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    type Metrics = {
      l2Penalty: { grid: number[]; validAuroc: number[]; chosen: number; iterations: number; gradientNorm: number; converged: boolean; fits: { l2: number; iterations: number; converged: boolean }[] };
      history: unknown[];
      bestEpoch: number;
      test: { auroc: number };
    };
    const m1 = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Metrics;
    expect(m1.l2Penalty.validAuroc).toHaveLength(m1.l2Penalty.grid.length);
    expect(m1.l2Penalty.fits.map((f) => f.l2)).toEqual(m1.l2Penalty.grid);
    expect(m1.l2Penalty.grid).toContain(m1.l2Penalty.chosen);
    expect(m1.l2Penalty.converged).toBe(true);
    // A convex fit's "epochs" are its L-BFGS iterations: the history has one record per iteration.
    expect(m1.bestEpoch).toBe(m1.l2Penalty.iterations);
    expect(m1.history).toHaveLength(m1.l2Penalty.iterations);
    const more = await runMain(['--resume', out, '--epochs', '3', '--quiet']);
    expect(more.code, more.stderr).toBe(0);
    const m2 = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Metrics;
    expect(m2.l2Penalty.chosen).toBe(m1.l2Penalty.chosen);
    expect(m2.l2Penalty.validAuroc).toEqual(m1.l2Penalty.validAuroc);
    expect(m2.test.auroc).toBe(m1.test.auroc);
  });
});
