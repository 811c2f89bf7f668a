// A flag mistyped by a slip of the keyboard (--epoch, --trian-size, -seed) is refused naming the flag the
// user most likely meant, so nobody has to search --help for it. Every parser of the command line (training,
// predict and encode, the grid's commands, build-dataset) words its refusal with this one helper.

/** Edit distance where inserting, deleting or changing a character, or swapping two neighbours, costs 1
 * (optimal string alignment), so `--trian-size` is one slip from `--train-size`. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The flag's name without its dashes or an `=value`, in lower case: `-Epochs=3` and `--epochs` are one slip apart at most. */
const nameOf = (arg: string): string => arg.replace(/^-+/, '').replace(/=.*$/, '').toLowerCase();

/** How far a name may be from a known one and still be taken for a slip: none for one- or two-letter names
 * (`--k` is not `-h`), one slip up to four letters, two beyond (`--sise` for `--sizes`). */
const slack = (name: string): number => (name.length <= 2 ? 0 : name.length <= 4 ? 1 : 2);

/** The known flags nearest to `given` within a slip (all of them on a tie), best first. */
export function nearestFlags(given: string, known: readonly string[]): string[] {
  const name = nameOf(given);
  let best = Infinity;
  let found: string[] = [];
  for (const flag of new Set(known)) {
    const distance = editDistance(name, nameOf(flag));
    if (distance > slack(nameOf(flag)) || distance > best) continue;
    if (distance < best) [best, found] = [distance, []];
    found.push(flag);
  }
  return found;
}

/** A refusal's parenthesis, with a leading space: ` (did you mean --epochs? see --help)` when a known flag is
 * near `given`, else ` (see --help)`; '' when there is neither a near flag nor `rest`. */
export function didYouMean(given: string, known: readonly string[], rest = ''): string {
  const near = nearestFlags(given, known);
  const parts = [...(near.length > 0 ? [`did you mean ${near.join(' or ')}?`] : []), ...(rest !== '' ? [rest] : [])];
  return parts.length === 0 ? '' : ` (${parts.join(' ')})`;
}

/** `flag` as one of `flags`, else undefined. A parser switches on this, so every case it handles must be in the
 * list that its near misses are matched against: a case left out of the list does not compile. */
export function listedFlag<T extends string>(flags: readonly T[], flag: string): T | undefined {
  return (flags as readonly string[]).includes(flag) ? (flag as T) : undefined;
}
