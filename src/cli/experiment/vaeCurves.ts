import type { ChartSpec } from '../../plots/render.ts';
import type { VaeEpochRecord } from '../../train/trainVae.ts';
import { markdownTable } from './experimentReport.ts';

// The experiment trains one VAE per cell and seed; whether it was trained long
// enough is part of the result. Its loss curve is kept beside the tables
// (vae-curves.csv, vae-curves.svg), and the tables say, per VAE, how much the
// reconstruction still fell over its last epochs: a VAE whose reconstruction
// is still falling was stopped too early for its latents to be judged.

export const VAE_CURVES_HEADER = 'cell,seed,epoch,loss,reconstruction,kl';

/** Epochs compared at the end of a curve: the last WINDOW against the WINDOW before them. */
export const FLAT_WINDOW = 5;
/** A relative fall of the mean reconstruction loss below this over the last window counts as flat. */
export const FLAT_TOLERANCE = 0.01;

export interface VaeCurveRow {
  readonly cell: string;
  readonly seed: number;
  readonly epoch: number;
  readonly loss: number;
  readonly reconstruction: number;
  readonly kl: number;
}

export function vaeCurveRows(cell: string, seed: number, history: readonly VaeEpochRecord[]): VaeCurveRow[] {
  return history.map((r) => ({ cell, seed, epoch: r.epoch, loss: r.loss, reconstruction: r.reconstruction, kl: r.kl }));
}

export function vaeCurvesCsv(rows: readonly VaeCurveRow[]): string {
  const line = (r: VaeCurveRow): string => [r.cell, r.seed, r.epoch, r.loss.toPrecision(7), r.reconstruction.toPrecision(7), r.kl.toPrecision(7)].join(',');
  return `${[VAE_CURVES_HEADER, ...rows.map(line)].join('\n')}\n`;
}

/** Rows of a vae-curves.csv this module wrote; `file` names it in errors. */
export function parseVaeCurves(text: string, file: string): VaeCurveRow[] {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== VAE_CURVES_HEADER) throw new Error(`${file}: expected the header ${VAE_CURVES_HEADER}, found ${JSON.stringify(lines[0] ?? '')}`);
  return lines.slice(1).map((l, i) => {
    const f = l.split(',');
    const n = f.slice(1).map(Number);
    if (f.length !== 6 || n.some((x) => !Number.isFinite(x))) throw new Error(`${file}:${i + 2}: not a VAE curve row: ${JSON.stringify(l)}`);
    const [seed, epoch, loss, reconstruction, kl] = n as [number, number, number, number, number];
    return { cell: f[0] as string, seed, epoch, loss, reconstruction, kl };
  });
}

/** `rows` with the curve of (cell, seed) replaced by `curve` (a VAE trained again after a resume replaces its old curve). */
export function withCurve(rows: readonly VaeCurveRow[], curve: readonly VaeCurveRow[]): VaeCurveRow[] {
  const first = curve[0];
  if (!first) return [...rows];
  return [...rows.filter((r) => r.cell !== first.cell || r.seed !== first.seed), ...curve];
}

/** Relative fall of the mean reconstruction loss from the WINDOW epochs before the last WINDOW to the last WINDOW;
 * undefined for a curve shorter than two windows. */
export function reconstructionFall(curve: readonly VaeCurveRow[]): number | undefined {
  if (curve.length < 2 * FLAT_WINDOW) return undefined;
  const mean = (rs: readonly VaeCurveRow[]) => rs.reduce((s, r) => s + r.reconstruction, 0) / rs.length;
  const last = mean(curve.slice(-FLAT_WINDOW));
  const before = mean(curve.slice(-2 * FLAT_WINDOW, -FLAT_WINDOW));
  return (before - last) / before;
}

function curves(rows: readonly VaeCurveRow[]): VaeCurveRow[][] {
  const by = new Map<string, VaeCurveRow[]>();
  for (const r of rows) {
    const key = `${r.cell}\u0000${r.seed}`;
    let c = by.get(key);
    if (!c) by.set(key, (c = []));
    c.push(r);
  }
  return [...by.values()].map((c) => [...c].sort((a, b) => a.epoch - b.epoch));
}

/** The markdown table: per cell and seed, epochs trained, final losses, the reconstruction's fall over the last epochs. */
export function vaeCurvesMarkdown(rows: readonly VaeCurveRow[]): string[] {
  const body = curves(rows).map((c) => {
    const end = c[c.length - 1] as VaeCurveRow;
    const fall = reconstructionFall(c);
    const verdict = fall === undefined ? `too short to judge (< ${2 * FLAT_WINDOW} epochs)` : fall < FLAT_TOLERANCE ? 'flat' : 'still falling';
    return [end.cell, String(end.seed), String(c.length), end.reconstruction.toFixed(5), end.kl.toFixed(2), fall === undefined ? '–' : `${(100 * fall).toFixed(2)}%`, verdict];
  });
  if (body.length === 0) return [];
  return markdownTable(['cell', 'seed', 'VAE epochs', 'final reconstruction (MSE)', 'final KL', `fall over last ${FLAT_WINDOW} epochs`, `verdict (flat: < ${100 * FLAT_TOLERANCE}%)`], body);
}

/** Reconstruction loss per epoch, one line per cell and seed. */
export function vaeCurvesChart(rows: readonly VaeCurveRow[]): ChartSpec {
  const values = rows.map((r) => ({ epoch: r.epoch, reconstruction: r.reconstruction, vae: `${r.cell} seed ${r.seed}` }));
  return {
    title: { text: 'VAE reconstruction loss per epoch', subtitle: 'one line per cell and seed; trained on the unlabeled train and valid genes' },
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'reconstruction', type: 'quantitative', title: 'reconstruction (MSE)', scale: { type: 'log' } },
      color: { field: 'vae', type: 'nominal', title: null, sort: null },
    },
  } as ChartSpec;
}
