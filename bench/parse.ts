// Parse benchmark: how fast a DeepChrome cell becomes a Dataset.
//
//   npx tsx bench/parse.ts [--reps 5] [--real PREFIX] [--no-real]
//
// Inputs: the full-size SYNTHETIC training file (6601 genes × 100 bins =
// 660,100 rows, made once by datasets/generateSynthetic.ts into
// datasets/synthetic/, reused after), and the real E003 sample
// (../shared/datasets/derived_deepchrome_format/E003_sample600.*.csv.gz) when present.
// For each input, in one run: (a) readDeepChrome into a Dataset, (b) the npm
// csv-parse package reading the same bytes into numbers (gunzip included for
// .gz), (c) the second load through loadCell, which hits the binary cache.
// Throughput is MB of CSV text (after gunzip) per second, median of --reps runs.

import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip, gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { readDeepChrome, type DeepChromeSource } from '../src/data/deepchrome.ts';
import { isGzipMagic } from '../src/data/lineReader.ts';
import { loadCell } from '../src/data/loadCell.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SYNTHETIC_DIR = join(ROOT, 'datasets', 'synthetic');
const SYNTHETIC_GENES = 6601;
const SYNTHETIC_SEED = 1;
const DEFAULT_REAL = join(ROOT, '..', 'shared', 'datasets', 'derived_deepchrome_format', 'E003_sample600');

interface Input {
  readonly name: string;
  /** What readDeepChrome and loadCell are given. */
  readonly source: DeepChromeSource;
  readonly loadPath: string;
  readonly files: readonly string[];
}

interface Row {
  readonly input: string;
  readonly method: string;
  readonly textMB: number;
  readonly fileMB: number;
  readonly medianS: number;
  readonly note: string;
}

function args(): { reps: number; real: string | undefined } {
  const argv = process.argv.slice(2);
  let reps = 5;
  let real: string | undefined = DEFAULT_REAL;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reps') reps = Number(argv[++i]);
    else if (a === '--real') real = argv[++i];
    else if (a === '--no-real') real = undefined;
    else throw new Error(`bench/parse.ts: unknown argument "${a}" (known: --reps N, --real PREFIX, --no-real)`);
  }
  if (!Number.isInteger(reps) || reps < 1) throw new Error('bench/parse.ts: --reps needs a positive integer');
  return { reps, real };
}

async function syntheticInput(): Promise<Input> {
  const cellDir = join(SYNTHETIC_DIR, 'SYNTHETIC');
  const train = join(cellDir, 'classification', 'train.csv');
  const readme = join(cellDir, 'README.txt');
  const stamp = `--genes ${SYNTHETIC_GENES} --seed ${SYNTHETIC_SEED} `;
  if (!existsSync(train) || !existsSync(readme) || !readFileSync(readme, 'utf8').includes(stamp)) {
    console.log(`generating SYNTHETIC benchmark data (${SYNTHETIC_GENES} genes per split, seed ${SYNTHETIC_SEED}) in ${cellDir} …`);
    await writeSynthetic(SYNTHETIC_DIR, { genes: SYNTHETIC_GENES, seed: SYNTHETIC_SEED });
  } else {
    console.log(`reusing SYNTHETIC benchmark data in ${cellDir}`);
  }
  return { name: `SYNTHETIC train.csv (${SYNTHETIC_GENES} genes)`, source: { train }, loadPath: train, files: [train] };
}

function realInput(prefix: string): Input | undefined {
  const files = ['train', 'valid', 'test'].map((s) => `${prefix}.${s}.csv.gz`);
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.log(`real sample not benchmarked: missing ${missing.join(', ')}`);
    return undefined;
  }
  return { name: 'E003_sample600 (3 × .csv.gz)', source: prefix, loadPath: prefix, files };
}

function textBytes(file: string): number {
  const buf = readFileSync(file);
  return isGzipMagic(buf) ? gunzipSync(buf).length : buf.length;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed<T>(reps: number, fn: () => Promise<T>): Promise<{ seconds: number; last: T }> {
  const times: number[] = [];
  let last: T | undefined;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    last = await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(times), last: last as T };
}

