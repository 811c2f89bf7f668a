import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/flags/args.ts';
import { epochsFor } from '../src/cli/experiment/experiment.ts';
import { checkFlagsApply } from '../src/cli/flags/flagScope.ts';
import { MODEL_NAMES } from '../src/models/registry.ts';

// scripts/reproduce-results.sh is the one command behind the README's results.
// It runs for hours, so the test runs its dry run and checks that each
// command it would run is one the command line accepts, at the protocol of
// issue 11.

const commands = (env: Record<string, string> = {}): string[][] =>
  execFileSync('bash', ['scripts/reproduce-results.sh'], { env: { ...process.env, DRY_RUN: '1', ...env }, encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split(' ').slice(3));

describe('scripts/reproduce-results.sh', () => {
  it('runs E116 and the samples at the full protocol: the baselines, vae-mlp and the arms that see other cells', () => {
    const [e116, samples] = commands().map((argv) => {
      const o = parseArgs(argv);
      checkFlagsApply(o);
      return o;
    });
    if (!e116 || !samples) throw new Error('expected two experiments');
    for (const o of [e116, samples]) {
      expect(o.command).toBe('experiment');
      expect(o.device).toBe('gpu');
      expect(o.seeds).toBe(5);
      expect(o.models).toEqual(['logreg', 'tss-linear', 'mlp', 'deepchrome', 'vae-mlp', 'vae-mlp-neighbors', 'expression-prior', 'logreg-neighbors']);
      expect(o.models.every((m) => MODEL_NAMES.includes(m))).toBe(true);
      expect(o.neighborKinds).toEqual(['functional']);
      // Classifiers at batch 32, the VAE at 64; GEMM variants by the heuristic, the same on every machine.
      expect([o.batch, o.vaeBatch, o.gemm]).toEqual([32, 64, 'heuristic']);
      // At least 2,000 optimizer steps or 30 epochs, up to 100.
      expect([epochsFor(o, 100), epochsFor(o, 1000), epochsFor(o, 12634)]).toEqual([100, 63, 30]);
    }
    expect(e116.data).toBe('../shared/datasets/gcmerge_E116');
    expect(e116.sizes).toEqual([100, 1000, 'all']);
    expect(e116.vaeEpochs).toBeGreaterThanOrEqual(25);
    expect(samples.sizes).toEqual([100, 'all']);
    expect(samples.vaeEpochs).toBeGreaterThanOrEqual(100);
  });

  it('takes fewer seeds, the CPU and a list of models from the environment', () => {
    const o = parseArgs(commands({ SEEDS: '2', DEVICE: '--cpu', MODELS: 'logreg,vae-mlp' })[0] ?? []);
    checkFlagsApply(o);
    expect([o.seeds, o.device, o.models, o.gemm]).toEqual([2, 'cpu', ['logreg', 'vae-mlp'], undefined]);
  });

  it('runs AttentiveChrome beside the anchors (issue 22): the samples first, then E116 on 3 seeds, all labeled genes, clipped', () => {
    const [samples, e116] = commands({
      MODELS: 'attentivechrome,deepchrome,mlp,logreg', E116_SEEDS: '3', E116_SIZES: 'all', SAMPLE_SIZES: 'all', EXTRA: '--clip 1', EXPERIMENTS: 'samples,E116',
      OUT: 'docs/results/2026-12-07-attention',
    }).map((argv) => {
      const o = parseArgs(argv);
      checkFlagsApply(o);
      return o;
    });
    if (!e116 || !samples) throw new Error('expected two experiments');
    expect(samples.out).toBe('docs/results/2026-12-07-attention/samples');
    expect([samples.seeds, samples.sizes]).toEqual([5, ['all']]);
    expect(e116.data).toBe('../shared/datasets/gcmerge_E116');
    expect([e116.seeds, e116.sizes]).toEqual([3, ['all']]);
    for (const o of [samples, e116]) {
      expect(o.models).toEqual(['attentivechrome', 'deepchrome', 'mlp', 'logreg']);
      expect([o.batch, o.clip, o.explicit.includes('neighbors')]).toEqual([32, 1, false]);
    }
  });

  it('refuses an experiment it does not know, naming the ones it does', () => {
    let message = '';
    try {
      execFileSync('bash', ['scripts/reproduce-results.sh'], { env: { ...process.env, DRY_RUN: '1', EXPERIMENTS: 'E116,E999' }, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      message = String((e as { stderr: string }).stderr);
    }
    expect(message).toContain('reproduce-results: EXPERIMENTS names E999; the experiments are E116 and samples');
  });

  it('refuses to start without the real data, naming what is missing', () => {
    let message = '';
    try {
      execFileSync('bash', ['scripts/reproduce-results.sh'], { env: { ...process.env, DATA: '/nonexistent' }, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      message = String((e as { stderr: string }).stderr);
    }
    expect(message).toContain('reproduce-results: missing /nonexistent/gcmerge_E116 (the real data; see datasets/README.md)');
  });
});
