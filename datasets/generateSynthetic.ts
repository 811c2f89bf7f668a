// SYNTHETIC histone-mark data in the DeepChrome layout, for the demo (when no
// real data is around) and for the parse benchmark. Never for results: the
// numbers below are a caricature of promoter chromatin, not measurements.
//
//   npx tsx datasets/generateSynthetic.ts --out DIR [--genes 6601] [--seed 1] [--cell SYNTHETIC]
//
// writes DIR/<cell>/classification/{train,valid,test}.csv (no header, rows
// `GeneID,BinID,H3K27me3,H3K36me3,H3K4me1,H3K4me3,H3K9me3,label`, 100 bins of
// 100 bp around the TSS, `--genes` genes in each split) and DIR/<cell>/README.txt.
//
// The model, per gene:
// - a latent promoter activity a ~ N(0, 1); the label is a + N(0, 0.5²) > 0, so
//   expression is noisy given the chromatin (as RNA-seq vs ChIP-seq is);
// - active genes (a > 0): H3K4me3 around the TSS, two nucleosome peaks either
//   side of a depleted TSS, stronger downstream; H3K36me3 rising over the gene
//   body downstream; H3K4me1 flanking the promoter; 15% have a weak, CpG-poor
//   promoter with little H3K4me3;
// - silent genes: 25% bivalent (H3K27me3 around the TSS plus a moderate
//   H3K4me3 peak, like poised promoters in stem cells), 35% Polycomb (a broad
//   H3K27me3 domain), 10% heterochromatin (broad H3K9me3), the rest quiet;
// - enhancer-like H3K4me1 bumps at random positions, more near active genes.
// Each gene has a strand; bins are in genomic order as in DeepChrome's files,
// so "downstream" is to the right for + genes and to the left for − genes.
// Counts are negative binomial (gamma–Poisson, size 2: many zeros, long tails)
// around a mean that also carries a per-gene depth and a smooth per-mark
// log-normal field (AR(1) along the bins), so neighbouring bins correlate.
// A single mark at the TSS separates the classes well but not perfectly; the
// bivalent and weak-promoter genes need the other marks.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SYNTHETIC_MARKS = ['H3K27me3', 'H3K36me3', 'H3K4me1', 'H3K4me3', 'H3K9me3'] as const;
export const SYNTHETIC_SPLITS = ['train', 'valid', 'test'] as const;
export type SyntheticSplitName = (typeof SYNTHETIC_SPLITS)[number];

export interface SyntheticOptions {
  /** Genes per split file. */
  readonly genes: number;
  readonly seed: number;
  /** Bins per gene (100 in DeepChrome). */
  readonly bins?: number;
}

export interface SyntheticSplit {
  /** Six-digit ids from 900000 up: no real Ensembl gene has them (ENSG00000900000…). */
  readonly geneIds: readonly string[];
  readonly labels: Uint8Array;
  /** [genes, bins, 5] counts in SYNTHETIC_MARKS order. */
  readonly counts: Int32Array;
  readonly bins: number;
}

export const MAX_GENES_PER_SPLIT = 33_333;
const FIRST_ID = 900_000;

/** sfc32 seeded through splitmix32: fast, small, deterministic across platforms. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return (t + 0.5) / 4294967296;
  };
}

class Sampler {
  private spare: number | undefined;
  constructor(readonly uniform: () => number) {}

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const t = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 via the U^(1/shape) boost. */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Poisson by multiplying uniforms, in pieces of mean ≤ 30 (a sum of Poissons is Poisson). */
  poisson(mean: number): number {
    let k = 0;
    let left = mean;
    while (left > 0) {
      const part = Math.min(left, 30);
      left -= part;
      const limit = Math.exp(-part);
      let p = this.uniform();
      while (p > limit) {
        k++;
        p *= this.uniform();
      }
    }
    return k;
  }

  /** Negative binomial with the given mean and size (variance mean + mean²/size). */
  negativeBinomial(mean: number, size: number): number {
    return mean <= 0 ? 0 : this.poisson((this.gamma(size) * mean) / size);
  }
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const bump = (x: number, centre: number, width: number): number => Math.exp(-((x - centre) ** 2) / (2 * width * width));

type State = 'active' | 'weak' | 'bivalent' | 'polycomb' | 'heterochromatin' | 'quiet';

