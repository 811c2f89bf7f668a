// Paired comparison of two models over the same seeds: at a given seed both
// saw the same labeled genes, so the per-seed difference removes the luck of
// the draw that the two share. Reported as a reviewer asks: the mean
// difference, its sd, a 95% t-interval, and how many seeds the model won.

/** Two-sided 95% quantiles of Student's t, t(0.975; df), df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975; df): the table to 30 degrees of freedom, then the Cornish-Fisher expansion around the normal's 1.96 (error < 1e-3). */
export function t975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`t quantile: degrees of freedom must be a positive integer, got ${df}`);
  const tabled = T975[df - 1];
  if (tabled !== undefined) return tabled;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

export interface PairedDifference {
  /** Seeds both models finished. */
  readonly n: number;
  /** Mean of model − baseline. */
  readonly mean: number;
  /** Sample sd of the differences (n − 1); NaN for one seed. */
  readonly sd: number;
  /** 95% t-interval of the mean difference; NaN for one seed. */
  readonly low: number;
  readonly high: number;
  /** Seeds where the model scored strictly higher than the baseline. */
  readonly wins: number;
}

/** The paired difference of `model` against `baseline`, over the seeds both have (keys of the maps). */
export function pairedDifference(model: ReadonlyMap<number, number>, baseline: ReadonlyMap<number, number>): PairedDifference | undefined {
  const d: number[] = [];
  for (const [seed, a] of model) {
    const b = baseline.get(seed);
    if (b !== undefined) d.push(a - b);
  }
  const n = d.length;
  if (n === 0) return undefined;
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : Number.NaN;
  const half = n > 1 ? t975(n - 1) * (sd / Math.sqrt(n)) : Number.NaN;
  return { n, mean, sd, low: mean - half, high: mean + half, wins: d.filter((x) => x > 0).length };
}

/** One finished run, as far as the comparison needs it. */
export interface ScoredRun {
  readonly cell: string;
  readonly model: string;
  readonly size: number | 'all';
  readonly seed: number;
  readonly testAuroc: number;
}

export interface PairedRow extends PairedDifference {
  readonly cell: string;
  readonly size: number | 'all';
  readonly model: string;
  readonly baseline: string;
}

/** Every model against every baseline that ran, per cell and size, in the order given. */
export function pairedTable(
  runs: readonly ScoredRun[],
  cells: readonly string[],
  sizes: readonly (number | 'all')[],
  models: readonly string[],
  baselines: readonly string[],
): PairedRow[] {
  const scores = (cell: string, size: number | 'all', model: string) =>
    new Map(runs.filter((r) => r.cell === cell && r.size === size && r.model === model).map((r) => [r.seed, r.testAuroc]));
  const rows: PairedRow[] = [];
  for (const cell of cells) {
    for (const size of sizes) {
      for (const baseline of baselines.filter((b) => models.includes(b))) {
        for (const model of models.filter((m) => m !== baseline)) {
          const p = pairedDifference(scores(cell, size, model), scores(cell, size, baseline));
          if (p) rows.push({ cell, size, model, baseline, ...p });
        }
      }
    }
  }
  return rows;
}
