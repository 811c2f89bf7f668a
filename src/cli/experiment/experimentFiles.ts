import { join } from 'node:path';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import { aurocBySizeChart } from '../../plots/experimentChart.ts';
import { renderSvg } from '../../plots/render.ts';
import type { CliOptions } from '../flags/args.ts';
import { isLinear, isSemiSupervisedVae, modelInfo, trainsJointly } from '../../models/registry.ts';
import {
  WINDOW_BASELINES,
  bestBaselines,
  bestEpochTable,
  type ExperimentRow,
  METRICS,
  csvHeaderFor,
  csvLine,
  figurePoints,
  markdownTable,
  pairedCsv,
  pairedMarkdown,
  pairedRows,
  perCellCsv,
  perCellTable,
  summaryTable,
} from './experimentReport.ts';
import { table } from '../session/outputs.ts';
import { EXPERIMENT_FILE } from '../session/runDirectory.ts';
import type { Target } from '../../train/target.ts';
import { type VaeCurveRow, vaeCurvesChart, vaeCurvesMarkdown } from './vaeCurves.ts';
import { COMMAND_TO_TYPE } from '../flags/commandName.ts';

// The files an experiment leaves once its runs are done: small-data.md, the
// paired differences, the per-cell table, the figure, the VAE curves' table and
// figure, and experiment.json.
// The single-machine experiment and `collect` (which gathers the entries a
// cluster ran) both write them here, so the two give the same files.

const {
  csv: CSV_FILE,
  markdown: MD_FILE,
  paired: PAIRED_FILE,
  perCell: PER_CELL_FILE,
  settings: SETTINGS_FILE,
  aurocFigure: AUROC_FIGURE,
  pearsonFigure: PEARSON_FIGURE,
  vaeCurves: VAE_CURVES_FILE,
  vaeFigure: VAE_FIGURE_FILE,
} = EXPERIMENT_FILE;

/** One cell of the experiment, as its tables describe it. */
export interface ReportCell {
  readonly cell: string;
  readonly genes: number;
  readonly bins: number;
  readonly trainGenes: number;
  /** The sizes that ran on this cell (those above its training genes are skipped). */
  readonly sizes: readonly (number | 'all')[];
}

export interface ReportInput {
  readonly o: CliOptions;
  readonly rows: readonly ExperimentRow[];
  readonly cells: readonly ReportCell[];
  /** The arms' labels (model, or model:kind), in table order. */
  readonly labels: readonly string[];
  /** What the Data line names: the folder of cells, or the one cell's path. */
  readonly dataLabel: string;
  readonly folder: boolean;
  readonly synthetic: boolean;
  readonly deviceName: string;
  /** experiment.json to write, as the experiment stores it (settings and the data fingerprints); the
   * single-machine experiment writes its own as each cell loads. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Each VAE's loss per epoch (vae-curves.csv, which the caller writes); none when no model used one. */
  readonly vaeCurves: readonly VaeCurveRow[];
  /** Tables of an experiment still running (or stopped): the runs finished so far, of about `total`. */
  readonly partial?: { readonly finished: number; readonly total: number; readonly resume: string };
}

/** The model of an arm's label (model, or model:kind for a neighbour model run with several kinds). */
const modelOfArm = (label: string): Parameters<typeof isLinear>[0] => modelInfo(label.split(':')[0] ?? label, 'experiment arm').name;

export const settingsText = (settings: Readonly<Record<string, unknown>>): string => `${JSON.stringify(settings, null, 2)}\n`;

export const csvText = (rows: readonly ExperimentRow[], target: Target): string => `${[csvHeaderFor(target), ...rows.map(csvLine)].join('\n')}\n`;

/** How a file is written: atomically, or (collect) held until every file is known (gridRoot.ts's writeCollected). */
export type FileWriter = (path: string, bytes: string) => Promise<void>;