function generateSplit(rand: Sampler, genes: number, bins: number, firstId: number): SyntheticSplit {
  const nm = SYNTHETIC_MARKS.length;
  const counts = new Int32Array(genes * bins * nm);
  const labels = new Uint8Array(genes);
  const geneIds: string[] = [];
  const mean = new Float64Array(bins * nm);
  const u = rand.uniform;
  const size = 2;
  const tssBin = (bins - 1) / 2;
  // Profiles are written in 100 bp bins; windows other than 100 bins keep the same bp scale.
  for (let g = 0; g < genes; g++) {
    geneIds.push(String(firstId + g));
    const a = rand.normal();
    labels[g] = a + 0.5 * rand.normal() > 0 ? 1 : 0;
    const strand = u() < 0.5 ? 1 : -1;
    let state: State;
    if (a > 0) state = u() < 0.2 ? 'weak' : 'active';
    else {
      const r = u();
      state = r < 0.3 ? 'bivalent' : r < 0.6 ? 'polycomb' : r < 0.7 ? 'heterochromatin' : 'quiet';
    }
    const activity = sigmoid(2 * a);
    const depth = Math.exp(0.35 * rand.normal());
    // H3K27me3 domain: broad for Polycomb, centred on the promoter for bivalent genes.
    const k27Centre = state === 'bivalent' ? 6 * rand.normal() : 30 * rand.normal();
    const k27Width = state === 'bivalent' ? 12 + 8 * u() : 30 + 50 * u();
    const enhancers: Array<{ at: number; width: number; height: number }> = [];
    const nEnh = rand.poisson(state === 'active' || state === 'weak' ? 1.2 : 0.5);
    for (let e = 0; e < nEnh; e++) {
      enhancers.push({ at: u() * bins - tssBin, width: 2 + 3 * u(), height: rand.gamma(2) * 2.5 });
    }

    for (let b = 0; b < bins; b++) {
      const x = b - tssBin; // bins from the TSS, genomic direction
      const down = strand * x; // bins downstream of the TSS
      let k4me3 = 0.9;
      let k36 = 1.0;
      let k27 = 1.5;
      let k4me1 = 1.5;
      let k9 = 1.2;
      const promoter = 0.55 * bump(down, -3, 3) + bump(down, 4, 5);
      if (state === 'active' || state === 'weak') {
        k4me3 += 55 * (0.4 + activity) * (state === 'weak' ? 0.2 : 1) * promoter;
        k36 += down > 0 ? 3.5 * activity * Math.min(1, down / 25) : 0.3 * activity;
        k4me1 += 3 * (0.5 + activity) * (bump(down, -12, 6) + bump(down, 12, 6));
        k27 += 0.3;
      } else if (state === 'bivalent') {
        k4me3 += 35 * promoter;
        k27 += 9 * bump(x, k27Centre, k27Width);
        k4me1 += 1.5 * (bump(down, -12, 6) + bump(down, 12, 6));
      } else if (state === 'polycomb') {
        k4me3 += 2 * promoter;
        k27 += 10 * bump(x, k27Centre, k27Width);
      } else if (state === 'heterochromatin') {
        k9 *= 4;
        k4me3 *= 0.5;
      } else {
        k4me3 += 1.5 * promoter;
      }
      for (const e of enhancers) k4me1 += e.height * bump(x, e.at, e.width);
      const o = b * nm;
      mean[o] = k27;
      mean[o + 1] = k36;
      mean[o + 2] = k4me1;
      mean[o + 3] = k4me3;
      mean[o + 4] = k9;
    }
    // Smooth log-normal noise per mark: AR(1) with correlation 0.85 between
    // adjacent bins, stationary sd 0.35 (innovation sd 0.35·√(1−0.85²)).
    const base = g * bins * nm;
    for (let m = 0; m < nm; m++) {
      let field = 0.35 * rand.normal();
      for (let b = 0; b < bins; b++) {
        if (b > 0) field = 0.85 * field + 0.35 * Math.sqrt(1 - 0.85 * 0.85) * rand.normal();
        counts[base + b * nm + m] = rand.negativeBinomial(mean[b * nm + m]! * depth * Math.exp(field), size);
      }
    }
  }
  return { geneIds, labels, counts, bins };
}

/** All three splits; the same options always give the same numbers. */
export function generateSynthetic(options: SyntheticOptions): Record<SyntheticSplitName, SyntheticSplit> {
  const { genes, seed } = options;
  const bins = options.bins ?? 100;
  if (!Number.isInteger(genes) || genes < 1 || genes > MAX_GENES_PER_SPLIT) {
    throw new RangeError(`generateSynthetic: genes must be an integer in 1..${MAX_GENES_PER_SPLIT}, got ${genes}`);
  }
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`generateSynthetic: bins must be an integer ≥ 2, got ${bins}`);
  if (!Number.isInteger(seed)) throw new RangeError(`generateSynthetic: seed must be an integer, got ${seed}`);
  const rand = new Sampler(seededRandom(seed));
  const out = {} as Record<SyntheticSplitName, SyntheticSplit>;
  SYNTHETIC_SPLITS.forEach((split, i) => {
    out[split] = generateSplit(rand, genes, bins, FIRST_ID + i * genes);
  });
  return out;
}

