import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttentiveChrome } from '../src/data/attentiveChrome.ts';
import { DataError, MARKS, type Dataset } from '../src/data/dataset.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';

// Real files, damaged at random (seeded): every case must end in a valid
// Dataset or a DataError naming one of the case's files: never another
// exception, a crash or a hang.

const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
if (!existsSync(join(DATA, 'README.md'))) {
  throw new Error(`real data not found at ${DATA}: the fuzz tests need ../shared/datasets (see its README.md)`);
}

const CASE_TIMEOUT_MS = 10_000;

/** mulberry32. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes that make interesting CSV damage more often than uniform random bytes would. */
const CSV_BYTES = Buffer.from('0123456789,,,\n\n\r-.eE+xN _\u0000');

function mutate(src: Buffer, r: () => number): { bytes: Buffer; what: string } {
  const int = (n: number): number => Math.floor(r() * n);
  const pick = (): number => (r() < 0.6 ? (CSV_BYTES[int(CSV_BYTES.length)] as number) : int(256));
  const at = int(src.length);
  switch (int(6)) {
    case 0: {
      const b = Buffer.from(src);
      const k = 1 + int(4);
      for (let i = 0; i < k; i++) b[int(b.length)] = pick();
      return { bytes: b, what: `changed ${k} bytes` };
    }
    case 1: {
      const k = 1 + int(8);
      const ins = Buffer.from(Array.from({ length: k }, pick));
      return { bytes: Buffer.concat([src.subarray(0, at), ins, src.subarray(at)]), what: `inserted ${k} bytes at ${at}` };
    }
    case 2: {
      const k = 1 + int(64);
      return { bytes: Buffer.concat([src.subarray(0, at), src.subarray(at + k)]), what: `deleted ${k} bytes at ${at}` };
    }
    case 3:
      return { bytes: Buffer.from(src.subarray(0, at)), what: `truncated at ${at}` };
    case 4: {
      const k = 1 + int(300);
      const to = int(src.length);
      return { bytes: Buffer.concat([src.subarray(0, to), src.subarray(at, at + k), src.subarray(to)]), what: `copied ${k} bytes from ${at} to ${to}` };
    }
    default: {
      // Move one whole line elsewhere: rows out of order, genes split.
      const s = src.lastIndexOf(10, at) + 1;
      const e = src.indexOf(10, at);
      if (e < 0) return { bytes: Buffer.from(src.subarray(0, s)), what: `dropped the last line` };
      const line = src.subarray(s, e + 1);
      const rest = Buffer.concat([src.subarray(0, s), src.subarray(e + 1)]);
      const to = rest.lastIndexOf(10, int(rest.length)) + 1;
      return { bytes: Buffer.concat([rest.subarray(0, to), line, rest.subarray(to)]), what: `moved line at byte ${s} to ${to}` };
    }
  }
}

function checkDataset(d: Dataset): void {
  expect(d.features.length).toBe(d.genes * d.bins * MARKS.length);
  expect(d.labels.length).toBe(d.genes);
  expect(d.split.length).toBe(d.genes);
  expect(d.geneIds.length).toBe(d.genes);
  expect(new Set(d.geneIds).size).toBe(d.genes);
  expect(d.labels.every((l) => l === 0 || l === 1)).toBe(true);
  expect(d.features.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
}

interface Tally {
  valid: number;
  errors: Map<string, number>;
}

async function runCase(read: () => Promise<Dataset>, files: readonly string[], what: string, tally: Tally): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no result after ${CASE_TIMEOUT_MS} ms (${what})`)), CASE_TIMEOUT_MS);
  });
  try {
    const d = await Promise.race([read(), hang]);
    checkDataset(d);
    tally.valid++;
  } catch (err) {
    if (!(err instanceof DataError)) throw new Error(`${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    expect(files).toContain(err.file);
    expect(err.message.startsWith(err.line === undefined ? `${err.file}: ` : `${err.file}:${err.line}: `)).toBe(true);
    const kind = err.message.slice(err.message.indexOf(': ') + 2).replace(/[0-9]+/g, '#').replace(/".*"/, '"…"').slice(0, 40);
    tally.errors.set(kind, (tally.errors.get(kind) ?? 0) + 1);
  } finally {
    clearTimeout(timer);
  }
}

