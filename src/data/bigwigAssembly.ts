// Whether tracks that list a chromosome with different lengths are of one
// genome assembly. A bigWig's chromosome size is what its writer was given:
// the assembly's length (ENCODE, Roadmap), or, for a binned track, the end of
// its last bin, which may hang over the true end by part of a bin or stop
// short of it where the data stops (the E116 tracks end chr22 at 51,240,000,
// 64,566 bp before hg19's 51,304,566). A file whose last interval ends
// exactly at its chromosome's size is such a track: its size says only that
// the chromosome reaches into its last bin. Files whose data stops before
// their chromosome's end give the assembly's length, and those must agree.

export interface ChromosomeEnd {
  readonly path: string;
  readonly mark: string;
  readonly length: number;
  /** The file's last interval on the chromosome, when it ends at `length` (a binned track's last bin). */
  readonly lastBin?: { readonly start: number; readonly end: number };
}

export type LengthVerdict =
  | { readonly length: number; readonly note?: string }
  | { readonly conflict: string; readonly path: string };

const bp = (n: number): string => `${n.toLocaleString('en-US')} bp`;
const named = (e: ChromosomeEnd): string => `${e.path} (${e.mark})`;

/** The length of `chrom` that the tracks agree on, or what makes them of different assemblies. */
export function agreeOnLength(chrom: string, ends: readonly ChromosomeEnd[]): LengthVerdict {
  const first = ends[0];
  if (first === undefined) throw new RangeError(`agreeOnLength: no track lists ${chrom}`);
  if (ends.every((e) => e.length === first.length)) return { length: first.length };
  const exact = ends.filter((e) => e.lastBin === undefined);
  const binned = ends.filter((e) => e.lastBin !== undefined);
  const e0 = exact[0];
  if (e0 !== undefined) {
    const other = exact.find((e) => e.length !== e0.length);
    if (other !== undefined) {
      return {
        path: other.path,
        conflict: `${chrom} is ${bp(other.length)} in ${named(other)} but ${bp(e0.length)} in ${named(e0)}, and neither file's data reaches its end (so neither is a binned track ending at its last bin)`,
      };
    }
    for (const b of binned) {
      const last = b.lastBin as { start: number; end: number };
      if (last.start >= e0.length) {
        return {
          path: b.path,
          conflict:
            `${chrom} is ${bp(b.length)} in ${named(b)}, whose last bin ${last.start}-${last.end} starts past the end of ${chrom} in ${named(e0)} (${bp(e0.length)}); ` +
            'a binned track may end at most one partial bin past the true end',
        };
      }
    }
    const short = binned.filter((b) => b.length < e0.length);
    return {
      length: e0.length,
      ...(short.length > 0
        ? {
            note:
              `${chrom} is ${bp(e0.length)} in ${named(e0)}; ${short.map((b) => `${named(b)} ends at ${bp(b.length)}`).join(', ')}, where its data ends: ` +
              'taken as one assembly (a binned track ends at its last bin)',
          }
        : {}),
    };
  }
  // Only binned tracks: each length is where that file's data ends, so the longest is the best bound.
  const longest = binned.reduce((a, b) => (b.length > a.length ? b : a));
  return {
    length: longest.length,
    note: `${chrom} ends at ${ends.map((e) => `${bp(e.length)} in ${named(e)}`).join(', ')}, each where its data ends: read up to ${bp(longest.length)}`,
  };
}
