import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_VERSION, decodeCache, encodeCache, resolveCacheDir, stampSources, type CacheIdentity } from '../src/data/cache.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { loadCell, type LoadCellOptions } from '../src/data/loadCell.ts';

// The binary cache: hit on the second load, rebuilt (never trusted) when a
// source's bytes change or the cache is damaged. Timings are reported, not asserted.

const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
if (!existsSync(join(DATA, 'README.md'))) {
  throw new Error(`real data not found at ${DATA}: the cache tests need ../shared/datasets (see its README.md)`);
}
const DERIVED = join(DATA, 'derived_deepchrome_format');

let root = '';
let cellPrefix = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-cache-'));
  // A writable copy of the E003 sample (the shared data is read-only).
  await mkdir(join(root, 'data'));
  for (const s of ['train', 'valid', 'test']) {
    await copyFile(join(DERIVED, `E003_sample600.${s}.csv.gz`), join(root, 'data', `E003_sample600.${s}.csv.gz`));
  }
  cellPrefix = join(root, 'data', 'E003_sample600');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function expectSameDataset(a: Dataset, b: Dataset): void {
  expect(a.cell).toBe(b.cell);
  expect(a.genes).toBe(b.genes);
  expect(a.bins).toBe(b.bins);
  expect(a.marks).toEqual(b.marks);
  expect(a.geneIds).toEqual(b.geneIds);
  expect(a.source).toEqual(b.source);
  expect(Buffer.compare(bytes(a.features), bytes(b.features))).toBe(0);
  expect(Buffer.compare(bytes(a.labels), bytes(b.labels))).toBe(0);
  expect(Buffer.compare(bytes(a.split), bytes(b.split))).toBe(0);
  expect(a.binMask === undefined).toBe(b.binMask === undefined);
  if (a.binMask !== undefined && b.binMask !== undefined) expect(Buffer.compare(bytes(a.binMask), bytes(b.binMask))).toBe(0);
}

function bytes(a: Float32Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

async function fresh(name: string): Promise<string> {
  const d = join(root, name);
  await mkdir(d, { recursive: true });
  return d;
}

async function onlyCacheFile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.scds'));
  expect(files).toHaveLength(1);
  return join(dir, files[0] as string);
}

/** Median wall time of `runs` calls. */
async function time(runs: number, f: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(runs / 2)] as number;
}

