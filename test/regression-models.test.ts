import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPRESSION_TABLE } from '../src/cli/session/dataSource.ts';
import { DISK_SOURCES } from '../src/cli/session/neighborSources.ts';
import { runModel } from '../src/train/runModel.ts';
import { restoreSettings, storeSettings } from '../src/cli/flags/storedSettings.ts';
import { DEFAULTS } from '../src/cli/flags/args.ts';
import { buildClassifier, buildVae, vaeSpec } from '../src/models/modelSpec.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { expressionTargets } from '../src/data/expressionTargets.ts';
import { MODEL_NAMES, classifierSpecFor, predictsExpression } from '../src/models/registry.ts';
import { buildClassifierPlan } from '../src/train/classifierPlan.ts';
import { isClassScores } from '../src/train/target.ts';
import { e003, quiet, settings } from './realSample.ts';

// Every model of the registry trains for --target expression with its own
// body and an MSE head, on the real E003 sample (../shared/datasets), and the
// expression values behind it refuse what they cannot give.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** [genes, marks·parts]: each mark's mean over each of `parts` equal stretches of bins. */
function binMeans(ds: Dataset, parts: number): Float32Array {
  const m = ds.marks.length;
  const per = ds.bins / parts;
  const out = new Float32Array(ds.genes * m * parts);
  for (let g = 0; g < ds.genes; g++) {
    for (let b = 0; b < ds.bins; b++) {
      for (let k = 0; k < m; k++) out[(g * parts + Math.floor(b / per)) * m + k] += (ds.features[(g * ds.bins + b) * m + k] as number) / per;
    }
  }
  return out;
}

/** The central `bins` of each gene's window (the TSS is at its middle). */
function centralBins(ds: Dataset, bins: number): Dataset {
  const m = ds.marks.length;
  const from = Math.floor((ds.bins - bins) / 2);
  const features = new Float32Array(ds.genes * bins * m);
  for (let g = 0; g < ds.genes; g++) features.set(ds.features.subarray((g * ds.bins + from) * m, (g * ds.bins + from + bins) * m), g * bins * m);
  return { ...ds, bins, features };
}

async function e003WithExpression(): Promise<Dataset> {
  const ds = await e003();
  return { ...ds, expression: await expressionTargets(ds, 'deepchrome', DEFAULT_EXPRESSION_TABLE) };
}

describe('every registered model takes --target expression', () => {
  it('the plan ends in the MSE kernel instead of BCE, with the same layers', () => {
    for (const model of MODEL_NAMES.filter(predictsExpression)) {
      const spec = classifierSpecFor(model, { bins: 100, marks: 5, latentWidth: 10, derivedWidth: 25 });
      const kernels = (target: 'class' | 'expression') =>
        buildClassifierPlan(buildClassifier(spec), { genes: 50, batch: 8, predictBatch: 16, trainOrderLength: 48, optimizer: { lr: 1e-3 }, seed: 1, target })
          .plan;
      const names = (plan: ReturnType<typeof kernels>): string[] => {
        const { start, end } = plan.range('train');
        return plan.calls.slice(start, end).map((c) => c.kernel.name);
      };
      const cls = names(kernels('class'));
      const reg = names(kernels('expression'));
      expect(cls, model).toContain('bce_with_logits[accumulate]');
      expect(reg, model).toContain('mean_squared_error[accumulate]');
      expect(reg, model).not.toContain('bce_with_logits[accumulate]');
      expect(reg.map((n) => n.replace('mean_squared_error', 'bce_with_logits')), model).toEqual(cls);
    }
  });

  it('vae-m2, whose label is a latent class, is refused before it trains', async () => {
    const ds = await e003WithExpression();
    await expect(runModel(ds, { ...settings, model: 'vae-m2', target: 'expression', epochs: 1 }, { kind: 'cpu' }, quiet)).rejects.toThrow(
      'vae-m2 cannot learn --target expression: its label is a latent class of two values',
    );
  });

  for (const model of MODEL_NAMES.filter(predictsExpression)) {
    it(`${model} learns log expression on the CPU path`, async () => {
      const ds = await e003WithExpression();
      // The VAE trains on unlabeled inputs whatever the target, and takes minutes on this machine's CPU: the
      // latent models get stand-in latents (each mark's mean over each fifth of the window, 25 numbers) through
      // runModel's latent cache, so what runs here is their regression head on latent inputs.
      const latent = 25;
      // vae-joint starts from the VAE's weights: a freshly initialised VAE of the run's sizes stands in.
      const params = buildVae(vaeSpec(ds.bins, ds.marks.length, latent)).store.initialValues(1);
      const cache = async () => ({ latents: binMeans(ds, 5), history: [], parameters: 0, params });
      // Enough epochs for each to learn on 200 labeled genes (about 4 steps an epoch), few enough to stay quick; Adam at
      // lr 1e-3 must first carry expression-prior's 3 randomly initialised weights to the right sign.
      const epochs = ({ logreg: 10, mlp: 3, deepchrome: 2, 'vae-mlp': 20, 'vae-mlp-neighbors': 20, 'tss-linear': 20, 'expression-prior': 200, 'logreg-neighbors': 10 } as Partial<Record<string, number>>)[model] ?? 3;
      // attentivechrome's LSTMs step through the bins one after another, minutes an epoch over 100 bins on a shared
      // CPU: it reads the central 10 (±500 bp of the TSS, where the signal sits), at a rate that learns in few steps.
      const sequential = model === 'attentivechrome';
      const data = sequential ? centralBins(ds, 10) : ds;
      const run = await runModel(data, { ...settings, model, target: 'expression', epochs: sequential ? 10 : epochs, latent, ...(sequential ? { lr: 1e-2, batch: 32 } : {}) }, { kind: 'cpu' }, quiet, cache, DISK_SOURCES);
      const { test, valid } = run.result;
      expect(run.result.target).toBe('expression');
      if (isClassScores(test) || isClassScores(valid)) throw new Error(`${model}: scored as a classifier`);
      expect(Number.isFinite(test.mse)).toBe(true);
      expect(test.loss).toBe(test.mse);
      expect(test.pearson, model).toBeGreaterThan(0.3);
      if (model === 'logreg') {
        const p = run.penalty;
        const best = Math.max(...(p?.validAuroc ?? []));
        expect(valid.pearson).toBeCloseTo(best, 10);
      }
      // vae-joint trains the VAE's conv encoder on every step: minutes on a shared machine's CPU.
    }, 600_000);
  }
});

