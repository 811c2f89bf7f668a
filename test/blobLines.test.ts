import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../src/checkpoint/safetensors.ts';
import { decodeSafetensorsAsync, decodeSafetensorsWith, encodeSafetensorsWith } from '../src/checkpoint/safetensorsCodec.ts';
import { blobLines, inMiB } from '../src/data/blobLines.ts';
import { datasetFingerprintAsync, datasetFingerprintWith } from '../src/checkpoint/datasetDigest.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';
import { readDeepChromeSplits } from '../src/data/deepchromeRows.ts';
import { jsSha256, subtleSha256Hex } from '../src/util/sha256.ts';

// What the page reads files with, run here in Node (which has Blob and
// DecompressionStream too): the same datasets and the same file:line errors
// as the command line's reader of the same bytes on disk.

const work = mkdtempSync(join(tmpdir(), 'simplechrome-blob-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rows = (gene: string, label: number, bins = 3): string =>
  Array.from({ length: bins }, (_, b) => `${gene},${b + 1},${b},1,2,3,4,${label}`).join('\n');
const GOOD = { train: `${rows('1', 0)}\n${rows('2', 1)}\n`, valid: `${rows('3', 0)}\n${rows('4', 1)}\n`, test: `${rows('5', 0)}\n${rows('6', 1)}\n` };

let cases = 0;
/** The three split files written to disk and held as Blobs; each reader's dataset or error message, with the directory taken off. */
async function bothReaders(contents: Record<'train' | 'valid' | 'test', string | Uint8Array>, gz = false): Promise<{ disk: unknown; page: unknown }> {
  const dir = join(work, `case${++cases}`);
  mkdirSync(dir);
  const blobs = new Map<string, Blob>();
  const files = (['train', 'valid', 'test'] as const).map((split) => {
    const name = `${split}.csv${gz ? '.gz' : ''}`;
    const bytes = contents[split];
    writeFileSync(join(dir, name), bytes);
    blobs.set(name, new Blob([typeof bytes === 'string' ? bytes : Uint8Array.from(bytes)]));
    return { split, path: name };
  });
  const outcome = (p: Promise<unknown>, strip: string) =>
    p.then(
      (ds) => {
        const d = ds as { features: Float32Array; labels: Uint8Array; geneIds: string[]; bins: number };
        return { features: Array.from(d.features), labels: Array.from(d.labels), geneIds: d.geneIds, bins: d.bins };
      },
      (e: unknown) => (e as Error).message.replaceAll(strip, ''),
    );
  return {
    disk: await outcome(readDeepChrome(dir), `${dir}/`),
    page: await outcome(readDeepChromeSplits(files, 'cell', blobLines(blobs)), '\0'),
  };
}

describe('the page reads files as the command line does', () => {
  it('the same dataset from plain and gzip files', async () => {
    const plain = await bothReaders(GOOD);
    expect(typeof plain.disk).toBe('object');
    expect(plain.page).toEqual(plain.disk);
    const gz = await bothReaders({ train: gzipSync(GOOD.train), valid: gzipSync(GOOD.valid), test: gzipSync(GOOD.test) }, true);
    expect(gz.page).toEqual(plain.disk);
  });

  it.each([
    ['a word where a count belongs', { ...GOOD, valid: GOOD.valid.replace('4,2,1,1,2,3,4,1', '4,2,1,x,2,3,4,1') }, /^valid\.csv:5: /],
    ['a blank line', { ...GOOD, test: `${rows('5', 0)}\n\n${rows('6', 1)}\n` }, /^test\.csv:4: blank line/],
    ['a header line', { ...GOOD, train: `gene,bin,a,b,c,d,e,label\n${GOOD.train}` }, /^train\.csv:1: .*header/],
    ['an empty file', { ...GOOD, train: '' }, /^train\.csv: empty file$/],
  ])('%s: the same message', async (_what, contents, pattern) => {
    const r = await bothReaders(contents);
    expect(r.disk).toMatch(pattern);
    expect(r.page).toBe(r.disk);
  });

  it('a file past the size limit is refused by its size, and a gzip inflating past it is stopped, naming the file and the limit', async () => {
    const limit = { maxBytes: 10_000, advice: '; use the command line' };
    const files = (['train', 'valid', 'test'] as const).map((split) => ({ split, path: `${split}.csv.gz` }));
    const read = (valid: Uint8Array<ArrayBuffer>): Promise<string> =>
      readDeepChromeSplits(files, 'cell', blobLines(new Map(files.map((f) => [f.path, new Blob([f.split === 'valid' ? valid : Uint8Array.from(gzipSync(GOOD[f.split]))])])), limit)).then(
        () => 'read',
        (e: unknown) => (e as Error).message,
      );
    expect(await read(Uint8Array.from(gzipSync(GOOD.valid)))).toBe('read');
    // One byte too many on disk: refused before a byte is read.
    expect(await read(new Uint8Array(10_001))).toBe('valid.csv.gz: 10001 bytes, more than the 10000 bytes this page reads of data files; use the command line');
    // A few KB of gzip holding 100 KB of valid rows: stopped at the limit, not at a line.
    const bomb = gzipSync(Array.from({ length: 1000 }, (_, g) => `${rows(String(g + 3), g % 2)}\n`).join(''));
    expect(bomb.length).toBeLessThan(10_000);
    expect(await read(Uint8Array.from(bomb))).toBe('valid.csv.gz: decompresses to more than 10000 bytes, the most text this page reads of a data file; stopped there; use the command line');
    expect(inMiB(256 * 2 ** 20)).toBe('256 MiB');
  });

  it('a truncated gzip file is reported as truncated by both, at the same line', async () => {
    const whole = gzipSync(GOOD.valid);
    const r = await bothReaders({ train: gzipSync(GOOD.train), valid: whole.subarray(0, whole.length - 6), test: gzipSync(GOOD.test) }, true);
    expect(r.disk).toMatch(/^valid\.csv\.gz:\d+: truncated gzip stream/);
    expect(String(r.page)).toMatch(/^valid\.csv\.gz:\d+: truncated gzip stream/);
    expect(String(r.page).split(':')[1]).toBe(String(r.disk).split(':')[1]);
  });
});

describe('checkpoints the page encodes', () => {
  it('record the fingerprint of the data that Node\'s hash gives, by WebCrypto off the main thread', async () => {
    const dir = join(work, 'fingerprint');
    mkdirSync(dir);
    for (const split of ['train', 'valid', 'test'] as const) writeFileSync(join(dir, `${split}.csv`), GOOD[split]);
    const ds = await readDeepChrome(dir);
    const node = datasetFingerprintWith(() => createHash('sha256'), ds);
    expect(node).toMatch(/^[0-9a-f]{64}$/);
    expect(await datasetFingerprintAsync(subtleSha256Hex, ds)).toBe(node);
    expect(datasetFingerprintWith(jsSha256, ds)).toBe(node);
  });

  it('plain JavaScript SHA-256 agrees with Node\'s, across block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 70_001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
      expect(jsSha256().update(bytes).update('gène').digest('hex')).toBe(createHash('sha256').update(bytes).update('gène').digest('hex'));
    }
  });

  it('are the bytes the command line writes, and decode with either hash', () => {
    const tensors = [{ name: 'w', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-7, 6]) }, { name: 'n', shape: [2], data: Uint32Array.from([7, 9]) }];
    const meta = { format: 'x', note: 'é' };
    const page = encodeSafetensorsWith(jsSha256, tensors, meta);
    expect(Buffer.from(page).equals(Buffer.from(encodeSafetensors(tensors, meta)))).toBe(true);
    const back = decodeSafetensorsWith(jsSha256, page, 'page.safetensors');
    expect(Array.from(back.tensors.get('w')?.data ?? [])).toEqual(Array.from(tensors[0]!.data));
    const damaged = Uint8Array.from(page);
    damaged[damaged.length - 1] ^= 1;
    expect(() => decodeSafetensorsWith(jsSha256, damaged, 'page.safetensors')).toThrow(/^page\.safetensors: checksum mismatch/);
    // The page's decoder: the same tensors and the same refusal, hashed by WebCrypto.
    return (async () => {
      const async = await decodeSafetensorsAsync(subtleSha256Hex, page, 'page.safetensors');
      expect(async).toEqual(decodeSafetensorsWith(jsSha256, page, 'page.safetensors'));
      await expect(decodeSafetensorsAsync(subtleSha256Hex, damaged, 'page.safetensors')).rejects.toThrow(/^page\.safetensors: checksum mismatch/);
    })();
  });
});