describe('binary cache', () => {
  it('second load is a hit and gives the same Dataset', async () => {
    const cacheDir = await fresh('c-hit');
    const first = await loadCell(cellPrefix, { cacheDir });
    expect(first.cache.used).toBe(false);
    expect(first.cache.status).toBe('miss');
    const file = await onlyCacheFile(cacheDir);
    expect(first.cache.file).toBe(file);
    const second = await loadCell(cellPrefix, { cacheDir });
    expect(second.cache).toEqual({ used: true, status: 'hit', file });
    expect(second.layout).toBe('deepchrome');
    expectSameDataset(second.dataset, first.dataset);
    expect(second.dataset.features.subarray(0, 5)).toEqual(Float32Array.from([1, 0, 4, 4, 1]));
  });

  it('reports parse vs cache-load time for the E003 sample and GC-MERGE E116 (not asserted)', async () => {
    const cases: [string, string, LoadCellOptions][] = [
      ['E003 sample (600 genes, 3 × ~100 kB gz)', cellPrefix, {}],
      ['full-size cell (E003 sample rows ×33: 19,800 genes, like a DeepChrome cell)', await fullSizeCell(), {}],
      ['GC-MERGE E116 (16,699 genes, 4.5 MB gz)', join(DATA, 'gcmerge_E116'), {}],
    ];
    for (const [name, path, opts] of cases) {
      const cacheDir = await fresh(`c-time-${name.slice(0, 6).replace(/\W/g, '')}`);
      await loadCell(path, { ...opts, cacheDir }); // writes the cache (and warms the JIT)
      await loadCell(path, { ...opts, cache: false });
      const parseMs = await time(3, () => loadCell(path, { ...opts, cache: false }));
      let hits = 0;
      const cachedMs = await time(5, async () => {
        if ((await loadCell(path, { ...opts, cacheDir })).cache.used) hits++;
      });
      expect(hits).toBe(5);
      const cacheBytes = (await stat(await onlyCacheFile(cacheDir))).size;
      console.log(
        `${name}: parse ${parseMs.toFixed(1)} ms, cached ${cachedMs.toFixed(1)} ms (${(cacheBytes / 1e6 / (cachedMs / 1e3)).toFixed(0)} MB/s of cache), ${(parseMs / cachedMs).toFixed(1)}× faster`,
      );
    }
  });

  it('the cache is keyed by content: a touched source is still a hit, other bytes of the same size and mtime are not', async () => {
    const cacheDir = await fresh('c-stale');
    const base = await loadCell(cellPrefix, { cacheDir });
    const valid = `${cellPrefix}.valid.csv.gz`;
    const later = new Date(Date.now() + 5000);
    await utimes(valid, later, later);
    const touched = await loadCell(cellPrefix, { cacheDir });
    expect(touched.cache.status).toBe('hit');
    expectSameDataset(touched.dataset, base.dataset);

    // Same mtime, different size: the same text gzipped at another level. The bytes differ, so the cache is rebuilt.
    const original = await readFile(valid);
    const { mtime } = await stat(valid);
    await writeFile(valid, gzipSync(gunzipSync(original), { level: 1 }));
    await utimes(valid, mtime, mtime);
    const resized = await loadCell(cellPrefix, { cacheDir });
    expect(resized.cache.status).toBe('stale');
    expect(resized.cache.reason).toMatch(new RegExp(`^${valid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed size \\(\\d+ → \\d+ bytes\\)$`));
    expectSameDataset(resized.dataset, base.dataset);
    await writeFile(valid, original);
  });

  it('a CSV edited to other values of the same size, its mtime restored (touch -r, cp -p), is parsed again', async () => {
    const dir = await fresh('c-same-size/E003/classification');
    for (const s of ['train', 'valid', 'test']) await writeFile(join(dir, `${s}.csv`), gunzipSync(await readFile(`${cellPrefix}.${s}.csv.gz`)));
    const cell = join(dir, '..');
    const cacheDir = await fresh('c-same-size-cache');
    const base = await loadCell(cell, { cacheDir });
    expect((await loadCell(cell, { cacheDir })).cache.status).toBe('hit');
    const train = join(dir, 'train.csv');
    const text = await readFile(train, 'utf8');
    const before = await stat(train, { bigint: true });
    const stamp = join(root, 'c-same-size-stamp');
    await writeFile(stamp, '');
    expect(spawnSync('touch', ['-r', train, stamp]).status).toBe(0);
    // The first row's first count, one digit changed: same length, other data.
    const edited = text.replace(/^(\d+,\d+,)(\d)/, (_m, head: string, d: string) => `${head}${d === '9' ? '8' : String(Number(d) + 1)}`);
    expect(edited).not.toBe(text);
    await writeFile(train, edited);
    expect(spawnSync('touch', ['-r', stamp, train]).status).toBe(0);
    const after = await stat(train, { bigint: true });
    expect([after.size, after.mtimeNs]).toEqual([before.size, before.mtimeNs]);
    const again = await loadCell(cell, { cacheDir });
    expect(again.cache.status).toBe('stale');
    expect(again.cache.reason).toBe(`${train} has other content than when the cache was written (SHA-256 differs)`);
    expect(again.dataset.features[0]).not.toBe(base.dataset.features[0]);
    expect(again.sources?.find((f) => f.path === train)?.sha256).not.toBe(base.sources?.find((f) => f.path === train)?.sha256);
    expect((await loadCell(cell, { cacheDir })).cache.status).toBe('hit');
  });

  it.each([
    ['payload byte flipped', (b: Buffer) => flip(b, b.length - 1000), 'corrupt', 'payload SHA-256 mismatch: the file was damaged or altered'],
    ['header byte flipped', (b: Buffer) => flip(b, 30), 'corrupt', 'header checksum mismatch'],
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 7), 'corrupt', /^payload is \d+ bytes, the header says \d+$/],
    ['truncated in the fixed header', (b: Buffer) => b.subarray(0, 12), 'corrupt', 'truncated in its fixed header'],
    ['other format version', (b: Buffer) => withVersion(b, CACHE_VERSION + 1), 'stale', `format version ${CACHE_VERSION + 1}, expected ${CACHE_VERSION}`],
  ] as const)('a damaged cache is detected and rebuilt: %s', async (_name, damage, status, reason) => {
    const cacheDir = await fresh(`c-damage-${_name.replace(/\W/g, '')}`);
    const base = await loadCell(cellPrefix, { cacheDir });
    const file = await onlyCacheFile(cacheDir);
    await writeFile(file, damage(await readFile(file)));
    const again = await loadCell(cellPrefix, { cacheDir });
    expect(again.cache.used).toBe(false);
    expect(again.cache.status).toBe(status);
    if (typeof reason === 'string') expect(again.cache.reason).toBe(reason);
    else expect(again.cache.reason).toMatch(reason);
    expectSameDataset(again.dataset, base.dataset);
    const third = await loadCell(cellPrefix, { cacheDir });
    expect(third.cache.status).toBe('hit');
    expectSameDataset(third.dataset, base.dataset);
  });

  it.each([
    ['bad magic', (b: Buffer) => flip(b, 0)],
    ['empty file', () => Buffer.alloc(0)],
  ] as const)('a file at the cache’s name that does not begin as a cache is not the cache’s: left as it is (%s)', async (_name, damage) => {
    const cacheDir = await fresh(`c-foreign-${_name.replace(/\W/g, '')}`);
    const base = await loadCell(cellPrefix, { cacheDir });
    const file = await onlyCacheFile(cacheDir);
    const theirs = damage(await readFile(file));
    await writeFile(file, theirs);
    for (let i = 0; i < 2; i++) {
      const again = await loadCell(cellPrefix, { cacheDir });
      expect(again.cache).toMatchObject({ used: false, status: 'foreign' });
      expectSameDataset(again.dataset, base.dataset);
      expect(Buffer.compare(await readFile(file), theirs)).toBe(0);
      expect(await readdir(cacheDir)).toEqual([file.slice(cacheDir.length + 1)]);
    }
  });

  it('different reader options are different caches', async () => {
    const cacheDir = await fresh('c-options');
    const cell2 = join(DATA, 'raw_deepdiff_attentivechrome_sample', 'Cell2');
    const full = await loadCell(cell2, { cacheDir });
    const central = await loadCell(cell2, { cacheDir, centralBins: 100 });
    expect(full.cache.status).toBe('miss');
    expect(central.cache.status).toBe('miss');
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.scds'))).toHaveLength(2);
    const again = await loadCell(cell2, { cacheDir, centralBins: 100 });
    expect(again.cache.status).toBe('hit');
    expect(again.dataset.bins).toBe(100);
    expect((await loadCell(cell2, { cacheDir })).dataset.bins).toBe(200);
  });

  it('keeps the bin mask of GC-MERGE windows', async () => {
    const cacheDir = await fresh('c-gcmerge');
    const path = join(DATA, 'gcmerge_E116');
    const base = await loadCell(path, { cacheDir, flank: 3 });
    const hit = await loadCell(path, { cacheDir, flank: 3 });
    expect(hit.cache.status).toBe('hit');
    expect(hit.dataset.binMask).toBeDefined();
    expectSameDataset(hit.dataset, base.dataset);
  });

  it('cache: false neither reads nor writes', async () => {
    const cacheDir = await fresh('c-off');
    const r = await loadCell(cellPrefix, { cacheDir, cache: false });
    expect(r.cache).toEqual({ used: false, status: 'off' });
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('lives beside writable data, else in the fallback directory', async () => {
    const writable = await fresh('d-writable');
    expect(await resolveCacheDir(writable, { fallbackDir: '/nowhere' })).toBe(join(writable, '.simplechrome-cache'));
    const readOnly = await fresh('d-readonly');
    await chmod(readOnly, 0o555);
    // Even root (who could write there) leaves a directory marked read-only alone.
    expect(await resolveCacheDir(readOnly, { fallbackDir: join(root, 'fallback') })).toBe(join(root, 'fallback'));
    expect(await resolveCacheDir(readOnly, { cacheDir: join(root, 'explicit') })).toBe(join(root, 'explicit'));
    expect(await resolveCacheDir(DERIVED, { fallbackDir: join(root, 'fallback') })).toBe(join(root, 'fallback'));
    await chmod(readOnly, 0o755);

    // Default location for a writable cell: beside it.
    const r = await loadCell(cellPrefix);
    expect(r.cache.file?.startsWith(join(root, 'data', '.simplechrome-cache'))).toBe(true);
    expect((await loadCell(cellPrefix)).cache.status).toBe('hit');
  });

  it('encode/decode round trip, and a cache made for other sources is stale', async () => {
    const cacheDir = await fresh('c-roundtrip');
    const d = (await loadCell(join(DATA, 'gcmerge_E116'), { cacheDir, flank: 1 })).dataset;
    const identity: CacheIdentity = { layout: 'gcmerge', options: { flank: 1 }, sources: [...d.source] };
    const stamps = await stampSources(d.source);
    const decoded = decodeCache(encodeCache(d, identity, stamps), identity, stamps);
    expect('dataset' in decoded).toBe(true);
    if ('dataset' in decoded) expectSameDataset(decoded.dataset, d);
    const other = decodeCache(encodeCache(d, identity, stamps), { ...identity, options: { flank: 2 } }, stamps);
    expect(other).toEqual({ status: 'stale', reason: 'made for other sources or options' });
    // A reader's notes (e.g. repeated genes dropped) survive the cache, so a cached load still tells the user.
    const noted = decodeCache(encodeCache({ ...d, notes: ['dropped 1 repeated gene(s)'] }, identity, stamps), identity, stamps);
    expect('dataset' in noted && noted.dataset.notes).toEqual(['dropped 1 repeated gene(s)']);
  });
});

/** The real E003 sample repeated 33 times under new gene ids: 6,600 genes per split, the size of a DeepChrome cell. */
async function fullSizeCell(): Promise<string> {
  const dir = await fresh('full-size/E003/classification');
  for (const s of ['train', 'valid', 'test']) {
    const rows = gunzipSync(await readFile(`${cellPrefix}.${s}.csv.gz`)).toString('latin1');
    const copies = Array.from({ length: 33 }, (_, k) => rows.replace(/^(\d+),/gm, (_m, id: string) => `${k}${id},`));
    await writeFile(join(dir, `${s}.csv.gz`), gzipSync(copies.join(''), { level: 1 }));
  }
  return join(root, 'full-size', 'E003');
}

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = (c[at] as number) ^ 0x5a;
  return c;
}

function withVersion(b: Buffer, v: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt32LE(v, 8);
  return c;
}
