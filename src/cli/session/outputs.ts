import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../../util/atomicFile.ts';

// What a run leaves behind for plotting and reloading: metrics.json (the
// whole record) and predictions.csv (one row per test gene). Both are written
// to a temporary name, flushed and renamed, so a crash never leaves half a file.

/** `predictions` is predictions.csv's text (predictionsCsv.ts). */
export async function writeRunFiles(out: string, metrics: unknown, predictions: string): Promise<void> {
  await mkdir(out, { recursive: true });
  await writeFileAtomically(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  await writeFileAtomically(join(out, 'predictions.csv'), predictions);
}

/** A plain-text table with aligned columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

