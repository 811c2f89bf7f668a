import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSynthetic,
  SYNTHETIC_MARKS,
  syntheticCsv,
  writeSynthetic,
  type SyntheticSplit,
} from '../datasets/generateSynthetic.ts';
import { MARKS, SPLIT_CODES } from '../src/data/dataset.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'simplechrome-synthetic-'));
});
afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

/** AUROC by the rank-sum formula, ties sharing their mean rank. */
function auroc(score: readonly number[], labels: Uint8Array): number {
  const order = score.map((_, i) => i).sort((a, b) => score[a]! - score[b]!);
  const rank = new Float64Array(score.length);
  for (let s = 0; s < order.length; ) {
    let e = s + 1;
    while (e < order.length && score[order[e]!] === score[order[s]!]) e++;
    for (let t = s; t < e; t++) rank[order[t]!] = (s + e - 1) / 2 + 1;
    s = e;
  }
  let pos = 0;
  let rankSum = 0;
  labels.forEach((l, i) => {
    if (l === 1) {
      pos++;
      rankSum += rank[i]!;
    }
  });
  const neg = labels.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Sum of one mark over the bins within ±`half` bins of the TSS. */
function tssSum(split: SyntheticSplit, mark: number, half: number): number[] {
  const out: number[] = [];
  const nm = SYNTHETIC_MARKS.length;
  const lo = split.bins / 2 - half;
  for (let g = 0; g < split.geneIds.length; g++) {
    let s = 0;
    for (let b = lo; b < lo + 2 * half; b++) s += split.counts[(g * split.bins + b) * nm + mark]!;
    out.push(s);
  }
  return out;
}

describe('synthetic DeepChrome data', () => {
  it('uses the canonical mark order', () => {
    expect([...SYNTHETIC_MARKS]).toEqual([...MARKS]);
  });

  it('is written in the DeepChrome layout and parses with readDeepChrome into the generated numbers', async () => {
    const written = await writeSynthetic(scratch, { genes: 40, seed: 5 });
    expect(written.cellDir).toBe(join(scratch, 'SYNTHETIC'));
    const ds = await readDeepChrome(written.cellDir);
    expect(ds.cell).toBe('SYNTHETIC');
    expect([ds.genes, ds.bins]).toEqual([120, 100]);
    expect(ds.marks).toEqual(MARKS);
    const data = generateSynthetic({ genes: 40, seed: 5 });
    (['train', 'valid', 'test'] as const).forEach((split, i) => {
      const part = data[split];
      expect(ds.geneIds.slice(i * 40, (i + 1) * 40)).toEqual(part.geneIds);
      expect(Array.from(ds.labels.slice(i * 40, (i + 1) * 40))).toEqual(Array.from(part.labels));
      expect(Array.from(ds.split.slice(i * 40, (i + 1) * 40)).every((s) => s === SPLIT_CODES[split])).toBe(true);
      expect(Array.from(ds.features.slice(i * 4000 * 5, (i + 1) * 4000 * 5))).toEqual(Array.from(part.counts));
    });
    const lines = readFileSync(written.files.train, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBe(4000);
    expect(lines[0]).toMatch(/^900000,1,\d+,\d+,\d+,\d+,\d+,[01]$/);
    expect(lines[99]).toMatch(/^900000,100,/);
    expect(lines[100]).toMatch(/^900001,1,/);
    for (const line of lines) expect(line).toMatch(/^\d{6},\d{1,3}(,\d+){5},[01]$/);
    const readme = readFileSync(join(written.cellDir, 'README.txt'), 'utf8');
    expect(readme).toMatch(/^SYNTHETIC DATA - not measurements\. Do not report results on it\./);
    expect(readme).toContain('--genes 40 --seed 5');
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateSynthetic({ genes: 30, seed: 11 });
    const b = generateSynthetic({ genes: 30, seed: 11 });
    const c = generateSynthetic({ genes: 30, seed: 12 });
    for (const split of ['train', 'valid', 'test'] as const) {
      expect(syntheticCsv(b[split])).toBe(syntheticCsv(a[split]));
      expect(syntheticCsv(c[split])).not.toBe(syntheticCsv(a[split]));
    }
    // The generator's first numbers are pinned, so a change of the model shows up here.
    expect(syntheticCsv(a.train).slice(0, 60)).toBe('900000,1,1,2,0,1,1,1\n900000,2,1,1,5,2,2,1\n900000,3,5,3,1,0,0');
  });

  it('looks like ChIP-seq counts: many zeros, long tails, labels near 50/50', () => {
    const { train } = generateSynthetic({ genes: 300, seed: 2 });
    const values = Array.from(train.counts);
    expect(values.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    const zeros = values.filter((v) => v === 0).length / values.length;
    expect(zeros).toBeGreaterThan(0.2);
    expect(zeros).toBeLessThan(0.5);
    expect(values.reduce((a, b) => Math.max(a, b), 0)).toBeGreaterThan(100);
    const positive = train.labels.reduce((a, b) => a + b, 0) / train.labels.length;
    expect(positive).toBeGreaterThan(0.4);
    expect(positive).toBeLessThan(0.6);
  });

  it('carries a learnable but not trivial signal', () => {
    const data = generateSynthetic({ genes: 600, seed: 3 });
    const k4me3 = MARKS.indexOf('H3K4me3');
    const k27me3 = MARKS.indexOf('H3K27me3');
    const k36me3 = MARKS.indexOf('H3K36me3');
    const k9me3 = MARKS.indexOf('H3K9me3');
    for (const split of ['train', 'valid', 'test'] as const) {
      const part = data[split];
      const trivial = auroc(tssSum(part, k4me3, 6), part.labels);
      expect(trivial, `${split}: H3K4me3 at the TSS`).toBeGreaterThan(0.7);
      expect(trivial, `${split}: H3K4me3 at the TSS`).toBeLessThan(0.9);
      // Repressive H3K27me3 ranks the other way; background H3K9me3 says little.
      expect(auroc(tssSum(part, k27me3, 20), part.labels)).toBeLessThan(0.4);
      expect(Math.abs(auroc(tssSum(part, k9me3, 50), part.labels) - 0.5)).toBeLessThan(0.1);
      // Combining an active and a repressive mark beats the single mark: there is more to learn.
      const combined = tssSum(part, k4me3, 6).map(
        (v, g) => Math.log1p(v) + Math.log1p(tssSum(part, k36me3, 50)[g]!) - Math.log1p(tssSum(part, k27me3, 20)[g]!),
      );
      expect(auroc(combined, part.labels), split).toBeGreaterThan(trivial + 0.02);
    }
  });

  it('rejects bad options with a message', async () => {
    expect(() => generateSynthetic({ genes: 0, seed: 1 })).toThrow('generateSynthetic: genes must be an integer in 1..33333, got 0');
    expect(() => generateSynthetic({ genes: 5, seed: 1.5 })).toThrow('generateSynthetic: seed must be an integer, got 1.5');
    expect(() => generateSynthetic({ genes: 5, seed: 1, bins: 1 })).toThrow('generateSynthetic: bins must be an integer ≥ 2, got 1');
    await expect(writeSynthetic(scratch, { genes: 5, seed: 1, cell: 'E003' })).rejects.toThrow(
      'writeSynthetic: the cell name must say it is synthetic, got "E003"',
    );
  });

  it('runs from the command line and says the data is synthetic', async () => {
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const out = join(scratch, 'cli');
    const { stdout } = await run(tsx, ['datasets/generateSynthetic.ts', '--out', out, '--genes', '3', '--seed', '9'], { cwd: ROOT });
    expect(stdout).toMatch(/^wrote SYNTHETIC data \(not real measurements; for the demo and benchmarks only\): 3 genes per split, seed 9/);
    expect(existsSync(join(out, 'SYNTHETIC', 'classification', 'test.csv'))).toBe(true);
    expect(existsSync(join(out, 'SYNTHETIC', 'README.txt'))).toBe(true);
    const failed = await run(tsx, ['datasets/generateSynthetic.ts', '--out', out, '--genes', 'many'], { cwd: ROOT }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('generateSynthetic: --genes must be an integer, got "many"');
    expect(failed?.stderr).toContain('usage: npx tsx datasets/generateSynthetic.ts --out DIR');
  });
});