/** csv-parse over one file: every field cast to a number, marks collected into a Float32Array. */
function csvParseFile(file: string): Promise<{ rows: number; sum: number }> {
  return new Promise((resolvePromise, reject) => {
    const head = Buffer.alloc(2);
    const fd = openSync(file, 'r');
    readSync(fd, head, 0, 2, 0);
    closeSync(fd);
    const raw = createReadStream(file);
    const input = isGzipMagic(head) ? raw.pipe(createGunzip()) : raw;
    const parser = parse({ cast: true });
    let features = new Float32Array(1 << 20);
    let rows = 0;
    parser.on('readable', () => {
      let record: unknown;
      while ((record = parser.read()) !== null) {
        const r = record as number[];
        if ((rows + 1) * 5 > features.length) {
          const grown = new Float32Array(features.length * 2);
          grown.set(features);
          features = grown;
        }
        for (let m = 0; m < 5; m++) features[rows * 5 + m] = r[2 + m]!;
        rows++;
      }
    });
    parser.on('error', reject);
    raw.on('error', reject);
    parser.on('end', () => {
      let sum = 0;
      for (let i = 0; i < rows * 5; i++) sum += features[i]!;
      resolvePromise({ rows, sum });
    });
    input.pipe(parser);
  });
}

function featureSum(ds: Dataset): number {
  let s = 0;
  for (let i = 0; i < ds.features.length; i++) s += ds.features[i]!;
  return s;
}

async function bench(input: Input, reps: number, cacheDir: string): Promise<Row[]> {
  const text = input.files.reduce((a, f) => a + textBytes(f), 0) / 1e6;
  const onDisk = input.files.reduce((a, f) => a + statSync(f).size, 0) / 1e6;
  const rows: Row[] = [];
  const row = (method: string, seconds: number, note: string): void => {
    rows.push({ input: input.name, method, textMB: text, fileMB: onDisk, medianS: seconds, note });
  };

  const ours = await timed(reps, () => readDeepChrome(input.source));
  row('readDeepChrome → Dataset', ours.seconds, `${ours.last.genes} genes × ${ours.last.bins} bins`);

  const theirs = await timed(reps, async () => {
    let rowsRead = 0;
    let sum = 0;
    for (const f of input.files) {
      const r = await csvParseFile(f);
      rowsRead += r.rows;
      sum += r.sum;
    }
    return { rows: rowsRead, sum };
  });
  const agree = theirs.last.sum === featureSum(ours.last) && theirs.last.rows === ours.last.genes * ours.last.bins;
  row('csv-parse (npm) → numbers', theirs.seconds, `${theirs.last.rows} rows; same numbers: ${agree ? 'yes' : 'NO'}`);

  const first = await loadCell(input.loadPath, { cacheDir, layout: 'deepchrome' });
  if (first.cache.status !== 'miss' && first.cache.status !== 'hit') {
    throw new Error(`bench: first loadCell of ${input.loadPath} reported cache ${first.cache.status} (${first.cache.reason ?? ''})`);
  }
  const cached = await timed(reps, async () => {
    const r = await loadCell(input.loadPath, { cacheDir, layout: 'deepchrome' });
    if (!r.cache.used) throw new Error(`bench: second loadCell of ${input.loadPath} did not hit the cache (${r.cache.status})`);
    return r;
  });
  const cacheMB = first.cache.file !== undefined && existsSync(first.cache.file) ? statSync(first.cache.file).size / 1e6 : NaN;
  row('loadCell, 2nd load (cache)', cached.seconds, `cache file ${cacheMB.toFixed(1)} MB`);
  return rows;
}

function table(rows: readonly Row[]): string {
  const header = ['input', 'method', 'CSV MB', 'median s', 'MB/s', '× csv-parse', 'note'];
  const lines = rows.map((r) => {
    const base = rows.find((b) => b.input === r.input && b.method.startsWith('csv-parse'))!;
    return [
      r.input,
      r.method,
      r.textMB.toFixed(1) + (r.fileMB < r.textMB * 0.9 ? ` (${r.fileMB.toFixed(1)} gz)` : ''),
      r.medianS.toFixed(3),
      (r.textMB / r.medianS).toFixed(1),
      (base.medianS / r.medianS).toFixed(2),
      r.note,
    ];
  });
  const width = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(width[i]!)).join(' | ');
  return [fmt(header), width.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const { reps, real } = args();
  const inputs: Input[] = [await syntheticInput()];
  if (real !== undefined) {
    const r = realInput(real);
    if (r !== undefined) inputs.push(r);
  }
  const cacheDir = await mkdtemp(join(tmpdir(), 'simplechrome-bench-cache-'));
  const rows: Row[] = [];
  try {
    for (const input of inputs) rows.push(...(await bench(input, reps, cacheDir)));
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
  const cpu = cpus();
  console.log(`\nmachine: ${cpu[0]?.model.trim() ?? 'unknown CPU'} × ${cpu.length} logical cores, Node ${process.version}; median of ${reps} runs`);
  console.log('MB/s counts CSV text (after gunzip); SYNTHETIC data is for benchmarking only.\n');
  console.log(table(rows));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
