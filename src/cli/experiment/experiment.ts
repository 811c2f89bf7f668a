import { appendFile, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import { type CellEntry, cellsInFolder } from '../../data/cellFolder.ts';
import { SPLIT_CODES } from '../../data/dataset.ts';
import { acquireGpu, type Gpu } from '../../gpu/device.ts';
import { DISK_SOURCES } from '../session/neighborSources.ts';
import { VariantPolicy, variantModeFrom } from '../../plan/autotune.ts';
import { stepsPerEpoch } from '../../train/trainClassifier.ts';
import { type Scores, isClassScores } from '../../train/target.ts';
import type { CliOptions, ModelName } from '../flags/args.ts';
import { isSemiSupervisedVae, usesNeighbors } from '../../models/registry.ts';
import { storedWeightChoices, weightChoiceLines, weightChoicesCsv } from './weightChoices.ts';
import { type ExperimentRow, csvHeaderFor, csvLine, parseCsvLine } from './experimentReport.ts';
import { ExperimentClock, duration } from './experimentClock.ts';
import { writeExperimentReport } from './experimentFiles.ts';
import { finishedRuns, storedFingerprints, storedVaeCurves } from './experimentResume.ts';
import { type VaeCurveRow, vaeCurveRows, vaeCurvesCsv, withCurve } from './vaeCurves.ts';
import { storedOrTrainedVae } from './experimentVaes.ts';
import { removeFinishedRunFolders, runInProgress } from './experimentRunCheckpoints.ts';
import { onInterrupt } from '../session/interrupt.ts';
import { EXPERIMENT_FILE, OutDirectory } from '../session/runDirectory.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import { type Device, type RunOutcome, type VaeLatents, runModel, trainsVaeFirst } from '../../train/runModel.ts';
import type { Dataset } from '../../data/dataset.ts';
import { type LoadedData, err, loadData, settingsOf } from '../session/session.ts';
import { progressPrinter } from '../session/progressPrinter.ts';
import { COMMAND_TO_TYPE } from '../flags/commandName.ts';

// SimpleChrome's claim, tested: test AUROC of each model when only N training
// genes carry labels, over several seeds, on one cell or on every cell of a
// folder. At a given seed every model sees the same labeled genes, so each is
// compared with the baselines seed by seed (paired). The VAE is trained once
// per cell and seed (it uses no labels) and shared by the VAE-based models.
// With --target expression the same runs are scored by test Pearson (and
// Spearman), in a CSV whose header names those columns.

const { csv: CSV_FILE, settings: SETTINGS_FILE, vaeCurves: VAE_CURVES_FILE, weightChoices: WEIGHT_CHOICES_FILE } = EXPERIMENT_FILE;

/** A run's two scores in the row's columns: AUROC and AUPR, or Pearson and Spearman. */
const scorePair = (s: Scores): [number, number] => (isClassScores(s) ? [s.auroc, s.aupr] : [s.pearson, s.spearman]);


interface CellResult {
  readonly cell: string;
  readonly data: LoadedData;
  readonly sizes: readonly (number | 'all')[];
  readonly trainGenes: number;
}

export async function runExperiment(o: CliOptions): Promise<number> {
  const open = (path: string): OutDirectory => {
    const dir = OutDirectory.open(path, { overwrite: o.overwrite, resume: o.resume !== undefined });
    for (const note of dir.notes) process.stderr.write(`${note}\n`);
    return dir;
  };
  let out = o.out !== undefined ? open(o.out) : undefined;
  const unregister = onInterrupt(() => {
    const removed = out?.abandon();
    if (out?.hasKept) return `the runs that finished are in ${join(out.dir, CSV_FILE)}, and the run in progress continues from its last finished epoch; continue with: ${COMMAND_TO_TYPE} --resume ${out.target}`;
    return removed;
  });
  let gpu: Gpu | undefined;
  const CSV_HEADER = csvHeaderFor(o.target);
  try {
    const folder: CellEntry[] | undefined = o.data !== undefined ? cellsInFolder(o.data) : undefined;
    const cellPaths: (string | undefined)[] = folder ? folder.map((c) => c.path) : [o.data];
    if (folder) err(`experiment: ${o.data} holds ${folder.length} cells (${folder.map((c) => c.cell).join(', ')}); each is run in turn`);
    gpu = o.device === 'gpu' ? await acquireGpu() : undefined;
    const device: Device = gpu ? { kind: 'gpu', gpu, variants: new VariantPolicy(gpu, { mode: variantModeFrom(o.gemm), log: err }) } : { kind: 'cpu' };
    // A resumed experiment keeps the runs it finished and skips them.
    const rows: ExperimentRow[] = o.resume !== undefined ? finishedRuns(o.resume, o.target) : [];
    const done = new Set(rows.map(runKey));
    if (o.resume !== undefined) err(`experiment: resuming ${o.resume}: ${rows.length} finished runs kept`);
    // A resumed CSV is rewritten without any line the stop cut short (so the next rows start on a line of their
    // own), just before its first new row: a resume refused before then leaves the directory as it was.
    let csvClean = o.resume === undefined;
    const cells: CellResult[] = [];
    const fingerprints: Record<string, string> = o.resume !== undefined ? storedFingerprints(o.resume) : {};
    let vaeCurves: VaeCurveRow[] = o.resume !== undefined ? storedVaeCurves(o.resume) : [];
    const progress = progressPrinter(o.quiet);
    const runs = armsOf(o);
    const labels = runs.map((a) => a.label);
    const perCell = o.seeds * o.sizes.length * runs.length;
    let expected = cellPaths.length * perCell - rows.length;
    let finished = 0;
    const vaeArms = runs.filter((a) => trainsVaeFirst({ model: a.model, m2Init: o.m2Init }));
    let weightChoices: string[] = o.resume !== undefined ? storedWeightChoices(join(o.resume, WEIGHT_CHOICES_FILE), done) : [];
    const clock = new ExperimentClock(vaeArms.length > 0 ? cellPaths.length * o.seeds : 0);
    // The tables of the runs so far: after every run (partial), and once at the end.
    const writeReport = (dir: OutDirectory, partial?: { finished: number; total: number }) => {
      const first = cells[0] as CellResult;
      return writeExperimentReport(dir.dir, {
        o,
        rows,
        cells: cells.map((c) => ({ cell: c.cell, genes: c.data.dataset.genes, bins: c.data.dataset.bins, trainGenes: c.trainGenes, sizes: c.sizes })),
        labels,
        dataLabel: folder ? String(o.data) : first.data.source.path,
        folder: folder !== undefined,
        synthetic: first.data.source.synthetic,
        deviceName: gpu ? gpu.adapterName : 'CPU',
        vaeCurves,
        ...(partial ? { partial: { ...partial, resume: dir.target } } : {}),
      });
    };
    for (const path of cellPaths) {
      const data = await loadData({ ...o, data: path });
      const ds = data.dataset;
      out ??= open(join('runs', `small-data-${folder && o.data ? basename(resolve(o.data)) : ds.cell}`));
      const dir = out;
      if (cells.length === 0 && o.resume === undefined) {
        // Each run is appended as it finishes, so a long experiment that is stopped keeps what it measured.
        await writeFile(join(dir.dir, CSV_FILE), `${CSV_HEADER}\n`);
      }
      // A resumed experiment must read the data its finished runs read, or the tables would mix two data sets.
      const before = fingerprints[ds.cell];
      if (before !== undefined && before !== data.fingerprint) {
        throw new Error(`--resume ${o.resume}: the data of ${ds.cell} at ${data.source.path} is not the data this experiment ran on (fingerprints differ); start a new experiment`);
      }
      if (before === undefined) {
        fingerprints[ds.cell] = data.fingerprint;
        await writeFileAtomically(join(dir.dir, SETTINGS_FILE), `${JSON.stringify({ ...experimentSettings(o, folder, dir.target), fingerprints }, null, 2)}\n`);
      }
      const { trainGenes, sizes } = sizesOn(o, ds);
      expected -= (o.sizes.length - sizes.length) * o.seeds * runs.length;
      cells.push({ cell: ds.cell, data, sizes, trainGenes });
      // A stop between a run's row and the deletion of its checkpoints leaves their folder behind.
      if (cells.length === 1) {
        const removed = removeFinishedRunFolders(dir.dir, rows);
        if (removed.length > 0) err(`experiment: deleted the checkpoints of ${removed.length} runs the CSV already holds (${removed.join(', ')})`);
      }
      const target = { dir: () => dir.dir, saved: () => dir.saved() };
      const latentCache = new Map<string, Promise<VaeLatents>>();
      for (let seed = 1; seed <= o.seeds; seed++) {
        if (vaeArms.length > 0 && vaeArms.every((a) => sizes.every((size) => done.has(runKey({ cell: ds.cell, model: a.label, size, seed }))))) clock.vaeNotNeeded();
      }
      for (let seed = 1; seed <= o.seeds; seed++) {
        for (const size of sizes) {
          for (const arm of runs) {
            const model = arm.label;
            if (done.has(runKey({ cell: ds.cell, model, size, seed }))) continue;
            err(`experiment: ${ds.cell}, ${model}, ${size} labeled genes, seed ${seed} (run ${finished + 1} of ${expected})`);
            const t0 = performance.now();
            let trainedVae = false;
            const settings = armSettings(o, arm, seed, size, { train: trainGenes, valid: validGenesOf(ds) });
            const inProgress = await runInProgress(target, { cell: ds.cell, model, size, seed }, settings, data, err);
            const run = await runModel(ds, settings, device, progress, (key, make) => {
              let p = latentCache.get(key);
              if (!p) {
                p = storedOrTrainedVae(target, seed, data, key, make, o.latent, err).then((r) => {
                  trainedVae = r.trained;
                  return r.vae;
                });
                latentCache.set(key, p);
              }
              return p;
            }, { ...DISK_SOURCES, ...inProgress.hooks });
            // A continued run's time includes the epochs a stopped sitting trained.
            const seconds = (performance.now() - t0) / 1000 + inProgress.restoredSeconds;
            // Each VAE's curve is kept once, when the first run that uses it has trained it.
            if (run.vaeHistory && !vaeCurves.some((r) => r.cell === ds.cell && r.seed === seed)) {
              vaeCurves = withCurve(vaeCurves, vaeCurveRows(ds.cell, seed, run.vaeHistory));
              await writeFileAtomically(join(dir.dir, VAE_CURVES_FILE), vaeCurvesCsv(vaeCurves));
            }
            const row = experimentRow({ cell: ds.cell, model, size, seed }, run, seconds);
            const w = run.weightSearch;
            if (w && w.values.length > 1) {
              const symbol = w.setting === 'alpha' ? 'α' : 'λ';
              err(`experiment: ${ds.cell}, ${model}, ${size}, seed ${seed}: kept ${symbol} = ${w.chosen} (validation ${w.values.map((v, i) => `${v}: ${(w.validAuroc[i] as number).toFixed(4)}`).join(', ')})`);
              weightChoices = [...weightChoices, ...weightChoiceLines({ cell: ds.cell, model, size, seed }, w)];
              await writeFileAtomically(join(dir.dir, WEIGHT_CHOICES_FILE), weightChoicesCsv(weightChoices));
            }
            // The tables are computed from the values as the CSV holds them, so a resumed experiment (which reads them back) makes the same tables.
            const line = csvLine(row);
            rows.push(parseCsvLine(line, 'experiment row'));
            if (!csvClean) {
              await writeFileAtomically(join(dir.dir, CSV_FILE), `${[CSV_HEADER, ...rows.slice(0, -1).map(csvLine)].join('\n')}\n`);
              csvClean = true;
            }
            await appendFile(join(dir.dir, CSV_FILE), `${line}\n`);
            inProgress.finished();
            // The first finished run is what a replaced directory is swapped in for.
            dir.saved();
            finished++;
            clock.record(seconds, trainedVae ? run.seconds.vae : undefined);
            const left = expected - finished;
            // A long experiment shows its tables as it goes, and a stopped one keeps the tables of what it finished.
            if (left > 0) await writeReport(dir, { finished: rows.length, total: rows.length + left });
            if (left > 0) err(`experiment: ${finished} of ${expected} runs done in ${duration(clock.elapsed)}; ${clock.left(left)}`);
          }
        }
      }
    }
    const dir = out as OutDirectory;
    const report = await writeReport(dir);
    dir.finish();
    process.stdout.write(`${report.stdout}wrote ${report.files.map((f) => join(dir.target, f)).join(', ')}\n`);
    return 0;
  } catch (e) {
    out?.abandon();
    throw e;
  } finally {
    unregister();
    gpu?.destroy();
  }
}

/** Classifier epochs for `labeled` genes: --epochs, or more where --min-steps needs them (those at most --max-epochs).
 * `unlabeled` (vae-m2, whose epoch is a pass over its unlabeled genes at --vae-batch): counts its steps instead. */
export function epochsFor(
  o: Pick<CliOptions, 'epochs' | 'minSteps' | 'maxEpochs' | 'batch'>,
  labeled: number,
  unlabeled?: { readonly genes: number; readonly batch: number },
): number {
  const steps = unlabeled ? stepsPerEpoch(unlabeled.genes, Math.min(unlabeled.batch, unlabeled.genes)) : stepsPerEpoch(labeled, Math.min(o.batch, labeled));
  return Math.max(o.epochs, Math.min(o.maxEpochs, Math.ceil(o.minSteps / steps)));
}

/** The sizes of --sizes that `ds` can run (a size above its training genes is skipped with a note). */
export function sizesOn(o: Pick<CliOptions, 'sizes'>, ds: Dataset): { trainGenes: number; sizes: (number | 'all')[] } {
  const trainGenes = ds.split.filter((c) => c === SPLIT_CODES.train).length;
  const sizes = o.sizes.filter((s) => {
    if (s !== 'all' && s > trainGenes) {
      err(`experiment: size ${s} skipped: ${ds.cell} has only ${trainGenes} training genes`);
      return false;
    }
    return true;
  });
  return { trainGenes, sizes };
}

/** The settings of one run of the grid: one arm at one size and seed. */
export function armSettings(o: CliOptions, arm: Arm, seed: number, size: number | 'all', genes: { readonly train: number; readonly valid: number }): RunSettings {
  const { label: _label, ...choice } = arm;
  const labeled = size === 'all' ? genes.train : size;
  // vae-m2's epoch is one pass over its unlabeled train and valid genes at --vae-batch, so --min-steps counts those steps.
  const unlabeled = genes.train - labeled + genes.valid;
  const m2 = isSemiSupervisedVae(arm.model) && unlabeled > 0 ? { genes: unlabeled, batch: o.vaeBatch } : undefined;
  return { ...settingsOf(o), ...choice, seed, trainSize: size === 'all' ? undefined : size, epochs: epochsFor(o, labeled, m2) };
}

/** The validation genes of `ds`. */
export const validGenesOf = (ds: Dataset): number => ds.split.filter((c) => c === SPLIT_CODES.valid).length;

/** A finished run as the CSV records it. */
export function experimentRow(at: Pick<ExperimentRow, 'cell' | 'model' | 'size' | 'seed'>, run: RunOutcome, seconds: number): ExperimentRow {
  const r = run.result;
  const [validAuroc, validAupr] = scorePair(r.valid);
  const [testAuroc, testAupr] = scorePair(r.test);
  return { ...at, labeled: run.labeledGenes, validAuroc, validAupr, testAuroc, testAupr, bestEpoch: r.bestEpoch, epochs: r.history.length, seconds };
}

/** One arm of the experiment: a model, and for vae-mlp-neighbors its kind of neighbours. With several kinds
 * (--neighbors spatial,functional) each is its own arm, named model:kind in the tables. */
export interface Arm {
  readonly label: string;
  readonly model: ModelName;
  readonly neighbors: 'spatial' | 'functional';
}

export function armsOf(o: CliOptions): Arm[] {
  return o.models.flatMap((model): Arm[] =>
    usesNeighbors(model) && o.neighborKinds.length > 1
      ? o.neighborKinds.map((neighbors) => ({ label: `${model}:${neighbors}`, model, neighbors }))
      : [{ label: model, model, neighbors: o.neighbors }],
  );
}

const runKey = (r: Pick<ExperimentRow, 'cell' | 'model' | 'size' | 'seed'>): string => `${r.cell}|${r.model}|${r.size}|${r.seed}`;

/** What experiment.json keeps beside the results: every setting that decides them. `outDir`: the experiment's
 * directory, from which the data's place is kept too (dataRelative), so that a clone of both elsewhere resumes. */
export function experimentSettings(o: CliOptions, folder: CellEntry[] | undefined, outDir: string): Record<string, unknown> {
  const { model: _model, seed: _seed, trainSize: _size, ...run } = settingsOf(o);
  return {
    experiment: o.experiment,
    data: o.data === undefined ? null : resolve(o.data),
    ...(o.data !== undefined ? { dataRelative: relative(resolve(outDir), resolve(o.data)) } : {}),
    ...(folder ? { cells: folder.map((c) => c.cell) } : {}),
    models: o.models,
    sizes: o.sizes,
    seeds: o.seeds,
    minSteps: o.minSteps,
    maxEpochs: o.maxEpochs,
    normalize: o.normalize,
    device: o.device,
    ...(o.gemm !== undefined ? { gemm: o.gemm } : {}),
    ...run,
    // Every kind, so a resumed experiment runs the same arms.
    neighbors: o.neighborKinds.join(','),
  };
}
