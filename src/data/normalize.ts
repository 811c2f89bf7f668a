// Feature normalization, fitted on the training split only and stored as
// plain JSON so that prediction applies exactly the transform training saw.
//
// Every scheme is one affine map per mark after an optional log1p:
//   y = (f(x) - center[m]) / scale[m],   f = identity or log1p
//
//   raw           f = x,      center 0,          scale 1
//   log1p         f = log1p,  center 0,          scale 1
//   max           f = x,      center max/2,      scale max/2   → y = 2x/max − 1
//   log1p-max     f = log1p,  center max/2,      scale max/2   (max of log1p values)
//   zscore        f = x,      center mean,       scale sd      (population sd, ÷N)
//   log1p-zscore  f = log1p,  center mean,       scale sd
//
// "max" is SimpleChrome's [-1, 1] scaling: the training maximum of a mark maps
// to 1 and 0 maps to −1 (counts are never negative). Validation and test values
// above the training maximum land above 1; they are not clipped, so the
// transform stays the same affine map everywhere.
//
// Statistics use only genes with split code 0 (train) and only unmasked bins.
// A mark whose training maximum is 0 is scaled as if the maximum were 1, and a
// mark with sd 0 gets scale 1 (centering only): a constant mark must not turn
// later data into NaN or ±Inf. Masked bins stay exactly 0 after the transform.

import { DataError, MARKS, SPLIT_CODES, type Dataset } from './dataset.ts';

export const NORMALIZATION_SCHEMES = ['raw', 'log1p', 'max', 'log1p-max', 'zscore', 'log1p-zscore'] as const;
export type NormalizationScheme = (typeof NORMALIZATION_SCHEMES)[number];

/** The scheme --normalize defaults to, and the page uses. */
export const DEFAULT_NORMALIZATION: NormalizationScheme = 'log1p-max';

/** JSON-serializable; every per-mark array is in `marks` order. */
export interface NormalizationStats {
  readonly scheme: NormalizationScheme;
  readonly marks: readonly string[];
  /** Training genes and, per mark, the unmasked training values the statistics came from. */
  readonly trainGenes: number;
  readonly trainValues: readonly number[];
  /** Statistics of f(x) over those values, kept for the record. */
  readonly max: readonly number[];
  readonly mean: readonly number[];
  readonly sd: readonly number[];
  /** The transform actually applied: y = (f(x) − center) / scale. */
  readonly center: readonly number[];
  readonly scale: readonly number[];
}

function usesLog(scheme: NormalizationScheme): boolean {
  return scheme.startsWith('log1p');
}

/** Fits the scheme on the training genes of `ds` (split code 0, unmasked bins). */
export function fitNormalization(ds: Dataset, scheme: NormalizationScheme): NormalizationStats {
  if (!(NORMALIZATION_SCHEMES as readonly string[]).includes(scheme)) {
    throw new Error(`unknown normalization scheme "${scheme}" (known: ${NORMALIZATION_SCHEMES.join(', ')})`);
  }
  checkShapes(ds);
  const nm = ds.marks.length;
  const log = usesLog(scheme);
  const train = SPLIT_CODES.train;
  const count = new Float64Array(nm);
  const sum = new Float64Array(nm);
  const max = new Float64Array(nm).fill(-Infinity);
  let trainGenes = 0;

  const visit = (fn: (m: number, v: number) => void): void => {
    for (let g = 0; g < ds.genes; g++) {
      if (ds.split[g] !== train) continue;
      for (let b = 0; b < ds.bins; b++) {
        if (ds.binMask !== undefined && ds.binMask[g * ds.bins + b] === 0) continue;
        const base = (g * ds.bins + b) * nm;
        for (let m = 0; m < nm; m++) {
          const x = ds.features[base + m]!;
          fn(m, log ? Math.log1p(x) : x);
        }
      }
    }
  };

  for (let g = 0; g < ds.genes; g++) if (ds.split[g] === train) trainGenes++;
  if (trainGenes === 0) throw new Error(`normalization of ${ds.cell}: no training genes (split code 0) to fit on`);

  visit((m, v) => {
    count[m]++;
    sum[m] += v;
    if (v > max[m]!) max[m] = v;
  });
  const mean = new Float64Array(nm);
  for (let m = 0; m < nm; m++) {
    if (count[m] === 0) throw new Error(`normalization of ${ds.cell}: every training bin is masked`);
    mean[m] = sum[m]! / count[m]!;
  }
  // Second pass for the variance: sum of squares about the mean does not cancel.
  const ss = new Float64Array(nm);
  visit((m, v) => {
    const d = v - mean[m]!;
    ss[m] += d * d;
  });
  const sd = new Float64Array(nm);
  for (let m = 0; m < nm; m++) sd[m] = Math.sqrt(ss[m]! / count[m]!);

  const center: number[] = [];
  const scale: number[] = [];
  for (let m = 0; m < nm; m++) {
    const name = ds.marks[m]!;
    if (!Number.isFinite(mean[m]!) || !Number.isFinite(max[m]!) || !Number.isFinite(sd[m]!)) {
      throw new Error(`normalization of ${ds.cell}: training values of ${name} are not all finite${log ? ' after log1p (a value below −1?)' : ''}`);
    }
    if (scheme === 'raw' || scheme === 'log1p') {
      center.push(0);
      scale.push(1);
    } else if (scheme === 'max' || scheme === 'log1p-max') {
      const top = max[m]! > 0 ? max[m]! : 1;
      center.push(top / 2);
      scale.push(top / 2);
    } else {
      center.push(mean[m]!);
      scale.push(sd[m]! > 0 ? sd[m]! : 1);
    }
  }
  return {
    scheme,
    marks: [...ds.marks],
    trainGenes,
    trainValues: Array.from(count),
    max: Array.from(max),
    mean: Array.from(mean),
    sd: Array.from(sd),
    center,
    scale,
  };
}

