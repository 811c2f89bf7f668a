import { appendFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomically } from '../checkpoint/safetensors.ts';
import { type CellEntry, cellsInFolder } from '../data/cellFolder.ts';
import { SPLIT_CODES } from '../data/dataset.ts';
import { acquireGpu, type Gpu } from '../gpu/device.ts';
import { neighborsFor } from './neighborSources.ts';
import { VariantPolicy, variantModeFrom } from '../plan/autotune.ts';
import { aurocBySizeChart } from '../plots/experimentChart.ts';
import { renderSvg } from '../plots/render.ts';
import { stepsPerEpoch } from '../train/trainClassifier.ts';
import type { CliOptions, ModelName } from './args.ts';
import { trainsJointly, usesNeighbors } from '../models/registry.ts';
import {
  CSV_HEADER,
  type ExperimentRow,
  csvLine,
  figurePoints,
  markdownTable,
  pairedCsv,
  pairedMarkdown,
  pairedRows,
  parseCsvLine,
  perCellCsv,
  perCellTable,
  summaryTable,
} from './experimentReport.ts';
import { finishedRuns, storedFingerprints } from './experimentResume.ts';
import { onInterrupt } from './interrupt.ts';
import { table } from './outputs.ts';
import { EXPERIMENT_FILES, OutDirectory } from './runDirectory.ts';
import { type Device, type VaeLatents, runModel } from './runModel.ts';
import { type LoadedData, err, loadData, progressPrinter, settingsOf } from './session.ts';

// SimpleChrome's claim, tested: test AUROC of each model when only N training
// genes carry labels, over several seeds, on one cell or on every cell of a
// folder. At a given seed every model sees the same labeled genes, so each is
// compared with the baselines seed by seed (paired). The VAE is trained once
// per cell and seed (it uses no labels) and shared by the VAE-based models.

const [CSV_FILE, MD_FILE, PAIRED_FILE, PER_CELL_FILE, SETTINGS_FILE, FIGURE_FILE] = EXPERIMENT_FILES;

