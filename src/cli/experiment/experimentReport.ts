import { DEEPCHROME_PUBLISHED_AUROC } from '../../data/publishedAuroc.ts';
import { baselineModels, usesNeighbors } from '../../models/registry.ts';
import { NEIGHBOR_KINDS } from '../../train/runFlags.ts';
import type { SizePoint } from '../../plots/experimentChart.ts';
import { type PairedRow, pairedTable } from '../../stats/paired.ts';
import type { Target } from '../../train/target.ts';

// The experiment's tables, from its finished runs: the CSV of every run, the
// summary (mean ± sd of test AUROC per model and size), the paired
// differences against the baselines, the per-cell table beside DeepChrome's
// published AUROC, and the points of the figure. With --target expression the
// same tables hold Pearson (and Spearman where AUPR stood): see METRICS.

/** The models every other model is compared with, seed by seed: each definition that declares itself a baseline
 * (src/models/definition.ts `baseline`), and a neighbour baseline also under each arm's label, so a functional
 * neighbour arm meets its own kind. */
export const BASELINES: readonly string[] = baselineModels().flatMap((m) => (usesNeighbors(m) ? [m, ...NEIGHBOR_KINDS.map((k) => `${m}:${k}`)] : [m]));

/** The baselines that see only the gene's own window of marks, as vae-mlp does: SimpleChrome's claim is measured
 * against the best of these; the others see other cells' expression through the table or their neighbours. */
export const WINDOW_BASELINES: readonly string[] = baselineModels('window');

/** What the experiment's score columns hold for each target. */
export const METRICS: Readonly<Record<Target, { readonly main: string; readonly second: string }>> = {
  class: { main: 'AUROC', second: 'AUPR' },
  expression: { main: 'Pearson', second: 'Spearman' },
};

/** One run's row. For --target expression, validAuroc/testAuroc hold Pearson's r and validAupr/testAupr
 * Spearman's ρ (the CSV header says so): the tables and paired statistics read them the same way. */
export interface ExperimentRow {
  readonly cell: string;
  readonly model: string;
  readonly size: number | 'all';
  readonly seed: number;
  readonly labeled: number;
  readonly validAuroc: number;
  readonly validAupr: number;
  readonly testAuroc: number;
  readonly testAupr: number;
  readonly bestEpoch: number;
  readonly epochs: number;
  readonly seconds: number;
}

export const CSV_HEADER = 'cell,model,size,seed,labeled_genes,valid_auroc,valid_aupr,test_auroc,test_aupr,best_epoch,epochs,seconds';
/** The classification header is unchanged, so experiments written before --target still resume. */
export const EXPRESSION_CSV_HEADER = 'cell,model,size,seed,labeled_genes,valid_pearson,valid_spearman,test_pearson,test_spearman,best_epoch,epochs,seconds';
export const csvHeaderFor = (target: Target): string => (target === 'class' ? CSV_HEADER : EXPRESSION_CSV_HEADER);

export function csvLine(r: ExperimentRow): string {
  const f4 = (x: number) => x.toFixed(4);
  return [r.cell, r.model, r.size, r.seed, r.labeled, f4(r.validAuroc), f4(r.validAupr), f4(r.testAuroc), f4(r.testAupr), r.bestEpoch, r.epochs, r.seconds.toFixed(1)].join(',');
}

/** A line of the CSV back into a row; `where` names it in errors. */
export function parseCsvLine(line: string, where: string): ExperimentRow {
  const c = line.split(',');
  if (c.length !== CSV_HEADER.split(',').length) throw new Error(`${where} has ${c.length} columns: ${line}`);
  const num = (j: number): number => {
    const n = Number(c[j]);
    if (c[j] === '' || !Number.isFinite(n)) throw new Error(`${where} column ${j + 1} is not a number: ${line}`);
    return n;
  };
  // A constant prediction has no correlation: its Pearson and Spearman are written as NaN.
  const score = (j: number): number => (c[j] === 'NaN' ? Number.NaN : num(j));
  return {
    cell: c[0] as string,
    model: c[1] as string,
    size: c[2] === 'all' ? 'all' : num(2),
    seed: num(3),
    labeled: num(4),
    validAuroc: score(5),
    validAupr: score(6),
    testAuroc: score(7),
    testAupr: score(8),
    bestEpoch: num(9),
    epochs: num(10),
    seconds: num(11),
  };
}