/** Writes every table, the figure and experiment.json into `dir` (the CSV is the caller's) with `write`; returns what stdout shows and the file names. */
export async function writeExperimentReport(dir: string, r: ReportInput, write: FileWriter = writeFileAtomically): Promise<{ stdout: string; files: string[] }> {
  const { o, rows, cells, labels } = r;
  const names = cells.map((c) => c.cell);
  const allSizes = o.sizes.filter((s) => cells.some((c) => c.sizes.includes(s)));
  const paired = pairedRows(rows, names, labels, allSizes);
  const metric = METRICS[o.target].main;
  const FIGURE_FILE = o.target === 'class' ? AUROC_FIGURE : PEARSON_FIGURE;
  // A partial experiment's means are over the seeds that have finished so far, which differ from row to row.
  const seeds = r.partial ? `the seeds finished so far (of ${o.seeds})` : `${o.seeds} seeds`;
  const lines = [
    `# Small-data experiment: ${names.join(', ')}${r.synthetic ? ' (SYNTHETIC DATA: meaningless)' : ''}${r.partial ? ` (partial: ${r.partial.finished} of ${r.partial.total} runs)` : ''}`,
    '',
    ...(r.partial
      ? [
          `**Partial.** These tables hold the ${r.partial.finished} runs finished so far, of ${r.partial.total}; they are rewritten after every run, and the experiment continues with \`${COMMAND_TO_TYPE} --resume ${r.partial.resume}\`. Compare models only where their seeds are the same (the paired table does).`,
          '',
        ]
      : []),
    `Test ${metric}${o.target === 'expression' ? ' of predicted against observed log10(RPKM + 1)' : ''}, mean ± sd over ${seeds}, by number of labeled training genes; every model sees the same labeled genes at a given seed.`,
    `Data: ${r.folder ? `${r.dataLabel} (${names.length} cells)` : r.dataLabel}; normalization ${o.normalize};`,
    `epochs ${o.minSteps > 0 ? `${o.epochs}, or enough for ${o.minSteps} optimizer steps, at most ${o.maxEpochs},` : o.epochs} (best by validation ${metric}), VAE epochs ${o.vaeEpochs}, batch ${o.batch} (VAE ${o.vaeBatch}), lr ${o.lr}${o.clip === undefined ? '' : `, gradient norm clipped at ${o.clip}`}, latent ${o.latent}, beta ${o.beta}, ${o.neighborKinds.join(' and ')} neighbours k=${o.k}${o.models.some(trainsJointly) ? `, joint weight λ ${o.jointWeight.join(', ')}${o.jointWeight.length > 1 ? ' (the best by validation per run)' : ''}` : ''}${o.models.some(isSemiSupervisedVae) ? `, vae-m2 α ${o.alpha.map((a) => `${a}·N`).join(', ')}${o.alpha.length > 1 ? ' (the best by validation per run)' : ''}, ${o.m2Init === 'pretrained' ? 'started from the pretrained VAE' : 'from random weights'}` : ''}; device ${r.deviceName}.`,
    `Every run: ${CSV_FILE}; paired differences: ${PAIRED_FILE}; settings: ${SETTINGS_FILE}; figure: ${FIGURE_FILE}.`,
  ];
  let stdout = '';
  for (const c of cells) {
    const s = summaryTable(rows, c.cell, labels, c.sizes, c.trainGenes);
    lines.push('', `## ${c.cell} (${c.genes} genes, ${c.bins} bins)`, '', ...markdownTable(s.header, s.body));
    const best = bestBaselines(rows, c.cell, c.sizes, WINDOW_BASELINES);
    if (best.length > 0) {
      lines.push(
        '',
        `The best baseline that sees only the gene's own window (of ${WINDOW_BASELINES.join(', ')}), by mean test ${metric}: ` +
          `${best.map((b) => `${b.size} labeled: ${b.baseline} (${b.mean.toFixed(3)})`).join('; ')}.`,
      );
    }
    const p = pairedMarkdown(paired, c.cell);
    if (p.length > 0) lines.push('', `Paired test-${metric} difference, model − baseline, over ${seeds} (95% t-interval; wins: seeds where the model scored higher):`, '', ...p);
    const e = bestEpochTable(rows, c.cell, labels, c.sizes, c.trainGenes, (label) => isLinear(modelOfArm(label)));
    lines.push('', `Best epoch by validation ${metric}, median over seeds, of how many epochs, and in how many runs it was the last one (the models fit to convergence give their solver's iterations):`, '', ...markdownTable(e.header, e.body));
    stdout += `${c.cell}\n${table(s.header, s.body)}\n`;
  }
  const files: string[] = [MD_FILE, CSV_FILE, PAIRED_FILE, SETTINGS_FILE, FIGURE_FILE];
  const vaeTable = vaeCurvesMarkdown(r.vaeCurves);
  if (vaeTable.length > 0) {
    lines.push('', '## The VAEs', '', `Each VAE trained ${o.vaeEpochs} epochs on its cell's unlabeled train and valid genes; its curve per epoch is in ${VAE_CURVES_FILE} and ${VAE_FIGURE_FILE}.`, '', ...vaeTable);
    await write(join(dir, VAE_FIGURE_FILE), await renderSvg(vaeCurvesChart(r.vaeCurves)));
    files.push(VAE_CURVES_FILE, VAE_FIGURE_FILE);
  }
  if (r.folder) {
    const t = perCellTable(rows, names, labels, allSizes, o.target === 'class');
    const intro =
      o.target === 'class'
        ? "Mean test AUROC at the largest size that ran, beside DeepChrome's published test AUROC (Singh et al. 2016; trained on all 6601 training genes of DeepChrome's split)."
        : `Mean test ${metric} at the largest size that ran.`;
    lines.push('', '## Per cell', '', intro, '', ...markdownTable(t.header, t.body));
    await write(join(dir, PER_CELL_FILE), perCellCsv(t));
    files.push(PER_CELL_FILE);
    stdout += `per cell\n${table(t.header, t.body)}\n`;
  }
  await write(join(dir, PAIRED_FILE), pairedCsv(paired));
  const figure = aurocBySizeChart(
    `Test ${metric} by labeled genes: ${names.length > 3 ? `${names.length} cells` : names.join(', ')}`,
    `mean ± sd over ${seeds}${names.length > 1 ? ` and ${names.length} cells` : ''}`,
    figurePoints(rows, labels, allSizes),
    metric,
  );
  await write(join(dir, FIGURE_FILE), await renderSvg(figure));
  if (r.settings) await write(join(dir, SETTINGS_FILE), settingsText(r.settings));
  await write(join(dir, MD_FILE), `${lines.join('\n')}\n`);
  return { stdout: `${stdout}(test ${metric}, mean ± sd over ${seeds})\n`, files };
}