const duration = (s: number): string => (s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

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
    if (out?.hasKept) return `the runs that finished are in ${join(out.dir, CSV_FILE)}; continue with: npx tsx run.ts --resume ${out.target}`;
    return removed;
  });
  let gpu: Gpu | undefined;
  try {
    const folder: CellEntry[] | undefined = o.data !== undefined ? cellsInFolder(o.data) : undefined;
    const cellPaths: (string | undefined)[] = folder ? folder.map((c) => c.path) : [o.data];
    if (folder) err(`experiment: ${o.data} holds ${folder.length} cells (${folder.map((c) => c.cell).join(', ')}); each is run in turn`);
    gpu = o.device === 'gpu' ? await acquireGpu() : undefined;
    const device: Device = gpu ? { kind: 'gpu', gpu, variants: new VariantPolicy(gpu, { mode: variantModeFrom(o.gemm), log: err }) } : { kind: 'cpu' };
    // A resumed experiment keeps the runs it finished and skips them.
    const rows: ExperimentRow[] = o.resume !== undefined ? finishedRuns(o.resume) : [];
    const done = new Set(rows.map(runKey));
    if (o.resume !== undefined) err(`experiment: resuming ${o.resume}: ${rows.length} finished runs kept`);
    // A resumed CSV is rewritten without any line the stop cut short (so the next rows start on a line of their
    // own), just before its first new row: a resume refused before then leaves the directory as it was.
    let csvClean = o.resume === undefined;
    const cells: CellResult[] = [];
    const fingerprints: Record<string, string> = o.resume !== undefined ? storedFingerprints(o.resume) : {};
    const progress = progressPrinter(o.quiet);
    const runs = armsOf(o);
    const labels = runs.map((a) => a.label);
    const perCell = o.seeds * o.sizes.length * runs.length;
    let expected = cellPaths.length * perCell - rows.length;
    let finished = 0;
    let runSeconds = 0;
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
        await writeFileAtomically(join(dir.dir, SETTINGS_FILE), `${JSON.stringify({ ...experimentSettings(o, folder), fingerprints }, null, 2)}\n`);
      }
      const trainGenes = ds.split.filter((c) => c === SPLIT_CODES.train).length;
      const sizes = o.sizes.filter((s) => {
        if (s !== 'all' && s > trainGenes) {
          err(`experiment: size ${s} skipped: ${ds.cell} has only ${trainGenes} training genes`);
          return false;
        }
        return true;
      });
      expected -= (o.sizes.length - sizes.length) * o.seeds * runs.length;
      cells.push({ cell: ds.cell, data, sizes, trainGenes });
      const latentCache = new Map<string, Promise<VaeLatents>>();
      for (let seed = 1; seed <= o.seeds; seed++) {
        for (const size of sizes) {
          for (const { label: model, ...arm } of runs) {
            if (done.has(runKey({ cell: ds.cell, model, size, seed }))) continue;
            err(`experiment: ${ds.cell}, ${model}, ${size} labeled genes, seed ${seed} (run ${finished + 1} of ${expected})`);
            const t0 = performance.now();
            const settings = { ...settingsOf(o), ...arm, seed, trainSize: size === 'all' ? undefined : size, epochs: epochsFor(o, size === 'all' ? trainGenes : size) };
            const run = await runModel(ds, settings, device, progress, (key, make) => {
              let p = latentCache.get(key);
              if (!p) latentCache.set(key, (p = make()));
              return p;
            }, { neighbors: neighborsFor });
            const seconds = (performance.now() - t0) / 1000;
            const row: ExperimentRow = {
              cell: ds.cell,
              model,
              size,
              seed,
              labeled: run.labeledGenes,
              validAuroc: run.result.valid.auroc,
              validAupr: run.result.valid.aupr,
              testAuroc: run.result.test.auroc,
              testAupr: run.result.test.aupr,
              bestEpoch: run.result.bestEpoch,
              epochs: run.result.history.length,
              seconds,
            };
            // The tables are computed from the values as the CSV holds them, so a resumed experiment (which reads them back) makes the same tables.
            const line = csvLine(row);
            rows.push(parseCsvLine(line, 'experiment row'));
            if (!csvClean) {
              await writeFileAtomically(join(dir.dir, CSV_FILE), `${[CSV_HEADER, ...rows.slice(0, -1).map(csvLine)].join('\n')}\n`);
              csvClean = true;
            }
            await appendFile(join(dir.dir, CSV_FILE), `${line}\n`);
            // The first finished run is what a replaced directory is swapped in for.
            dir.saved();
            finished++;
            runSeconds += seconds;
            const left = expected - finished;
            if (left > 0) err(`experiment: ${finished} of ${expected} runs done in ${duration(runSeconds)}; about ${duration((runSeconds / finished) * left)} left`);
          }
        }
      }
    }
    const dir = out as OutDirectory;
    const names = cells.map((c) => c.cell);
    const allSizes = o.sizes.filter((s) => cells.some((c) => c.sizes.includes(s)));
    const paired = pairedRows(rows, names, labels, allSizes);
    const first = cells[0] as CellResult;
    const lines = [
      `# Small-data experiment: ${names.join(', ')}${first.data.source.synthetic ? ' (SYNTHETIC DATA: meaningless)' : ''}`,
      '',
      `Test AUROC, mean ± sd over ${o.seeds} seeds, by number of labeled training genes; every model sees the same labeled genes at a given seed.`,
      `Data: ${folder ? `${o.data} (${names.length} cells)` : first.data.source.path}; normalization ${o.normalize};`,
      `epochs ${o.minSteps > 0 ? `${o.epochs}, or enough for ${o.minSteps} optimizer steps, at most ${o.maxEpochs},` : o.epochs} (best by validation AUROC), VAE epochs ${o.vaeEpochs}, batch ${o.batch}, lr ${o.lr}, latent ${o.latent}, beta ${o.beta}, ${o.neighborKinds.join(' and ')} neighbours k=${o.k}${o.models.some(trainsJointly) ? `, joint weight λ ${o.jointWeight}` : ''}; device ${gpu ? gpu.adapterName : 'CPU'}.`,
      `Every run: ${CSV_FILE}; paired differences: ${PAIRED_FILE}; settings: ${SETTINGS_FILE}; figure: ${FIGURE_FILE}.`,
    ];
    let stdout = '';
    for (const c of cells) {
      const s = summaryTable(rows, c.cell, labels, c.sizes, c.trainGenes);
      lines.push('', `## ${c.cell} (${c.data.dataset.genes} genes, ${c.data.dataset.bins} bins)`, '', ...markdownTable(s.header, s.body));
      const p = pairedMarkdown(paired, c.cell);
      if (p.length > 0) lines.push('', `Paired test-AUROC difference, model − baseline, over ${o.seeds} seeds (95% t-interval; wins: seeds where the model scored higher):`, '', ...p);
      stdout += `${c.cell}\n${table(s.header, s.body)}\n`;
    }
    const files: string[] = [MD_FILE, CSV_FILE, PAIRED_FILE, SETTINGS_FILE, FIGURE_FILE];
    if (folder) {
      const t = perCellTable(rows, names, labels, allSizes);
      lines.push('', '## Per cell', '', "Mean test AUROC at the largest size that ran, beside DeepChrome's published test AUROC (Singh et al. 2016; trained on all 6601 training genes of DeepChrome's split).", '', ...markdownTable(t.header, t.body));
      await writeFileAtomically(join(dir.dir, PER_CELL_FILE), perCellCsv(t));
      files.push(PER_CELL_FILE);
      stdout += `per cell\n${table(t.header, t.body)}\n`;
    }
    await writeFileAtomically(join(dir.dir, PAIRED_FILE), pairedCsv(paired));
    const figure = aurocBySizeChart(
      `Test AUROC by labeled genes: ${names.length > 3 ? `${names.length} cells` : names.join(', ')}`,
      `mean ± sd over ${o.seeds} seeds${names.length > 1 ? ` and ${names.length} cells` : ''}`,
      figurePoints(rows, labels, allSizes),
    );
    await writeFileAtomically(join(dir.dir, FIGURE_FILE), await renderSvg(figure));
    await writeFileAtomically(join(dir.dir, MD_FILE), `${lines.join('\n')}\n`);
    dir.finish();
    process.stdout.write(`${stdout}(test AUROC, mean ± sd over ${o.seeds} seeds)\nwrote ${files.map((f) => join(dir.target, f)).join(', ')}\n`);
    return 0;
  } catch (e) {
    out?.abandon();
    throw e;
  } finally {
    unregister();
    gpu?.destroy();
  }
}