function report(name: string, tally: Tally): void {
  const kinds = [...tally.errors.entries()].sort((a, b) => b[1] - a[1]);
  const errors = kinds.reduce((a, [, c]) => a + c, 0);
  console.log(`${name}: ${tally.valid} valid, ${errors} DataError; most common: ${kinds.slice(0, 6).map(([k, c]) => `${c}× ${k}`).join(' | ')}`);
}

let dir = '';
let trainText: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'simplechrome-fuzz-'));
  trainText = gunzipSync(await readFile(join(DATA, 'derived_deepchrome_format', 'E003_sample600.train.csv.gz')));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fuzzed DeepChrome file (E003 train sample)', () => {
  it('200 mutations of the plain text', async () => {
    const r = rng(1);
    const tally: Tally = { valid: 0, errors: new Map() };
    for (let i = 0; i < 200; i++) {
      const { bytes, what } = mutate(trainText, r);
      const file = join(dir, `plain${i}.train.csv`);
      await writeFile(file, bytes);
      await runCase(() => readDeepChrome({ train: file }), [file], `plain case ${i}: ${what}`, tally);
    }
    report('plain', tally);
    expect(tally.valid + [...tally.errors.values()].reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('60 mutated texts, gzipped', async () => {
    const r = rng(2);
    const tally: Tally = { valid: 0, errors: new Map() };
    for (let i = 0; i < 60; i++) {
      const { bytes, what } = mutate(trainText, r);
      const file = join(dir, `gztext${i}.train.csv.gz`);
      await writeFile(file, gzipSync(bytes));
      await runCase(() => readDeepChrome({ train: file }), [file], `gzipped-text case ${i}: ${what}`, tally);
    }
    report('gzip of mutated text', tally);
  });

  it('120 mutations of the gzip bytes', async () => {
    const r = rng(3);
    const gz = gzipSync(trainText);
    const tally: Tally = { valid: 0, errors: new Map() };
    for (let i = 0; i < 120; i++) {
      const { bytes, what } = mutate(gz, r);
      const file = join(dir, `gzbytes${i}.train.csv.gz`);
      await writeFile(file, bytes);
      await runCase(() => readDeepChrome({ train: file }), [file], `gzip-bytes case ${i}: ${what}`, tally);
    }
    report('mutated gzip bytes', tally);
  });
});

describe('fuzzed AttentiveChrome files (Cell2 valid + expression)', () => {
  it('60 mutations of the marks file or the expression file', async () => {
    const raw = join(DATA, 'raw_deepdiff_attentivechrome_sample');
    const marks = gunzipSync(await readFile(join(raw, 'Cell2.valid.csv.gz')));
    const expr = gunzipSync(await readFile(join(raw, 'Cell2.expr.csv.gz')));
    const r = rng(4);
    const tally: Tally = { valid: 0, errors: new Map() };
    for (let i = 0; i < 60; i++) {
      const marksFile = join(dir, `ac${i}.valid.csv`);
      const exprFile = join(dir, `ac${i}.expr.csv`);
      const damageExpr = i % 3 === 0;
      const m = mutate(damageExpr ? expr : marks, r);
      await writeFile(marksFile, damageExpr ? marks : m.bytes);
      await writeFile(exprFile, damageExpr ? m.bytes : expr);
      await runCase(
        () => readAttentiveChrome({ valid: marksFile, expr: exprFile }, { centralBins: 100 }),
        [marksFile, exprFile],
        `attentive case ${i} (${damageExpr ? 'expr' : 'marks'}): ${m.what}`,
        tally,
      );
    }
    report('AttentiveChrome', tally);
  });
});