/** The split as DeepChrome CSV text (no header). */
export function syntheticCsv(split: SyntheticSplit): string {
  const nm = SYNTHETIC_MARKS.length;
  const parts: string[] = [];
  for (let g = 0; g < split.geneIds.length; g++) {
    const id = split.geneIds[g]!;
    const label = split.labels[g]!;
    let block = '';
    for (let b = 0; b < split.bins; b++) {
      const o = (g * split.bins + b) * nm;
      const c = split.counts;
      block += `${id},${b + 1},${c[o]},${c[o + 1]},${c[o + 2]},${c[o + 3]},${c[o + 4]},${label}\n`;
    }
    parts.push(block);
  }
  return parts.join('');
}

export interface WrittenSynthetic {
  readonly cellDir: string;
  readonly files: Readonly<Record<SyntheticSplitName, string>>;
}

/** Writes `<out>/<cell>/classification/{train,valid,test}.csv` and `<out>/<cell>/README.txt`. */
export async function writeSynthetic(
  out: string,
  options: SyntheticOptions & { readonly cell?: string },
): Promise<WrittenSynthetic> {
  const cell = options.cell ?? 'SYNTHETIC';
  if (!/synthetic/i.test(cell)) throw new RangeError(`writeSynthetic: the cell name must say it is synthetic, got "${cell}"`);
  const data = generateSynthetic(options);
  const cellDir = join(out, cell);
  const dir = join(cellDir, 'classification');
  await mkdir(dir, { recursive: true });
  const files = {} as Record<SyntheticSplitName, string>;
  for (const split of SYNTHETIC_SPLITS) {
    files[split] = join(dir, `${split}.csv`);
    await writeFile(files[split], syntheticCsv(data[split]));
  }
  const bins = options.bins ?? 100;
  await writeFile(
    join(cellDir, 'README.txt'),
    [
      'SYNTHETIC DATA - not measurements. Do not report results on it.',
      '',
      `Made by datasets/generateSynthetic.ts with --genes ${options.genes} --seed ${options.seed} (${bins} bins).`,
      'DeepChrome layout: classification/{train,valid,test}.csv, no header,',
      'GeneID,BinID,H3K27me3,H3K36me3,H3K4me1,H3K4me3,H3K9me3,label.',
      `Gene ids ${FIRST_ID}..${FIRST_ID + 3 * options.genes - 1} are made up (no Ensembl gene has them).`,
      'Purpose: the demo when no real data is present, and the parse benchmark.',
      'Real data: see datasets/README.md.',
      '',
    ].join('\n'),
  );
  return { cellDir, files };
}

function parseArgs(argv: readonly string[]): { out: string; genes: number; seed: number; cell: string } {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!;
    if (!['--out', '--genes', '--seed', '--cell'].includes(key)) throw new Error(`unknown argument "${key}"`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${key} needs a value`);
    values.set(key, value);
    i++;
  }
  const out = values.get('--out');
  if (out === undefined) throw new Error('--out DIR is required');
  const int = (key: string, fallback: number): number => {
    const text = values.get(key);
    if (text === undefined) return fallback;
    if (!/^-?\d+$/.test(text)) throw new Error(`${key} must be an integer, got "${text}"`);
    return Number(text);
  };
  return { out, genes: int('--genes', 6601), seed: int('--seed', 1), cell: values.get('--cell') ?? 'SYNTHETIC' };
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`generateSynthetic: ${(e as Error).message}`);
    console.error('usage: npx tsx datasets/generateSynthetic.ts --out DIR [--genes 6601] [--seed 1] [--cell SYNTHETIC]');
    process.exit(2);
  }
  const written = await writeSynthetic(resolve(args.out), args);
  console.log(
    `wrote SYNTHETIC data (not real measurements; for the demo and benchmarks only): ${args.genes} genes per split, seed ${args.seed}\n` +
      `  ${written.cellDir}/classification/{train,valid,test}.csv\n  ${written.cellDir}/README.txt`,
  );
}

// Run as a script only under its own name: bundled into another program (the
// device pack's run.mjs), import.meta.url is that program's, which is argv[1].
const ownName = import.meta.url.endsWith('/generateSynthetic.ts');
if (ownName && process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
