import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runModel } from '../src/train/runModel.ts';
import type { RunSettings } from '../src/train/runSettings.ts';
import { SHARED_DATASETS } from '../src/cli/session/dataSource.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { applyNormalization, fitNormalization } from '../src/data/normalize.ts';
import { labeledSubset, observedValues, splitIndices } from '../src/train/prepare.ts';
import { classScores } from '../src/train/target.ts';
import type { ClassifierSpec } from '../src/models/modelSpec.ts';
import { LinearSolver } from '../src/train/linearFit.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { settings as base, e003, quiet } from './realSample.ts';

// logreg's convex fit against scikit-learn's L2 logistic regression (lbfgs, tolerance far below ours) at the
// penalty our search chose, on the same labeled genes and the same normalised features: the same objective
// (mean BCE + λ/2·‖w‖² is 1/(λn) times C·ΣBCE + ½‖w‖² with C = 1/(λn)) must give the same test AUROC.

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'sklearn_logreg.py');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Debian's python3 (a pyenv python3 may come first on PATH without scikit-learn); missing it is a failure. */
function requireSklearn(): void {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${PYTHON} cannot import sklearn and numpy: on Debian, apt-get install python3-sklearn (scripts/setup.sh does)`);
}

interface SklearnFit {
  readonly auroc: number;
  readonly coef: number[];
  readonly intercept: number;
  readonly objective: number;
}

function rows(ds: Dataset, genes: Uint32Array): Float32Array {
  const w = ds.bins * ds.marks.length;
  const out = new Float32Array(genes.length * w);
  genes.forEach((g, i) => out.set(ds.features.subarray(g * w, (g + 1) * w), i * w));
  return out;
}

function sklearnFit(ds: Dataset, train: Uint32Array, test: Uint32Array, l2: number): SklearnFit {
  const dir = mkdtempSync(join(tmpdir(), 'sklearn-'));
  dirs.push(dir);
  const y = observedValues(ds, 'class');
  const write = (name: string, a: Float32Array) => writeFileSync(join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  write('x_train', rows(ds, train));
  write('y_train', Float32Array.from(train, (g) => y[g] as number));
  write('x_test', rows(ds, test));
  write('y_test', Float32Array.from(test, (g) => y[g] as number));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ trainGenes: train.length, testGenes: test.length, width: ds.bins * ds.marks.length, l2 }));
  return JSON.parse(execFileSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', maxBuffer: 1 << 26 })) as SklearnFit;
}

/** The chosen fit's weights, refit at its penalty alone on the same genes. */
async function fittedWeights(spec: ClassifierSpec, s: RunSettings, ds: Dataset): Promise<Float32Array> {
  if (spec.architecture !== 'logreg') throw new Error('not logreg');
  const all = splitIndices(ds);
  const split = { train: labeledSubset(all.train, s.trainSize, s.seed), valid: all.valid };
  const solver = await LinearSolver.create({ features: ds.features, width: ds.bins * ds.marks.length, labels: observedValues(ds, 'class'), split, target: 'class' }, async (plan) => new CpuExecutor(plan));
  return (await solver.fit(spec.l2)).params;
}

async function compare(ds: Dataset, s: RunSettings): Promise<void> {
  requireSklearn();
  const run = await runModel(ds, s, { kind: 'cpu' }, quiet);
  const p = run.penalty;
  if (!p) throw new Error('logreg: no penalty search recorded');
  expect(p.converged).toBe(true);
  const all = splitIndices(ds);
  const train = labeledSubset(all.train, s.trainSize, s.seed);
  expect(Array.from(run.split.train)).toEqual(Array.from(train));
  const sk = sklearnFit(ds, train, all.test, p.chosen);
  const ours = classScores(run.result.test, 'logreg').auroc;
  console.log(`${ds.cell}: λ ${p.chosen}, test AUROC ours ${ours.toFixed(5)}, scikit-learn ${sk.auroc.toFixed(5)}`);
  expect(Math.abs(ours - sk.auroc), `test AUROC: ours ${ours}, scikit-learn ${sk.auroc} at λ = ${p.chosen}`).toBeLessThanOrEqual(0.002);
  // And the same weights, loosely (ours stop at a gradient of 1e-5, theirs far below).
  const params = await fittedWeights(run.spec, s, ds);
  const scale = Math.max(...sk.coef.map(Math.abs));
  const worst = Math.max(...sk.coef.map((c, i) => Math.abs(c - (params[i] as number))));
  expect(worst / scale, `largest coefficient difference ${worst} of ${scale}`).toBeLessThanOrEqual(0.05);
  // Both minimise one objective: ours must be no higher than scikit-learn's beyond float32 rounding.
  const chosen = p.fits.find((f) => f.l2 === p.chosen);
  expect(chosen?.objective).toBeLessThanOrEqual(sk.objective * (1 + 1e-5) + 1e-6);
}

describe('logreg against scikit-learn', () => {
  it('matches on the E003 sample (all 200 labeled genes)', async () => {
    await compare(await e003(), { ...base, model: 'logreg', seed: 1 });
  }, 300_000);

  it('matches on E116 (GC-MERGE) with 1,000 labeled genes', async () => {
    const loaded = await loadCell(join(SHARED_DATASETS, 'gcmerge_E116'), { cache: false });
    const ds = applyNormalization(loaded.dataset, fitNormalization(loaded.dataset, 'log1p-max'));
    await compare(ds, { ...base, model: 'logreg', seed: 1, trainSize: 1000 });
  }, 600_000);
});