describe('expression targets', () => {
  it('a gene the RPKM table lacks is an error naming it', async () => {
    const ds = await e003();
    const renamed = { ...ds, geneIds: ds.geneIds.map((id, g) => (g === 3 ? 'ENSG99999999999' : id)) };
    await expect(expressionTargets(renamed, 'deepchrome', DEFAULT_EXPRESSION_TABLE)).rejects.toThrow(
      `--target expression: 1 of 600 genes of E003 have no expression value in ${DEFAULT_EXPRESSION_TABLE}: ENSG99999999999`,
    );
  });

  it('a cell the RPKM table has no column for names the table', async () => {
    const ds = await e003();
    await expect(expressionTargets({ ...ds, cell: 'E999' }, 'deepchrome', DEFAULT_EXPRESSION_TABLE)).rejects.toThrow(
      `the deepchrome layout has no expression values, and the RPKM table ${DEFAULT_EXPRESSION_TABLE} that would provide them has no column for cell "E999"`,
    );
  });

  it('an RPKM table that cannot be read says which file would have given the values', async () => {
    const ds = await e003();
    await expect(expressionTargets(ds, 'deepchrome', '/nonexistent/rpkm.csv.gz')).rejects.toThrow(
      '--target expression: the deepchrome layout has no expression values; they come from the RPKM table /nonexistent/rpkm.csv.gz, which could not be read',
    );
  });

  it('a GC-MERGE genes table without log10_rpkm_plus1 is an error naming the column and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-gcm-'));
    dirs.push(dir);
    const genes = join(dir, 'X_genes.csv');
    writeFileSync(genes, 'gene_id,node_id,chr,label_binary\nENSG00000000001,0,chr1,1\n');
    const ds = { ...(await e003()), cell: 'X', source: [join(dir, 'X_hmods_10kb_bins.csv'), genes] };
    await expect(expressionTargets(ds, 'gcmerge', DEFAULT_EXPRESSION_TABLE)).rejects.toThrow(
      `${genes}:1: --target expression needs a log10_rpkm_plus1 column, and the header has none (columns: gene_id, node_id, chr, label_binary)`,
    );
  });

  it('a split whose genes all have one expression value is refused before training', async () => {
    const ds = await e003();
    const flat = { ...ds, expression: new Float32Array(ds.genes).fill(0.5) };
    await expect(runModel(flat, { ...settings, target: 'expression' }, { kind: 'cpu' }, quiet)).rejects.toThrow(
      'E003 labeled training genes: all 200 genes have log10(RPKM + 1) = 0.5; need differing expression',
    );
  });

  it('a run asked for expression without the values read says so', async () => {
    await expect(runModel(await e003(), { ...settings, target: 'expression' }, { kind: 'cpu' }, quiet)).rejects.toThrow(
      'E003: --target expression, but no expression values were read for this dataset',
    );
  });
});

describe('the target in stored settings', () => {
  it('round-trips, and settings stored before --target existed read back as class', () => {
    const stored = storeSettings({ ...DEFAULTS, target: 'expression' }, '/data/E003');
    expect(stored.target).toBe('expression');
    expect(restoreSettings(stored, 'last.safetensors').target).toBe('expression');
    const { target: _target, ...old } = stored;
    expect(restoreSettings(old, 'last.safetensors').target).toBe('class');
    expect(() => restoreSettings({ ...stored, target: 'rpkm' }, 'last.safetensors')).toThrow(
      'last.safetensors: stored settings are invalid: --target must be one of class, expression; got "rpkm"',
    );
  });
});
