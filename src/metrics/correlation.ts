// Correlation of a regression head's predictions with the observed values,
// as SciPy's pearsonr and spearmanr define them. A side with no spread (a
// constant prediction, or every observed value equal) has no correlation:
// the result is NaN, never 0 or ±1, so a model that learned one number cannot
// pass for one that ranks genes. Callers that choose a best epoch treat NaN
// as worse than any number.

function checkPair(what: string, x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw new Error(`${what}: ${x.length} observed values but ${y.length} predictions`);
  if (x.length < 2) throw new Error(`${what}: needs at least 2 genes, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i] as number) || !Number.isFinite(y[i] as number)) {
      throw new Error(`${what}: value ${i} is not finite (observed ${x[i]}, predicted ${y[i]})`);
    }
  }
}

/** Pearson's r in float64, from centred sums (two passes, so large means do not cost digits). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair('pearson', x, y);
  return centredCorrelation(x, y);
}

function constant(v: ArrayLike<number>): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}

function centredCorrelation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  // Tested on the values, not on Σdx² = 0: the mean of equal values can round off them.
  if (constant(x) || constant(y)) return Number.NaN;
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  // Rounding can push |r| a hair past 1 for perfectly linear data.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks, tied values sharing the mean of the ranks they span. */
export function averageRanks(v: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => (v[a] as number) - (v[b] as number));
  const ranks = new Float64Array(v.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1] as number] === v[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's ρ: Pearson's r of the average ranks (ties handled, unlike the 1 − 6Σd²/… shortcut). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair('spearman', x, y);
  return centredCorrelation(averageRanks(x), averageRanks(y));
}

/** Mean of (predicted - observed)². */
export function meanSquaredError(observed: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (observed.length !== predicted.length) throw new Error(`mse: ${observed.length} observed values but ${predicted.length} predictions`);
  let s = 0;
  for (let i = 0; i < observed.length; i++) s += ((predicted[i] as number) - (observed[i] as number)) ** 2;
  return s / observed.length;
}
