import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { runMain } from './cliHelpers.ts';

// The linear baselines on derived features, end to end on the real E003
// sample: trained on the CPU path and the GPU path (SwiftShader, heuristic
// GEMM variants), and predict from the checkpoint gives predictions.csv.

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-linear-${tag}-`));

const MODELS: readonly (readonly string[])[] = [['tss-linear'], ['expression-prior'], ['logreg-neighbors', '--neighbors', 'functional', '--k', '2']];

/** gene id → the rest of its line of a predictions file. */
function rows(file: string): Map<string, string> {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return new Map(lines.map((l) => [l.slice(0, l.indexOf(',')), l.slice(l.indexOf(',') + 1)]));
}

function metrics(dir: string): { test: { auroc: number }; l2Penalty: { grid: number[]; validAuroc: number[] }; derivedFeatures: { width: number; counts: Record<string, number> } } {
  return JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
}

describe.each(MODELS)('%s on the E003 sample', (model, ...flags) => {
  const common = ['--model', model, ...flags, '--data', DEFAULT_REAL_SAMPLE, '--epochs', '2', '--train-size', '100', '--seed', '1', '--quiet'];
  it('trains on the CPU and the GPU path to the same test AUROC, searches the penalty, and predict reproduces predictions.csv', async () => {
    const cpu = join(tmp('cpu'), 'run');
    const c = await runMain(['--cpu', ...common, '--out', cpu]);
    expect(c.code, c.stderr).toBe(0);
    const m = metrics(cpu);
    // Every linear model runs the penalty search.
    expect(m.l2Penalty.validAuroc.length).toBe(m.l2Penalty.grid.length);
    expect(m.derivedFeatures.width).toBe({ 'tss-linear': 25, 'expression-prior': 3, 'logreg-neighbors': 1500 }[model]);
    if (model === 'expression-prior') expect(m.derivedFeatures.counts.missingGenes).toBe(0);

    const gpu = join(tmp('gpu'), 'run');
    const g = await runMain(['--gpu', '--gemm', 'heuristic', ...common, '--out', gpu]);
    expect(g.code, g.stderr).toBe(0);
    expect(Math.abs(metrics(gpu).test.auroc - m.test.auroc)).toBeLessThan(2e-3);

    const out = join(tmp('pred'), 'all.csv');
    const p = await runMain(['predict', '--model', cpu, '--data', DEFAULT_REAL_SAMPLE, '--out', out, '--cpu', '--quiet']);
    expect(p.code, p.stderr).toBe(0);
    const predicted = rows(out);
    const trained = rows(join(cpu, 'predictions.csv'));
    expect(trained.size).toBe(200);
    for (const [gene, line] of trained) expect(predicted.get(gene), gene).toBe(line);
  }, 600_000);
});

describe('the linear baselines refuse what they cannot do', () => {
  it('refuses encode (no VAE), and --k or --neighbors for a model without neighbours', async () => {
    const dir = join(tmp('enc'), 'run');
    expect((await runMain(['--cpu', '--model', 'tss-linear', '--epochs', '1', '--quiet', '--out', dir])).code).toBe(0);
    const e = await runMain(['encode', '--model', dir, '--data', DEFAULT_REAL_SAMPLE, '--out', join(tmp('x'), 'z.csv'), '--cpu']);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toContain(`--model ${dir}: a tss-linear model has no VAE; encode needs a vae-mlp, vae-mlp-neighbors or vae-joint run`);
    const k = await runMain(['--cpu', '--model', 'expression-prior', '--k', '3']);
    expect(k.stderr).toContain('--k applies to the vae-mlp-neighbors and logreg-neighbors models only; --model expression-prior uses no neighbours');
  }, 300_000);
});