/** Classifier epochs for `labeled` genes: --epochs, or more where --min-steps needs them (those at most --max-epochs). */
export function epochsFor(o: Pick<CliOptions, 'epochs' | 'minSteps' | 'maxEpochs' | 'batch'>, labeled: number): number {
  const steps = stepsPerEpoch(labeled, Math.min(o.batch, labeled));
  return Math.max(o.epochs, Math.min(o.maxEpochs, Math.ceil(o.minSteps / steps)));
}

/** One arm of the experiment: a model, and for vae-mlp-neighbors its kind of neighbours. With several kinds
 * (--neighbors spatial,functional) each is its own arm, named model:kind in the tables. */
interface Arm {
  readonly label: string;
  readonly model: ModelName;
  readonly neighbors: 'spatial' | 'functional';
}

function armsOf(o: CliOptions): Arm[] {
  return o.models.flatMap((model): Arm[] =>
    usesNeighbors(model) && o.neighborKinds.length > 1
      ? o.neighborKinds.map((neighbors) => ({ label: `${model}:${neighbors}`, model, neighbors }))
      : [{ label: model, model, neighbors: o.neighbors }],
  );
}

const runKey = (r: Pick<ExperimentRow, 'cell' | 'model' | 'size' | 'seed'>): string => `${r.cell}|${r.model}|${r.size}|${r.seed}`;

/** What experiment.json keeps beside the results: every setting that decides them. */
function experimentSettings(o: CliOptions, folder: CellEntry[] | undefined): Record<string, unknown> {
  const { model: _model, seed: _seed, trainSize: _size, ...run } = settingsOf(o);
  return {
    experiment: o.experiment,
    data: o.data === undefined ? null : resolve(o.data),
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