/** A new Dataset with the transform applied to every gene (all splits); `ds` is not touched. */
export function applyNormalization(ds: Dataset, stats: NormalizationStats): Dataset {
  checkShapes(ds);
  const nm = ds.marks.length;
  if (stats.marks.length !== nm || stats.marks.some((m, i) => m !== ds.marks[i])) {
    throw new Error(
      `normalization was fitted on marks [${stats.marks.join(', ')}], dataset ${ds.cell} has [${ds.marks.join(', ')}]`,
    );
  }
  const log = usesLog(stats.scheme);
  const features = new Float32Array(ds.features.length);
  for (let g = 0; g < ds.genes; g++) {
    for (let b = 0; b < ds.bins; b++) {
      if (ds.binMask !== undefined && ds.binMask[g * ds.bins + b] === 0) continue;
      const base = (g * ds.bins + b) * nm;
      for (let m = 0; m < nm; m++) {
        const x = ds.features[base + m]!;
        const y = ((log ? Math.log1p(x) : x) - stats.center[m]!) / stats.scale[m]!;
        if (!Number.isFinite(y)) {
          throw new Error(
            `normalization (${stats.scheme}) of ${ds.cell}: gene ${ds.geneIds[g]} bin ${b + 1} ${ds.marks[m]} = ${x} gives ${y}`,
          );
        }
        features[base + m] = y;
      }
    }
  }
  return { ...ds, features };
}

/** Pretty JSON of the statistics, for a model directory. */
export function normalizationToJson(stats: NormalizationStats): string {
  return `${JSON.stringify(stats, null, 2)}\n`;
}

/** Parses and checks statistics written by normalizationToJson; `file` names the source in errors. */
export function parseNormalization(text: string, file: string): NormalizationStats {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, undefined, `not JSON: ${(e as Error).message}`);
  }
  const fail = (what: string): never => {
    throw new DataError(file, undefined, `normalization statistics: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('expected a JSON object');
  const o = raw as Record<string, unknown>;
  const scheme = o['scheme'];
  if (typeof scheme !== 'string' || !(NORMALIZATION_SCHEMES as readonly string[]).includes(scheme)) {
    return fail(`scheme is ${JSON.stringify(scheme)}, expected one of ${NORMALIZATION_SCHEMES.join(', ')}`);
  }
  const marks = o['marks'];
  if (!Array.isArray(marks) || marks.length === 0 || marks.some((m) => typeof m !== 'string' || m === '') || new Set(marks).size !== marks.length) {
    return fail(`marks is ${JSON.stringify(marks)}, expected a list of distinct mark names (e.g. ${MARKS.join(', ')})`);
  }
  const numbers = (key: string, check: (v: number) => boolean, what: string): number[] => {
    const a = o[key];
    if (!Array.isArray(a) || a.length !== marks.length) return fail(`${key} must be a list of ${marks.length} numbers`);
    for (const v of a) {
      if (typeof v !== 'number' || !check(v)) return fail(`${key} has ${JSON.stringify(v)}, expected ${what}`);
    }
    return a as number[];
  };
  const finite = (v: number): boolean => Number.isFinite(v);
  const trainGenes = o['trainGenes'];
  if (typeof trainGenes !== 'number' || !Number.isInteger(trainGenes) || trainGenes < 1) {
    return fail(`trainGenes is ${JSON.stringify(trainGenes)}, expected a positive integer`);
  }
  return {
    scheme: scheme as NormalizationScheme,
    marks: marks as string[],
    trainGenes,
    trainValues: numbers('trainValues', (v) => Number.isInteger(v) && v > 0, 'a positive integer'),
    max: numbers('max', finite, 'a finite number'),
    mean: numbers('mean', finite, 'a finite number'),
    sd: numbers('sd', (v) => finite(v) && v >= 0, 'a finite number ≥ 0'),
    center: numbers('center', finite, 'a finite number'),
    scale: numbers('scale', (v) => finite(v) && v > 0, 'a finite number > 0'),
  };
}

function checkShapes(ds: Dataset): void {
  const nm = ds.marks.length;
  if (ds.features.length !== ds.genes * ds.bins * nm) {
    throw new Error(`dataset ${ds.cell}: features has ${ds.features.length} values, expected genes×bins×marks = ${ds.genes}×${ds.bins}×${nm}`);
  }
  if (ds.split.length !== ds.genes) throw new Error(`dataset ${ds.cell}: split has ${ds.split.length} entries, expected ${ds.genes} genes`);
  if (ds.binMask !== undefined && ds.binMask.length !== ds.genes * ds.bins) {
    throw new Error(`dataset ${ds.cell}: binMask has ${ds.binMask.length} entries, expected genes×bins = ${ds.genes}×${ds.bins}`);
  }
}
