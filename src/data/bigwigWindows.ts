// Where each gene's bins lie on its chromosome, and the summary of a track's
// intervals over each bin. Kept apart from file reading so that the geometry
// and the arithmetic can be checked on their own.
//
// Anchors: `grid` tiles the chromosome into bins from position 0 and takes the
// bin holding the TSS plus `flank` bins on each side (2·flank+1 bins, as
// GC-MERGE does); `tss` takes `flank` bins upstream of the TSS and `flank`
// downstream of it (2·flank bins, TSS ± flank·bin as DeepChrome does). A bin
// that lies wholly off its chromosome is masked (so is one without data in any
// track, which the reader decides); one that hangs over the end is summarised
// over its part on the chromosome.

import type { Strand } from './tssTable.ts';

export type Anchor = 'grid' | 'tss';
/** mean0: Σ value×bases / bin bases (uncovered bases count 0, bigWigAverageOverBed's mean0);
 * mean: Σ value×bases / covered bases (its mean; 0 when nothing is covered); sum: Σ value×bases. */
export type BinSummary = 'mean0' | 'mean' | 'sum';
export const BIN_SUMMARIES: readonly BinSummary[] = ['mean0', 'mean', 'sum'];
export const ANCHORS: readonly Anchor[] = ['grid', 'tss'];

export interface WindowShape {
  readonly bin: number;
  readonly flank: number;
  readonly anchor: Anchor;
}

export function binsPerWindow(shape: WindowShape): number {
  return shape.anchor === 'grid' ? 2 * shape.flank + 1 : 2 * shape.flank;
}

/** Genome start of a gene's first bin (in genome order). Minus-strand `tss` windows mirror around the TSS base. */
export function windowStart(shape: WindowShape, tss: number, strand: Strand): number {
  const { bin, flank } = shape;
  if (shape.anchor === 'grid') return (Math.floor(tss / bin) - flank) * bin;
  return strand === '-' ? tss + 1 - flank * bin : tss - flank * bin;
}

export interface Intervals {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly values: Float32Array;
}

/**
 * Summarises `iv` (sorted, non-overlapping) over `n` bins of `bin` bases
 * from `start`, clipped to [0, chromLength): bin k's summary lands in
 * sums[k]; `covered` is scratch (bases with data per bin). Bins wholly off
 * the chromosome come out 0 (the caller masks them).
 */
export function summariseBins(
  iv: Intervals,
  start: number,
  n: number,
  bin: number,
  chromLength: number,
  summary: BinSummary,
  sums: Float64Array,
  covered: Float64Array,
): void {
  sums.fill(0, 0, n);
  covered.fill(0, 0, n);
  const lo = Math.max(start, 0);
  const hi = Math.min(start + n * bin, chromLength);
  if (hi <= lo) return;
  const { starts, ends, values } = iv;
  // First interval ending after lo.
  let a = 0;
  let b = ends.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((ends[mid] as number) <= lo) a = mid + 1;
    else b = mid;
  }
  for (let i = a; i < starts.length; i++) {
    const s = Math.max(starts[i] as number, lo);
    if (s >= hi) break;
    const e = Math.min(ends[i] as number, hi);
    if (e <= s) continue;
    const v = values[i] as number;
    let k = Math.floor((s - start) / bin);
    let p = s;
    while (p < e) {
      const binEnd = Math.min(start + (k + 1) * bin, e);
      const w = binEnd - p;
      sums[k] = (sums[k] as number) + v * w;
      covered[k] = (covered[k] as number) + w;
      p = binEnd;
      k++;
    }
  }
  if (summary === 'sum') return;
  for (let k = 0; k < n; k++) {
    const bs = Math.max(start + k * bin, 0);
    const be = Math.min(start + (k + 1) * bin, chromLength);
    const width = be - bs;
    if (width <= 0) continue;
    const c = covered[k] as number;
    sums[k] = summary === 'mean0' ? (sums[k] as number) / width : c > 0 ? (sums[k] as number) / c : 0;
  }
}

/** True when bin k of a window from `start` lies wholly off [0, chromLength). */
export function binOffChromosome(start: number, k: number, bin: number, chromLength: number): boolean {
  const bs = start + k * bin;
  return bs + bin <= 0 || bs >= chromLength;
}
