// What a mark's value in one bin may be, for every layout (the CSV readers
// through LineCursor.count(), bigWig tracks through bigwig.ts), so that one
// file is accepted or refused by the same rule whatever its format.
//
// A value is a read count or a signal made from reads (coverage, fold change,
// -log10 p). It must be a finite number, not negative, and at most
// MAX_MARK_VALUE. The limit is far above any real bin (E003's 100 bp bins
// reach a few hundred reads, GC-MERGE's 10 kb bins a few thousand; no
// sequencing run yields 10^9 reads in all, let alone in one bin) and far below
// the placeholders tools write for "missing" (1e30, 3.4e38). One such value
// is not a measurement: under --normalize max it would squash every other
// value of its mark towards 0 (a 1e30 in E003 took test AUROC from 0.669 to
// 0.559). So it is refused at its file:line, not warned about and kept: a
// run that goes on with it gives wrong results, one that goes on without it
// (dropping or clipping the value) silently changes the user's data.

/** The largest value a mark may hold in one bin. */
export const MAX_MARK_VALUE = 1e9;

/** Why `v` cannot be a mark's value in a bin, or undefined when it can. `shown` is the value as the file wrote it. */
export function markValueProblem(v: number, shown: string): string | undefined {
  if (Number.isNaN(v) || !Number.isFinite(v)) return `${shown} is not a finite number`;
  if (v < 0) return `negative count ${shown}`;
  if (v > MAX_MARK_VALUE) {
    return (
      `count ${shown} is above ${MAX_MARK_VALUE.toExponential()}, the most a bin can hold (no sequencing run yields that many reads): ` +
      'it is damage or a placeholder for a missing value; correct or remove it'
    );
  }
  return undefined;
}