export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');
const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)}` : '–');
const sizeLabel = (s: number | 'all', trainGenes?: number): string => (s === 'all' ? (trainGenes === undefined ? 'all' : `all (${trainGenes})`) : `${s}`);
const markdown = (header: readonly string[], rows: readonly (readonly string[])[]): string[] => [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

/** Test AUROC, mean ± sd over seeds, one row per model and one column per size, for one cell. */
export function summaryTable(rows: readonly ExperimentRow[], cell: string, models: readonly string[], sizes: readonly (number | 'all')[], trainGenes: number): { header: string[]; body: string[][] } {
  const header = ['model', ...sizes.map((s) => sizeLabel(s, trainGenes))];
  const body = models.map((m) => [
    m,
    ...sizes.map((s) => {
      const xs = rows.filter((r) => r.cell === cell && r.model === m && r.size === s).map((r) => r.testAuroc);
      if (xs.length === 0) return '–';
      const { mean, sd } = meanSd(xs);
      return `${mean.toFixed(3)} ± ${sd.toFixed(3)}`;
    }),
  ]);
  return { header, body };
}

/** Where each model's best epoch fell: its median over seeds, of how many epochs, and in how many runs it was the
 * last one (a classifier whose best epoch is its last may have stopped too soon). A model fit to convergence
 * (`converged(label)`) has no epochs: its columns count solver iterations instead, and "last" does not apply. */
export function bestEpochTable(
  rows: readonly ExperimentRow[],
  cell: string,
  models: readonly string[],
  sizes: readonly (number | 'all')[],
  trainGenes: number,
  converged: (label: string) => boolean,
): { header: string[]; body: string[][] } {
  const header = ['model', ...sizes.map((s) => sizeLabel(s, trainGenes))];
  const median = (xs: readonly number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    const m = Math.floor(v.length / 2);
    return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
  };
  const body = models.map((m) => [
    converged(m) ? `${m} (L-BFGS iterations)` : m,
    ...sizes.map((s) => {
      const rs = rows.filter((r) => r.cell === cell && r.model === m && r.size === s);
      if (rs.length === 0) return '–';
      const best = median(rs.map((r) => r.bestEpoch));
      const of = median(rs.map((r) => r.epochs));
      if (converged(m)) return `${best}`;
      return `${best} of ${of}; last in ${rs.filter((r) => r.bestEpoch === r.epochs).length}/${rs.length}`;
    }),
  ]);
  return { header, body };
}

/** At each size, the baseline with the highest mean test score among `among` (that ran), and that mean. */
export function bestBaselines(
  rows: readonly ExperimentRow[],
  cell: string,
  sizes: readonly (number | 'all')[],
  among: readonly string[],
): { size: number | 'all'; baseline: string; mean: number }[] {
  return sizes.flatMap((size) => {
    const means = among
      .map((b) => ({ baseline: b, xs: rows.filter((r) => r.cell === cell && r.model === b && r.size === size).map((r) => r.testAuroc) }))
      .filter((x) => x.xs.length > 0)
      .map((x) => ({ size, baseline: x.baseline, mean: meanSd(x.xs).mean }))
      .sort((a, b) => b.mean - a.mean);
    return means.length > 0 ? [means[0] as { size: number | 'all'; baseline: string; mean: number }] : [];
  });
}

export function pairedRows(rows: readonly ExperimentRow[], cells: readonly string[], models: readonly string[], sizes: readonly (number | 'all')[]): PairedRow[] {
  return pairedTable(rows, cells, sizes, models, BASELINES);
}

export const PAIRED_CSV_HEADER = 'cell,size,model,baseline,seeds,mean_difference,sd,ci95_low,ci95_high,wins';

export function pairedCsv(paired: readonly PairedRow[]): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '');
  return [PAIRED_CSV_HEADER, ...paired.map((p) => [p.cell, p.size, p.model, p.baseline, p.n, f(p.mean), f(p.sd), f(p.low), f(p.high), p.wins].join(','))].join('\n') + '\n';
}

export function pairedMarkdown(paired: readonly PairedRow[], cell: string): string[] {
  const mine = paired.filter((p) => p.cell === cell);
  if (mine.length === 0) return [];
  return markdown(
    ['size', 'model', 'baseline', 'mean difference', 'sd', '95% interval', 'wins'],
    mine.map((p) => [sizeLabel(p.size), p.model, p.baseline, signed(p.mean), f3(p.sd), Number.isFinite(p.low) ? `[${signed(p.low)}, ${signed(p.high)}]` : '–', `${p.wins}/${p.n}`]),
  );
}

/** Per cell: DeepChrome's published test AUROC (unless `published` is false: a regression run has no such anchor)
 * beside each model's mean test score at the largest size that ran. */
export function perCellTable(
  rows: readonly ExperimentRow[],
  cells: readonly string[],
  models: readonly string[],
  sizes: readonly (number | 'all')[],
  published = true,
): { header: string[]; body: string[][] } {
  const largest = (cell: string): number | 'all' | undefined => {
    const ran = sizes.filter((s) => rows.some((r) => r.cell === cell && r.size === s));
    return ran.includes('all') ? 'all' : (ran as number[]).sort((a, b) => b - a)[0];
  };
  const header = ['cell', 'size', ...(published ? ['DeepChrome (published)'] : []), ...models];
  const body = cells.map((cell) => {
    const size = largest(cell);
    const anchor = DEEPCHROME_PUBLISHED_AUROC[cell];
    return [
      cell,
      size === undefined ? '–' : sizeLabel(size),
      ...(published ? [anchor === undefined ? '–' : anchor.toFixed(2)] : []),
      ...models.map((m) => {
        const xs = rows.filter((r) => r.cell === cell && r.model === m && r.size === size).map((r) => r.testAuroc);
        return xs.length === 0 ? '–' : meanSd(xs).mean.toFixed(3);
      }),
    ];
  });
  return { header, body };
}

export function perCellCsv(table: { header: string[]; body: string[][] }): string {
  return [table.header.join(','), ...table.body.map((r) => r.map((c) => (c === '–' ? '' : c.replace(/ \(\d+\)$/, ''))).join(','))].join('\n') + '\n';
}

/** The figure's points: each model's mean ± sd test AUROC at each size, over every run (all cells, all seeds). */
export function figurePoints(rows: readonly ExperimentRow[], models: readonly string[], sizes: readonly (number | 'all')[]): SizePoint[] {
  const points: SizePoint[] = [];
  for (const model of models) {
    for (const size of sizes) {
      const runs = rows.filter((r) => r.model === model && r.size === size);
      if (runs.length === 0) continue;
      const { mean, sd } = meanSd(runs.map((r) => r.testAuroc));
      points.push({ model, labeled: meanSd(runs.map((r) => r.labeled)).mean, mean, sd, runs: runs.length });
    }
  }
  return points;
}

export { markdown as markdownTable };
